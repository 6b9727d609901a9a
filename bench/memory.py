"""Peak resident memory of the running process, for the benchmarks that measure in a fresh child."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux ru_maxrss keeps the parent's high-water
    mark across fork + exec, so VmHWM (this process image's own peak) is read instead."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

"""Resident memory of benchmark processes, for the benchmarks that measure in a fresh child."""

from __future__ import annotations

import resource


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A memory line of /proc/<pid>/status (VmHWM, VmRSS) in MB; None where there is none."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux ru_maxrss keeps the parent's high-water
    mark across fork + exec, so VmHWM (this process image's own peak) is read instead."""
    peak = status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_kith(*args, check=True, env=None, timeout=300):
    """Run the real `kith` command line in a subprocess; return the CompletedProcess."""
    proc = subprocess.run(
        [sys.executable, "-m", "kith.flows.cli", *map(str, args)], capture_output=True, text=True,
        cwd=PROJECT_ROOT, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "COLUMNS": "200", **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f"kith {' '.join(map(str, args))} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def kith():
    return run_kith

"""Starting and stopping a test server as a child process on 127.0.0.1 (Radicale, Xandikos)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

STARTUP_TIMEOUT_S = 20


class ServerProcess:
    """What every HTTP test server shares: its process, its log and its scratch folder. A
    subclass has `root`, `url`, `log_path` and `process` attributes."""

    root: Path
    url: str
    log_path: Path
    process: subprocess.Popen | None

    def _spawn(self, args: list[str], probe_path: str, unavailable: type[Exception],
               name: str) -> None:
        """Start `args` in its own session, logging to `log_path`, and wait until GET
        `url + probe_path` answers; raise `unavailable` with the log's tail when it will not."""
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise unavailable(
                    f"{name} exited with status {self.process.returncode}: {self._log_tail()}")
            try:
                requests.get(self.url + probe_path, timeout=2)
                return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise unavailable(f"{name} did not answer on {self.url} within "
                                  f"{STARTUP_TIMEOUT_S}s: {self._log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-2000:].strip() or "(no log output)"

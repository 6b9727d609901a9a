"""A real terminal for a command line program: a pseudo-terminal (stdlib `pty`) the program
runs on as its stdin, stdout and stderr, keys written to it as a user types them, and what it
printed read back as plain text."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def _own_terminal() -> None:
    """In the child: a session of its own whose controlling terminal is the pseudo-terminal,
    as a shell sets up a command, so that Ctrl-C there sends it SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`kith ARGS...` on a pseudo-terminal of `columns` x `rows`."""

    def __init__(self, *args, columns: int = 160, rows: int = 50, env: dict | None = None):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kith.flows.cli", *map(str, args)],
            stdin=slave, stdout=slave, stderr=slave, cwd=PROJECT_ROOT, preexec_fn=_own_terminal,
            env={**environ, "PYTHONPATH": str(PROJECT_ROOT), "TERM": "xterm-256color",
                 **(env or {})})
        os.close(slave)
        self.master = master
        self.raw = b""
        self.seen = 0                     # how much of `text` expect() has consumed

    @property
    def text(self) -> str:
        """Everything printed so far, without colours and cursor codes."""
        return _ANSI.sub("", self.raw.decode("utf-8", "replace")).replace("\r\n", "\n")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:                   # EIO: the program has exited and closed the terminal
            return False
        if not chunk:
            return False
        self.raw += chunk
        return True

    def expect(self, pattern: str, timeout: float = 60) -> str:
        """Wait until `pattern` (a regular expression) is printed after what earlier calls
        consumed; return the text up to and including it."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text[self.seen:])
            if found:
                upto = self.seen + found.end()
                part, self.seen = self.text[self.seen:upto], upto
                return part
            if time.monotonic() > deadline or not self._read(0.1) and self.proc.poll() is not None:
                raise AssertionError(f"{pattern!r} not printed; the terminal shows:\n"
                                     f"{self.text[self.seen:]}")

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait(self, timeout: float = 120) -> int:
        """Read to the end and return the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < deadline:
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        code = self.proc.wait(max(deadline - time.monotonic(), 1))
        os.close(self.master)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass

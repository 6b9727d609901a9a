"""Ways a file goes bad on its way to kith, as plain functions over bytes.

Each mutation takes the file's bytes and a few numbers that say where and what (so Hypothesis can
draw and shrink them, and `bench/fuzz.py` can draw them from a seeded `random.Random`), and
returns new bytes. The seeds are real files: the shared corpus and the project's own fixtures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"

LONG_LINE = 2 * 1024 * 1024
ENCODINGS = ("utf-16", "utf-16-le", "utf-8-sig", "latin-1", "cp1252", "shift_jis", "koi8-r",
             "utf-32")
CONTROL = bytes([0, 1, 7, 8, 0x0B, 0x0C, 0x0E, 0x1A, 0x1B, 0x1F, 0x7F, 0x85, 0xA0, 0xFF, 0xFE])


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _at(n: int, fraction: float) -> int:
    return min(n - 1, int(fraction * n)) if n else 0


def truncate(data: bytes, where: float) -> bytes:
    return data[:int(where * len(data))]


def drop_line(data: bytes, where: float) -> bytes:
    lines = _lines(data)
    if lines:
        del lines[_at(len(lines), where)]
    return b"".join(lines)


def double_line(data: bytes, where: float) -> bytes:
    lines = _lines(data)
    if lines:
        i = _at(len(lines), where)
        lines.insert(i, lines[i])
    return b"".join(lines)


def swap_lines(data: bytes, where: float, other: float) -> bytes:
    lines = _lines(data)
    if len(lines) > 1:
        i, j = _at(len(lines), where), _at(len(lines), other)
        lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def flip_bytes(data: bytes, where: float, value: int, count: int) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    start = _at(len(out), where)
    for k in range(count):
        i = (start + k * 97) % len(out)
        out[i] ^= value or 0x55
    return bytes(out)


def insert_control(data: bytes, where: float, which: int, count: int) -> bytes:
    i = int(where * len(data))
    return data[:i] + bytes([CONTROL[which % len(CONTROL)]]) * count + data[i:]


def mix_line_endings(data: bytes, pattern: int) -> bytes:
    """Each line's ending becomes LF, CRLF, CR or CRCRLF, following the bits of `pattern`."""
    endings = (b"\n", b"\r\n", b"\r", b"\r\r\n")
    out = []
    for k, line in enumerate(_lines(data)):
        body = line.rstrip(b"\r\n")
        ending = endings[(pattern >> (2 * (k % 16))) & 3] if body != line else b""
        out.append(body + ending)
    return b"".join(out)


def remove_end_lines(data: bytes, which: int) -> bytes:
    """Remove the END: lines whose index among them is selected by the bits of `which` (all of
    them when `which` is 0)."""
    out, k = [], 0
    for line in _lines(data):
        if line.lstrip().upper().startswith(b"END:"):
            chosen = which == 0 or (which >> (k % 30)) & 1
            k += 1
            if chosen:
                continue
        out.append(line)
    return b"".join(out)


def reencode(data: bytes, which: int) -> bytes:
    text = data.decode("utf-8", "replace")
    return text.encode(ENCODINGS[which % len(ENCODINGS)], "replace")


def long_line(data: bytes, where: float, byte: int) -> bytes:
    """A 2 MB line (no line break in it) inserted at the start of a line."""
    lines = _lines(data)
    i = _at(len(lines) + 1, where)
    filler = bytes([byte if byte not in (10, 13) else 65]) * LONG_LINE + b"\r\n"
    return b"".join(lines[:i] + [filler] + lines[i:])


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[..., bytes]
    args: tuple

    def __call__(self, data: bytes) -> bytes:
        return self.apply(data, *self.args)

    def __repr__(self) -> str:
        return f"{self.name}{self.args!r}"


# name -> (function, argument kinds: "f" a fraction in [0, 1), "b" a byte, "n" a small count,
# "w" a 32-bit word)
MUTATIONS: dict[str, tuple[Callable[..., bytes], str]] = {
    "truncate": (truncate, "f"),
    "drop_line": (drop_line, "f"),
    "double_line": (double_line, "f"),
    "swap_lines": (swap_lines, "ff"),
    "flip_bytes": (flip_bytes, "fbn"),
    "insert_control": (insert_control, "fbn"),
    "mix_line_endings": (mix_line_endings, "w"),
    "remove_end_lines": (remove_end_lines, "w"),
    "reencode": (reencode, "b"),
    "long_line": (long_line, "fb"),
}


def random_mutation(rng: random.Random, name: str | None = None) -> Mutation:
    """One mutation with arguments drawn from `rng` (for the long run in bench/fuzz.py)."""
    name = name or rng.choice(list(MUTATIONS))
    function, kinds = MUTATIONS[name]
    draw = {"f": rng.random, "b": lambda: rng.randrange(256), "n": lambda: rng.randint(1, 8),
            "w": lambda: rng.getrandbits(32)}
    return Mutation(name, function, tuple(draw[k]() for k in kinds))


def mutate(data: bytes, mutations: list[Mutation]) -> bytes:
    for mutation in mutations:
        data = mutation(data)
    return data


# ---------------------------------------------------------------------------------------------
# Seeds: the files each connector starts from

def _files(folder: Path, *suffixes: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


# Seed files larger than this are left out: each example reads the whole file, often twice.
MAX_SEED = 256 * 1024


def seeds(kind: str) -> list[Path]:
    """The real files a connector's fuzzing starts from: the corpus's and the fixtures'."""
    if kind == "vcard":
        found = _files(CORPUS / "vcard", ".vcf") + _files(FIXTURES / "vcard", ".vcf")
    elif kind == "ics":
        found = _files(CORPUS / "ics", ".ics") + _files(FIXTURES / "ics", ".ics")
    elif kind == "contacts_csv":
        found = ([p for p in _files(CORPUS / "csv", ".csv") if not p.name.startswith("linkedin")]
                 + _files(FIXTURES / "csv", ".csv"))
    elif kind == "linkedin":
        found = ([p for p in _files(CORPUS / "csv", ".csv") if p.name.startswith("linkedin_Conn")]
                 + _files(FIXTURES / "linkedin", ".csv"))
    elif kind == "mail":
        found = (_files(CORPUS / "mbox", ".mbox", ".eml")
                 + [p for p in _files(FIXTURES / "mail", ".mbox", ".eml")])
    else:
        raise ValueError(kind)
    return [p for p in found if p.stat().st_size <= MAX_SEED]

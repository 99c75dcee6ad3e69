"""A zip archive written from parts already compressed: the officials' workbook reuses the
compressed rows of sheets whose rows did not change (`etl.outputs.xlsx`), and a feedback
copy the compressed parts of the clerk's workbook it does not change
(`etl.quality.xlsx_patch`), instead of compressing them again.

A member's data is a raw deflate stream made of segments. Each segment is compressed on
its own and ends on a byte boundary without ending the stream (`segment`: a sync flush), so
any run of segments followed by `END` is one valid stream, whatever compressed them when.
Its CRC-32 comes from the segments' CRCs (`crc32_combine`, as zlib's), never from the
uncompressed bytes. Plain zip only: a member or archive past 4 GiB, or more than 65,535
members, raises `TooLarge` and the caller writes the archive another way.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

LEVEL = 6  # zlib's default, as zipfile writes
END = b"\x03\x00"  # an empty final block: ends a stream of sync-flushed segments
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
_LIMIT = 0xFFFFFFFF
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, as the workbooks have always been dated
_DOS_TIME = 0


class TooLarge(Exception):
    """The archive needs zip64: write it with zipfile instead."""


@dataclass(frozen=True)
class Segment:
    """Compressed bytes of `size` uncompressed bytes whose CRC-32 is `crc`."""

    data: bytes
    size: int
    crc: int


def segment(text: bytes, level: int = LEVEL) -> Segment:
    """`text` compressed as a segment of a raw deflate stream (ends with a sync flush)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    data = compressor.compress(text) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return Segment(data, len(text), zlib.crc32(text))


# --- CRC-32 of two pieces from theirs (zlib's crc32_combine, multmodp and x2nmodp) ---------

_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a times b modulo the CRC-32 polynomial (reflected)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                break
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1
    return p


def _powers() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _powers()  # x^(2^n) modulo the polynomial


def _x2nmodp(n: int, k: int) -> int:
    """x^(n * 2^k) modulo the polynomial."""
    p = 1 << 31  # x^0
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from A's (`crc1`), B's (`crc2`) and B's length."""
    return _multmodp(_x2nmodp(length2, 3), crc1) ^ crc2


# --- members and the archive ---------------------------------------------------------------


@dataclass
class Member:
    """One member: its name and its compressed data, in pieces, with what the headers say."""

    name: str
    method: int = DEFLATED
    pieces: list[bytes] = field(default_factory=list)
    size: int = 0  # uncompressed
    crc: int = 0

    @classmethod
    def deflated(cls, name: str, text: bytes, level: int = LEVEL) -> Member:
        """A member compressed whole, in this process."""
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = compressor.compress(text) + compressor.flush()
        return cls(name, DEFLATED, [data], len(text), zlib.crc32(text))

    @classmethod
    def of_segments(cls, name: str, segments: list[Segment]) -> Member:
        """A deflated member made of `segments`, in order, then `END`."""
        crc = size = 0
        for piece in segments:
            crc = crc32_combine(crc, piece.crc, piece.size) if size else piece.crc
            size += piece.size
        return cls(name, DEFLATED, [s.data for s in segments] + [END], size, crc)

    @property
    def compressed_size(self) -> int:
        return sum(len(p) for p in self.pieces)


@dataclass(frozen=True)
class Written:
    offsets: dict[str, int]  # each member's data, from the file's start
    sha256: str | None  # of the whole file (None when not asked for)


def write(path: Path, members: list[Member], replace: bool = True, hashed: bool = True) -> Written:
    """Write `members` to `path`: replaced whole (written beside it, then renamed), or, not
    `replace`, written in place (a temporary file the caller renames). Streamed: the
    pieces are not joined in memory. `hashed`: the file's SHA-256 computed as it is written
    (a feedback copy, written once per file, does not keep it)."""
    names = [member.name.encode("utf-8") for member in members]
    local = sum(30 + len(n) + m.compressed_size for n, m in zip(names, members, strict=True))
    directory_size = sum(46 + len(n) for n in names)
    if len(members) >= 0xFFFF or local + directory_size > _LIMIT:
        raise TooLarge("a zip64 archive")
    if any(member.size > _LIMIT for member in members):
        raise TooLarge("a zip64 member")
    target = path if not replace else path.with_name(f".{path.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256() if hashed else None
    central, offsets = [], {}
    try:
        with target.open("wb") as handle:
            position = 0

            def out(data: bytes) -> None:
                nonlocal position
                handle.write(data)
                if digest is not None:
                    digest.update(data)
                position += len(data)

            for name, member in zip(names, members, strict=True):
                flags = 0x800 if not member.name.isascii() else 0
                offset = position
                fields = (
                    20, flags, member.method, _DOS_TIME, _DOS_DATE, member.crc,
                    member.compressed_size, member.size,
                )  # fmt: skip
                out(struct.pack("<4s5HL2L2H", b"PK\x03\x04", *fields, len(name), 0) + name)
                offsets[member.name] = position
                for piece in member.pieces:
                    out(piece)
                entry = (b"PK\x01\x02", 20, *fields, len(name), 0, 0, 0, 0, 0, offset)
                central.append(struct.pack("<4s6HL2L5H2L", *entry) + name)
            start = position
            directory = b"".join(central)
            out(directory)
            count = len(members)
            end = (b"PK\x05\x06", 0, 0, count, count, len(directory), start, 0)
            out(struct.pack("<4s4H2LH", *end))
        if replace:
            os.replace(target, path)
    finally:
        if replace:
            target.unlink(missing_ok=True)
    return Written(offsets, digest.hexdigest() if digest is not None else None)


@dataclass(frozen=True)
class Raw:
    """A member of an existing archive as it is stored: method, CRC, sizes and data."""

    method: int
    crc: int
    size: int
    data: bytes


def raw_members(blob: bytes, archive: zipfile.ZipFile) -> dict[str, Raw]:
    """The stored (compressed) data of every member of `archive`, opened on `blob`."""
    found = {}
    for info in archive.infolist():
        at = info.header_offset
        head = blob[at : at + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"{info.filename}: no local header")
        name_length, extra_length = struct.unpack("<2H", head[26:30])
        start = at + 30 + name_length + extra_length
        data = blob[start : start + info.compress_size]
        if len(data) != info.compress_size:
            raise zipfile.BadZipFile(f"{info.filename}: truncated")
        found[info.filename] = Raw(info.compress_type, info.CRC, info.file_size, data)
    return found

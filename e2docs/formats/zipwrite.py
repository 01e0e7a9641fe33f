"""Write a zip file from members deflated ahead of time.

:mod:`zipfile` compresses every member it writes; a package written many times with a few
members changed (:mod:`e2docs.formats.xlsx.template`) compresses its other members once and
copies them. A member is kept as its raw deflate stream, CRC-32 and sizes (ZIP application
note, APPNOTE.TXT 6.3: local file headers with the sizes, no data descriptors, no Zip64: every
member and the whole file stay under 4 GiB), dated 1 January 1980 as XlsxWriter dates them.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 6
"""zlib's default compression level: within a few per cent of the smallest file, several times
faster than level 9."""

_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Member:
    """One member: its name, its raw deflate stream (``data``), the CRC-32 and the size of what it holds."""

    name: str
    data: bytes
    crc: int
    size: int


def deflated(name: str, content: bytes, level: int = LEVEL) -> Member:
    """The member ``name`` holding ``content``, compressed at ``level`` (0-9)."""
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Member(name, c.compress(content) + c.flush(), zlib.crc32(content), len(content))


class Prefix:
    """A member's first bytes, compressed once; :meth:`member` adds the rest for each copy.

    The compressor's state after the prefix is copied (``zlib.Compress.copy``), so each copy
    compresses only its own ending and the stream is the one compressing the whole would give.
    """

    def __init__(self, name: str, prefix: bytes, level: int = LEVEL):
        self.name = name
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        self._head = self._compressor.compress(prefix)
        self._crc = zlib.crc32(prefix)
        self._size = len(prefix)

    def member(self, rest: bytes) -> Member:
        """The member holding the prefix then ``rest``."""
        c = self._compressor.copy()
        data = self._head + c.compress(rest) + c.flush()
        return Member(self.name, data, zlib.crc32(rest, self._crc), self._size + len(rest))


def zip_bytes(members: Sequence[Member]) -> bytes:
    """The bytes of a zip file holding ``members`` in this order (names UTF-8, flagged so when not ASCII).

    Raises ``ValueError`` when a member or the file would need Zip64 (4 GiB or more)."""
    out: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0 if name.isascii() else 0x0800
        if max(len(m.data), m.size, offset) >= _LIMIT:
            raise ValueError(f"zip member too large for a plain zip file: {m.name}")
        local = _LOCAL.pack(0x04034B50, 20, flags, 8, _DOS_TIME, _DOS_DATE, m.crc, len(m.data), m.size, len(name), 0)
        central.append(
            _CENTRAL.pack(
                0x02014B50,
                20,
                20,
                flags,
                8,
                _DOS_TIME,
                _DOS_DATE,
                m.crc,
                len(m.data),
                m.size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        out += (local, name, m.data)
        offset += len(local) + len(name) + len(m.data)
    directory = b"".join(central)
    if offset + len(directory) >= _LIMIT:
        raise ValueError("zip file too large for a plain zip file")
    end = _END.pack(0x06054B50, 0, 0, len(members), len(members), len(directory), offset, 0)
    return b"".join(out) + directory + end

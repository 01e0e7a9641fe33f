"""Zip packages written from members already compressed: copied as they are, never recompressed.

A Word document rendered from a template differs from it in a few parts (the body, the headers
and footers); the others (styles, theme, numbering… 95 % of the package) are the same bytes in
every document. :func:`read_members` takes them once from a package, compressed, and
:func:`write_zip` writes a package from such members and new ones (compressed here, with
zlib's level 6 as :mod:`zipfile` does), without the cost of deflating the unchanged parts again.

Only what Office packages need is supported: no ZIP64 (members and packages under 4 GiB),
no encryption, methods "stored" and "deflated".
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_LIMIT = 0xFFFFFFFF
LEVEL = 6  # zipfile's default level for ZIP_DEFLATED (zlib.Z_DEFAULT_COMPRESSION)


@dataclass(frozen=True)
class Member:
    """One member of a zip package, compressed: ``name`` (as in the package, ``word/styles.xml``),
    ``method`` (:data:`zipfile.ZIP_STORED` or :data:`zipfile.ZIP_DEFLATED`), ``crc`` (CRC-32 of the
    uncompressed bytes), ``size`` (uncompressed, bytes) and ``data`` (the compressed bytes)."""

    name: str
    method: int
    crc: int
    size: int
    data: bytes


def compress(name: str, content: bytes) -> Member:
    """``content`` as a deflated member ``name``."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    data = packer.compress(content) + packer.flush()
    return Member(name, zipfile.ZIP_DEFLATED, zlib.crc32(content), len(content), data)


def compress_parts(name: str, parts: Iterable[bytes | memoryview]) -> Member:
    """The concatenation of ``parts`` as a deflated member ``name``, without joining them first (a
    class record's body is millions of bytes)."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    crc, size, out = 0, 0, []
    for part in parts:
        crc = zlib.crc32(part, crc)
        size += len(part)
        out.append(packer.compress(part))
    out.append(packer.flush())
    return Member(name, zipfile.ZIP_DEFLATED, crc, size, b"".join(out))


def content(member: Member) -> bytes:
    """The uncompressed bytes of ``member``."""
    if member.method == zipfile.ZIP_STORED:
        return member.data
    return zlib.decompress(member.data, -15)


def read_members(package: bytes) -> list[Member]:
    """The members of the zip ``package``, in its order, with their compressed bytes.

    Raises :class:`zipfile.BadZipFile` for a damaged package and :class:`ValueError` for a member
    this module cannot copy (encrypted, ZIP64, another compression method)."""
    import io

    out: list[Member] = []
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        for info in zf.infolist():
            if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ValueError(f"membre {info.filename} chiffré ou compressé autrement")
            if max(info.compress_size, info.file_size, info.header_offset) >= _LIMIT:
                raise ValueError(f"membre {info.filename} trop grand (ZIP64)")
            head = _LOCAL.unpack_from(package, info.header_offset)
            if head[0] != b"PK\x03\x04":
                raise zipfile.BadZipFile(f"en-tête local absent pour {info.filename}")
            start = info.header_offset + _LOCAL.size + head[9] + head[10]
            data = package[start : start + info.compress_size]
            if len(data) != info.compress_size:
                raise zipfile.BadZipFile(f"membre {info.filename} tronqué")
            out.append(Member(info.filename, info.compress_type, info.CRC, info.file_size, data))
    return out


def _dos_time(when: float) -> tuple[int, int]:
    """(DOS time, DOS date) of ``when`` (seconds since the epoch, local time, as zipfile writes)."""
    t = time.localtime(when)
    year = max(t.tm_year, 1980)
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday


def write_zip(members: Iterable[Member], when: float | None = None) -> bytes:
    """A zip package holding ``members`` in that order, dated ``when`` (default: now).

    Raises :class:`ValueError` when a member or the package would need ZIP64 (4 GiB)."""
    dtime, ddate = _dos_time(time.time() if when is None else when)
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    count = 0
    for m in members:
        name = m.name.encode("utf-8")
        flags = 0x800 if not m.name.isascii() else 0
        version = 20
        if max(len(m.data), m.size, offset) >= _LIMIT:
            raise ValueError(f"membre {m.name} trop grand pour un paquet zip sans ZIP64")
        local = _LOCAL.pack(
            b"PK\x03\x04", version, flags, m.method, dtime, ddate, m.crc, len(m.data), m.size, len(name), 0
        )
        chunks += [local, name, m.data]
        central.append(
            _CENTRAL.pack(
                b"PK\x01\x02",
                (3 << 8) | version,  # made by: Unix, as zipfile does on Linux and macOS
                version,
                flags,
                m.method,
                dtime,
                ddate,
                m.crc,
                len(m.data),
                m.size,
                len(name),
                0,
                0,
                0,
                0,
                (0o100644 << 16),  # a regular file, rw-r--r--
                offset,
            )
            + name
        )
        offset += len(local) + len(name) + len(m.data)
        count += 1
    directory = b"".join(central)
    if offset + len(directory) >= _LIMIT or count >= 0xFFFF:
        raise ValueError("paquet zip trop grand sans ZIP64")
    end = _END.pack(b"PK\x05\x06", 0, 0, count, count, len(directory), offset, 0)
    return b"".join([*chunks, directory, end])

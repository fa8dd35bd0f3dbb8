"""ICU's data library cut to what an English-only Qt application uses (Linux bundle).

Qt links ICU, and ICU's data library (``libicudata.so.NN``, about 32 MB) holds one common data
package: the data of every locale of the world for collation, word breaking, unit, currency,
language, region and time-zone names and transliteration, plus the character-set converters and
the core tables. allscope is English only (Qt's own translations are already left out). This
writes the same package with the converters, the core tables, the supplemental data and the root
and English locales, and drops the other locales' data and the word-break dictionaries (Qt does
its own text boundaries). A locale that was dropped falls back to root data, which is what ICU
does for any locale it has no data for. About 24 MB less.

The package format ("CmnD", ICU's ``udata`` common data): a data header, then a table of
contents of (name offset, data offset) pairs counted from the table's start, sorted by name,
then the names, then each item 16-byte aligned.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

SYMBOL = re.compile(r"^icudt\d+_dat$")
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*$")  # af, en_US_POSIX, az_Cyrl_AZ ...
# kept: root, English, and res_index (each folder's list of the locales it holds)
KEPT_LOCALES = re.compile(r"^(root|res_index|en(_[A-Za-z0-9]+)*)$")
DROPPED = ("brkitr/",)  # word-break rules and dictionaries: Qt's text boundaries are its own


def data_symbol(library: Path) -> tuple[str, int, int]:
    """(name, file offset, size) of the data symbol in the library."""
    symbols = subprocess.run(["readelf", "-sW", str(library)], capture_output=True, text=True,
                             check=True).stdout
    for line in symbols.splitlines():
        fields = line.split()
        if len(fields) >= 8 and SYMBOL.match(fields[7]):
            name, address, size = fields[7], int(fields[1], 16), int(fields[2], 0)
            break
    else:
        raise ValueError(f"{library}: no icudtNN_dat symbol")
    sections = subprocess.run(["readelf", "-SW", str(library)], capture_output=True, text=True,
                              check=True).stdout
    for line in sections.splitlines():
        fields = line.split("]", 1)[-1].split()
        if len(fields) >= 5 and fields[1] == "PROGBITS":
            start, offset, length = int(fields[2], 16), int(fields[3], 16), int(fields[4], 16)
            if start <= address < start + length:
                return name, address - start + offset, size
    raise ValueError(f"{library}: the section holding {name} was not found")


def read_package(blob: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """(header, [(item name, item bytes)]) of a common data package."""
    header_size = struct.unpack_from("<H", blob, 0)[0]
    # magic 0xda27, then UDataInfo: little-endian (byte 8 is 0), data format "CmnD"
    if blob[2:4] != b"\xda\x27" or blob[8] != 0 or blob[12:16] != b"CmnD":
        raise ValueError("not a little-endian ICU common data package (CmnD)")
    toc = header_size
    count = struct.unpack_from("<I", blob, toc)[0]
    entries = [struct.unpack_from("<II", blob, toc + 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(entries):
        name = blob[toc + name_at: blob.index(b"\0", toc + name_at)].decode("ascii")
        end = toc + entries[i + 1][1] if i + 1 < count else len(blob)
        items.append((name, blob[toc + data_at: end]))
    return blob[:header_size], items


def write_package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """The package bytes for ``items`` (kept in name order, as ICU searches them)."""
    items = sorted(items, key=lambda item: item[0].encode("ascii"))
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    table = 4 + 8 * len(items)
    data_start = -(-(len(header) + table + len(names)) // 16) * 16 - len(header)
    name_at, data_at, entries, body = table, data_start, [], bytearray()
    for name, data in items:
        entries.append((name_at, data_at))
        name_at += len(name) + 1
        padded = data + b"\0" * (-len(data) % 16)
        body += padded
        data_at += len(padded)
    toc = struct.pack("<I", len(items)) + b"".join(struct.pack("<II", *e) for e in entries)
    gap = b"\0" * (data_start - table - len(names))
    return header + toc + names + gap + bytes(body)


def kept(name: str) -> bool:
    """Whether an item (``icudt73l/coll/de.res``) stays: anything but a non-English locale's
    data and the word-break data."""
    path = name.split("/", 1)[1]
    if path.startswith(DROPPED):
        return False
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return not (path.endswith(".res") and LOCALE.match(stem) and not KEPT_LOCALES.match(stem))


def build_library(library: Path, out_dir: Path) -> Path | None:
    """``library`` rebuilt with the kept items, under its own name in ``out_dir``; None, with
    the reason printed, when no C compiler is at hand."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        print("WARNING: no C compiler: the bundle keeps ICU's full data (+24 MB)")
        return None
    symbol, offset, size = data_symbol(library)
    header, items = read_package(library.read_bytes()[offset: offset + size])
    out_dir.mkdir(parents=True, exist_ok=True)
    package = out_dir / "icudata.dat"
    package.write_bytes(write_package(header, [item for item in items if kept(item[0])]))
    source = out_dir / "icudata.S"
    source.write_text(
        f'.section .rodata\n.globl {symbol}\n.type {symbol}, @object\n.balign 16\n'
        f'{symbol}:\n.incbin "{package}"\n.size {symbol}, . - {symbol}\n'
        '.section .note.GNU-stack,"",@progbits\n'
    )
    out = out_dir / library.name
    subprocess.run([compiler, "-shared", "-nostdlib", "-o", str(out), str(source),
                    f"-Wl,-soname,{library.name}"], check=True)
    return out

"""Store a PDF font of resources/fonts/ xz-compressed, as reports/pdf_fonts.py reads it.

Usage (from the repository root)::

    .venv/bin/python tools/compress_fonts.py FONT.ttf [FONT.ttf ...] [--out resources/fonts]

writes ``<out>/FONT.ttf.xz`` for each file: the font byte for byte, compressed
with LZMA2 (``xz -9e``, dictionary just big enough for the file, CRC-32). The
output depends only on the input, so re-running it on the same font gives the
same file. The fallback faces (HanaMinB.ttf, HanaMinA-ext.ttf) and the 宋体
face (gbsn00lp.ttf) are stored this way: about 30 MB less in the repository,
the wheel and the PyInstaller bundle; reports/pdf_fonts.py decompresses a face
in memory the first time a PDF needs it. The sources are named in the
``*.COPYRIGHT.txt`` file next to each font.

Fonts that something other than reportlab opens by file name (wqy-microhei.ttc:
Qt loads it with QFontDatabase.addApplicationFont) must stay uncompressed.
"""

from __future__ import annotations

import argparse
import hashlib
import lzma
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def compress(data: bytes) -> bytes:
    """``data`` as an .xz stream (deterministic for a given input)."""
    dict_size = 1 << 20
    while dict_size < len(data) and dict_size < 1 << 26:  # up to 64 MiB, xz -9's own
        dict_size <<= 1
    return lzma.compress(
        data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
        filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME,
                  "dict_size": dict_size}],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("fonts", nargs="+", type=Path, metavar="FONT.ttf")
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "fonts",
                        help="folder for the .xz files (default: resources/fonts)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for font in args.fonts:
        data = font.read_bytes()
        if data[:4] not in (b"\x00\x01\x00\x00", b"true", b"ttcf"):
            print(f"{font}: not a TrueType font (.ttf/.ttc)", file=sys.stderr)
            return 1
        packed = compress(data)
        if lzma.decompress(packed) != data:  # paranoia: never ship a font that differs
            print(f"{font}: round trip failed", file=sys.stderr)
            return 1
        target = args.out / f"{font.name}.xz"
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(packed)
        tmp.replace(target)
        print(f"{target}: {len(data):,} -> {len(packed):,} bytes, "
              f"sha256 of the font {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The bundled PDF fonts and glyph fallback for rare characters.

reportlab embeds TrueType outlines only (a subset of the glyphs used), so every
face here is a ``.ttf``/``.ttc`` with ``glyf`` outlines:

- :data:`SANS` — WenQuanYi Micro Hei (黑体 style): tables, figures, body text.
  Covers GB 18030's CJK Unified Ideographs (U+4E00–U+9FA5 and more).
- :data:`SONG` — AR PL SungtiL GB (宋体 style, GB 2312): titles and headings.
- :data:`EXT_A` — HanaMinA, cut down to the BMP characters WenQuanYi lacks
  (CJK Ext A such as 䶮, compatibility ideographs, radicals).
- :data:`EXT_B` — HanaMinB: plane 2 (CJK Ext B–F, e.g. 𡉃).

A string is typeset as *runs*: each character goes to the first face of the
chain that has a glyph for it (checked in the face's ``cmap``), so a name with
𡉃 in a 宋体 title prints 𡉃 from HanaMinB instead of a silent box. A character
no bundled face has is printed as 〓 (the typesetters' mark for a missing
character) and reported through :class:`MissingChars`.

The fallback faces are large (HanaMinB is 30 MB) and loaded only when a text
needs them. Everything is registered once per process, thread-safely.

The three faces only reportlab reads are stored xz-compressed (``*.ttf.xz``,
made with tools/compress_fonts.py: 41 MB -> 17 MB in the repository and the
bundle) and decompressed in memory when first loaded, once per process: about
0.7 s for HanaMinB (instead of 0.1 s) and 0.1 s for each of the others on a
2-core machine. reportlab reads a whole font file into memory anyway, so only
the decoder's buffers are extra (~55 MB, freed at once) and no cache file is
written.
WenQuanYi stays a plain ``.ttc``: Qt loads it by file name for the interface.
"""

from __future__ import annotations

import lzma
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import textsplit
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import paragraph

import resources

SANS = "KepuSans"
SONG = "KepuSong"
EXT_A = "KepuHanaMinA"
EXT_B = "KepuHanaMinB"

FONT_FILES: dict[str, tuple[Path, int]] = {
    SANS: (resources.FONT_SANS, 0),
    SONG: (resources.path("fonts", "gbsn00lp.ttf.xz"), 0),
    EXT_A: (resources.path("fonts", "HanaMinA-ext.ttf.xz"), 0),
    EXT_B: (resources.path("fonts", "HanaMinB.ttf.xz"), 0),
}

# Which faces a text set in a given base face falls back to, in order.
CHAINS: dict[str, tuple[str, ...]] = {
    SANS: (SANS, EXT_A, EXT_B),
    SONG: (SONG, SANS, EXT_A, EXT_B),
}

MISSING_MARK = "〓"  # U+3013 GETA MARK, in WenQuanYi Micro Hei

_lock = threading.RLock()
_fonts: dict[str, ttfonts.TTFont] = {}
_cmaps: dict[str, dict[int, int]] = {}
_patched = False


def _to_unicode_cmap(fontname: str, subset: Sequence[int]) -> str:
    """Reportlab's ToUnicode CMap, with characters beyond U+FFFF as UTF-16 pairs.

    reportlab (5.x) writes ``<21243>`` for 𡉃, which is not UTF-16BE; text
    extraction and copy-paste then lose every plane-2 character. Identical to
    reportlab's output for the BMP.
    """

    def utf16(code: int) -> str:
        if code <= 0xFFFF:
            return f"{code:04X}"
        code -= 0x10000
        return f"{0xD800 + (code >> 10):04X}{0xDC00 + (code & 0x3FF):04X}"

    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({fontname})",
        f"/Ordering ({fontname})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return "\n".join(lines)


# Chinese punctuation that must not begin a line (GB/T 15834 and common
# typesetting practice); reportlab's list has ）、。 but not ，：；？！”’》.
_NO_LINE_START = "，．：；？！”’》〉」』】〕…·％‰℃"
NO_LINE_START = textsplit.ALL_CANNOT_START + "".join(
    c for c in _NO_LINE_START if c not in textsplit.ALL_CANNOT_START)


def _patch_reportlab() -> None:
    """Process-wide settings of reportlab, applied once before the first PDF:
    no ASCII85 streams, correct plane-2 ToUnicode entries, and Chinese
    line-start punctuation for ``wordWrap="CJK"`` (the wrapper hangs such a
    character at the line end).
    """
    global _patched
    if not _patched:
        # Binary streams as they are: ASCII85 (reportlab's default) makes every
        # embedded JPEG 25 % bigger and buys nothing for a file written to disk.
        rl_config.useA85 = 0
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap
        # Both wrappers: one-font paragraphs go through textsplit, mixed ones
        # through paragraph.cjkFragSplit; each reads its module's copy.
        for module in (textsplit, paragraph):
            extra = "".join(c for c in _NO_LINE_START if c not in module.ALL_CANNOT_START)
            module.ALL_CANNOT_START += extra
        _patched = True


class _FontBytes:
    """A decompressed font for reportlab's TTFont, which takes a file name or an
    object with ``read()`` (and uses ``name`` in messages and as the PDF object key).
    """

    def __init__(self, file: Path) -> None:
        self.name = str(file)
        self._data = lzma.decompress(file.read_bytes())

    def read(self) -> bytes:
        return self._data


def font_source(file: Path) -> str | _FontBytes:
    """What to pass to reportlab's ``TTFont`` for a bundled font file: the path of a
    ``.ttf``/``.ttc``, the decompressed bytes of a ``.ttf.xz``.
    """
    return _FontBytes(file) if file.suffix == ".xz" else str(file)


def _load(name: str) -> ttfonts.TTFont:
    """Register one face (once) and return it."""
    with _lock:
        font = _fonts.get(name)
        if font is not None:
            return font
        _patch_reportlab()
        file, index = FONT_FILES[name]
        # Registered earlier by someone else? (Not getFont on a new name: it searches
        # every Type 1 font folder for an .afm first, a quarter of a second each.)
        if name in pdfmetrics.getRegisteredFontNames():
            font = pdfmetrics.getFont(name)
        else:
            font = ttfonts.TTFont(name, font_source(file), subfontIndex=index)
            pdfmetrics.registerFont(font)
            # No bold or italic faces: <b>/<i> in a Paragraph keep the same face.
            pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name,
                                          boldItalic=name)
        _cmaps[name] = font.face.charToGlyph
        _fonts[name] = font
        return font


def register_fonts() -> None:
    """Register the two text faces (the fallbacks load when first needed)."""
    _load(SANS)
    _load(SONG)


def has_glyph(font: str, ch: str) -> bool:
    """Whether the bundled face ``font`` has a glyph for the character ``ch``."""
    cmap = _cmaps.get(font)
    if cmap is None:
        _load(font)
        cmap = _cmaps[font]
    return ord(ch) in cmap


def _ignorable(ch: str) -> bool:
    """Characters that print nothing: variation selectors (IVS in names), zero
    widths, controls. They are dropped, not reported.
    """
    code = ord(ch)
    return (
        0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or code in (0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)
        or unicodedata.category(ch) == "Cc"
    )


@dataclass(frozen=True)
class Run:
    """A piece of text set in one face."""

    font: str
    text: str


def split_runs(text: str, base: str = SANS,
               missing: Callable[[str], None] | None = None) -> list[Run]:
    """Split ``text`` into runs by the first face of ``base``'s chain that has each glyph.

    Args:
        text: one line of text (no markup).
        base: :data:`SANS` or :data:`SONG`.
        missing: called with each character no bundled face has; it is printed as
            :data:`MISSING_MARK`.

    """
    base_cmap = _cmaps.get(base)
    if base_cmap is None:
        _load(base)
        base_cmap = _cmaps[base]
    if all(ord(c) in base_cmap for c in text):  # the usual case: no fallback at all
        return [Run(base, text)] if text else []
    chain = CHAINS.get(base, (base,))
    runs: list[Run] = []
    current_font, current = base, []
    for ch in text:
        if ch in "\t\n\r":
            ch = " "
        elif _ignorable(ch):
            continue
        font = next((f for f in chain if has_glyph(f, ch)), None)
        if font is None:
            if missing is not None:
                missing(ch)
            ch, font = MISSING_MARK, SANS
        if font != current_font and current:
            runs.append(Run(current_font, "".join(current)))
            current = []
        current_font = font
        current.append(ch)
    if current:
        runs.append(Run(current_font, "".join(current)))
    return runs


def needs_fallback(text: str, base: str = SANS) -> bool:
    """Whether ``text`` has a character the face ``base`` lacks."""
    base_cmap = _cmaps.get(base)
    if base_cmap is None:
        _load(base)
        base_cmap = _cmaps[base]
    return not all(ord(c) in base_cmap for c in text)


def markup(text: str, base: str = SANS, missing: Callable[[str], None] | None = None) -> str:
    """``text`` as Paragraph markup: escaped, fallback runs in ``<font name>``, newlines
    as ``<br/>``. The Paragraph's own style font must be ``base``.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for line in lines:
        parts = []
        for run in split_runs(line, base, missing):
            if run.font == base:
                parts.append(escape(run.text))
            else:
                parts.append(f'<font name="{run.font}">{escape(run.text)}</font>')
        out.append("".join(parts))
    return "<br/>".join(out)


def string_width(text: str, font: str, size: float) -> float:
    """Width in points of ``text`` set in ``font``'s chain."""
    return sum(pdfmetrics.stringWidth(r.text, r.font, size) for r in split_runs(text, font))


def draw_string(canvas: Canvas, x: float, y: float, text: str, font: str, size: float,
                align: str = "left", missing: Callable[[str], None] | None = None) -> float:
    """Draw one line on a canvas run by run; ``align`` is left, centre or right.

    Returns:
        The width drawn.

    """
    runs = split_runs(text, font, missing)
    widths = [pdfmetrics.stringWidth(r.text, r.font, size) for r in runs]
    total = sum(widths)
    if align == "centre":
        x -= total / 2
    elif align == "right":
        x -= total
    for run, width in zip(runs, widths, strict=True):
        canvas.setFont(run.font, size)
        canvas.drawString(x, y, run.text)
        x += width
    return total


class MissingChars:
    """Characters that no bundled face can print, by the record they occur in."""

    def __init__(self) -> None:
        self._by_record: dict[str, list[str]] = {}

    def collector(self, record: str) -> Callable[[str], None]:
        """A ``missing`` callback for :func:`markup`/:func:`split_runs` that notes
        characters under ``record`` (e.g. "活动：某某讲座").
        """

        def note(ch: str) -> None:
            chars = self._by_record.setdefault(record, [])
            if ch not in chars:
                chars.append(ch)

        return note

    def add(self, record: str, chars: Iterable[str]) -> None:
        """Note ``chars`` as unprintable in ``record``."""
        note = self.collector(record)
        for ch in chars:
            note(ch)

    def __bool__(self) -> bool:
        return bool(self._by_record)

    def warnings(self) -> list[str]:
        """One Chinese warning per record, e.g.
        ``以下记录含有无法打印的字：“”(U+E000)（活动：某某讲座），已印作“〓”``.
        """
        return [
            "以下记录含有无法打印的字："
            + "、".join(f"“{c}”(U+{ord(c):04X})" for c in chars)
            + f"（{record}），已印作“{MISSING_MARK}”，请核对后手写补正"
            for record, chars in self._by_record.items()
        ]


_NO_LINE_END = "“‘（《〈「『【〔［｛([{"


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".-_/%")


def wrap_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Break one-face ``text`` into lines no wider than ``width`` points.

    The fast path for table cells (no Paragraph is built): Chinese breaks between
    any two characters, except that closing punctuation (，。）” …) never starts a
    line (the character before it moves down with it), opening punctuation (（“《 …)
    never ends one, and a run of Latin letters or digits (2025, APP) is not split
    unless it is longer than a line. Use :func:`needs_fallback` first: every
    character must be in ``font``.
    """
    face = _load(font).face
    widths, default = face.charWidths, face.defaultWidth
    scale = size / 1000.0
    lines: list[str] = []
    for para in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        start, used, i, n = 0, 0.0, 0, len(para)
        while i < n:
            ch = para[i]
            w = widths.get(ord(ch), default) * scale
            if used + w <= width or i == start:
                used += w
                i += 1
                continue
            cut = i
            if ch in NO_LINE_START:
                # Take characters along rather than overflow the cell.
                while cut - 1 > start and para[cut] in NO_LINE_START:
                    cut -= 1
                if para[cut] in NO_LINE_START:  # a line of punctuation: give up
                    cut = i
                elif cut - 1 > start and para[cut - 1] in _NO_LINE_END:
                    cut -= 1
            elif cut - 1 > start and para[cut - 1] in _NO_LINE_END:
                cut -= 1
            elif _is_word_char(ch) and _is_word_char(para[cut - 1]):
                j = cut - 1
                while j > start and _is_word_char(para[j - 1]):
                    j -= 1
                if j > start:
                    cut = j
            lines.append(para[start:cut])
            start, i, used = cut, cut, 0.0
        if start < n or not n:
            lines.append(para[start:])
    return lines

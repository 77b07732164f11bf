"""Reading a workbook (.xlsx, .xlsm, .xls, .ods) into plain rows with python-calamine.

Cells keep the type calamine gives them: ``str`` (``""`` for an empty cell),
``float`` (every number, e.g. ``13812345678.0``), ``int``, ``bool``, ``date`` /
``datetime`` for real date cells, ``time`` / ``timedelta`` rarely. Rows start at
the sheet's first row (index 0 is Excel row 1) so that row numbers shown to the
clerk are the ones Excel shows. A merged range holds its value in every cell it
covers, the way a person reads it (a 村 column merged over five rows belongs to
all five people; a two-row header whose upper cell spans two columns names both).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import os
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import python_calamine

from db.errors import KepuError

Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta
SUPPORTED = (".xlsx", ".xlsm", ".xls", ".ods")
# calamine holds a sheet as a dense grid from A1 to its last cell (about 32 bytes a cell):
# one stray value at XFD1048576 would ask for half a terabyte and abort the program.
MAX_CELLS = 20_000_000


@dataclass(frozen=True)
class SheetData:
    """One worksheet as read: its name and its rows of cell values.

    ``rows[i]`` is Excel row ``i + 1``; every row has ``width`` cells.
    """

    name: str
    rows: list[list[Cell]] = field(repr=False)
    hidden: bool = False
    merged: tuple[tuple[int, int, int, int], ...] = ()  # (row0, col0, row1, col1), inclusive
    source: str = ""  # the file name, for messages and the audit log

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0

    def cell(self, row: int, col: int) -> Cell:
        """The value at a 0-based position, ``""`` outside the data."""
        if 0 <= row < len(self.rows):
            values = self.rows[row]
            if 0 <= col < len(values):
                return values[col]
        return ""


def _fill_merged(rows: list[list[Cell]], ranges: list[tuple[tuple[int, int], tuple[int, int]]]
                 ) -> tuple[tuple[int, int, int, int], ...]:
    out = []
    for (r0, c0), (r1, c1) in ranges:
        out.append((r0, c0, r1, c1))
        if r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        if value == "":
            continue
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if row[c] == "":
                    row[c] = value
    return tuple(out)


def _read_error(path: Path, err: BaseException) -> KepuError:
    text = str(err)
    if isinstance(err, python_calamine.PasswordError) or "password" in text.lower():
        return KepuError(f"“{path.name}”设有打开密码，请在Excel/WPS中取消密码后再导入。")
    return KepuError(f"无法读取“{path.name}”：文件已损坏或不是有效的表格文件（{text[:120]}）。"
                     "请用Excel/WPS打开后另存为 .xlsx 再导入。")


# --- guards: calamine aborts the whole process (no exception) on some files --------------------

_CFB_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_ENDOFCHAIN, _FREESECT = 0xFFFFFFFE, 0xFFFFFFFF
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"(?:[A-Z]{1,3}[0-9]{1,7}:)?"
                        rb"([A-Z]{1,3})([0-9]{1,7})\"")
# a cell with a position and content (a self-closing or empty <c …/> is formatting only)
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*?(/?)>(\s*</)?")


class _DamagedError(Exception):
    """The file's structure is inconsistent: reading it would loop or over-allocate."""


def _check_cfb(data: bytes) -> None:
    """Check an OLE compound file (.xls) before calamine follows its sector chains.

    calamine follows a sector chain until ENDOFCHAIN: a damaged file whose chain loops
    makes it allocate without end, and header counts it trusts size allocations. Every
    chain it may follow must stay inside the file and end; every count must fit the file.
    """
    if len(data) < 512:
        return  # calamine refuses it cleanly
    shift = struct.unpack_from("<H", data, 30)[0]
    if shift not in (9, 12):
        return
    size = 1 << shift
    sectors = max(0, (len(data) - size + size - 1) // size)
    (dir_len, fat_len, dir_start, _sig, _cutoff, mini_fat_start, mini_fat_len, difat_start,
     difat_len) = struct.unpack_from("<9I", data, 40)
    if max(fat_len, difat_len, dir_len, mini_fat_len) > sectors:
        raise _DamagedError("header counts")

    def sector(i: int) -> memoryview:
        if i >= sectors:
            raise _DamagedError(f"sector {i} beyond the end")
        return memoryview(data)[(i + 1) * size:(i + 2) * size]

    def u32s(view: memoryview) -> list[int]:
        view = view[:len(view) // 4 * 4]
        return list(struct.unpack(f"<{len(view) // 4}I", view))

    difat = list(struct.unpack_from("<109I", data, 76))
    seen: set[int] = set()
    i = difat_start
    while i not in (_ENDOFCHAIN, _FREESECT):
        if i in seen:
            raise _DamagedError("DIFAT loop")
        seen.add(i)
        links = u32s(sector(i))
        difat += links[:-1]
        i = links[-1]
    fat = [e for s in difat if s != _FREESECT for e in u32s(sector(s))]

    def walk(start: int, table: list[int], count: int, length: int) -> int:
        """Follow a chain; returns its length in sectors."""
        if length > len(data):
            raise _DamagedError("stream longer than the file")
        seen: set[int] = set()
        i = start
        while i != _ENDOFCHAIN:
            if i >= count or i >= len(table) or i in seen:
                raise _DamagedError("broken chain")
            seen.add(i)
            i = table[i]
        return len(seen)

    walk(dir_start, fat, sectors, dir_len * size)
    directory = b"".join(bytes(sector(s)) for s in _chain(dir_start, fat))
    large = 8 if size == 4096 else 4
    entries = [directory[k:k + 128] for k in range(0, len(directory) - 127, 128)]
    if not entries:
        return
    root_start = struct.unpack_from("<I", entries[0], 116)[0]
    root_len = int.from_bytes(entries[0][120:120 + large], "little")
    walk(root_start, fat, sectors, root_len)
    walk(mini_fat_start, fat, sectors, mini_fat_len * size)
    mini_fat = [e for s in _chain(mini_fat_start, fat) for e in u32s(sector(s))]
    minis = len(_chain(root_start, fat)) * size // 64
    for entry in entries[1:]:
        start = struct.unpack_from("<I", entry, 116)[0]
        length = int.from_bytes(entry[120:120 + large], "little")
        name = entry[:64].decode("utf-16-le", "ignore").split("\0")[0]
        # the streams (type 2) with data, and the one calamine reads whatever its type says
        if not ((entry[66] == 2 and length) or name in ("Workbook", "Book")):
            continue
        if length < 4096:
            walk(start, mini_fat, minis, length)
        else:
            walk(start, fat, sectors, length)
        if name in ("Workbook", "Book"):
            if length < 4096:
                ministream = b"".join(bytes(sector(s)) for s in _chain(root_start, fat))
                stream = b"".join(ministream[m * 64:(m + 1) * 64]
                                  for m in _chain(start, mini_fat))[:length]
            else:
                stream = b"".join(bytes(sector(s)) for s in _chain(start, fat))[:length]
            _check_biff(stream)


def _check_biff(stream: bytes) -> None:
    """Check the DIMENSIONS record of every sheet: calamine reserves memory for that range."""

    def records(at: int) -> Iterator[tuple[int, bytes]]:
        """The records of the substream starting at ``at``, up to its EOF record."""
        while at + 4 <= len(stream):
            kind, size = struct.unpack_from("<HH", stream, at)
            if kind == 0x000A:
                return
            yield kind, stream[at + 4:at + 4 + size]
            at += 4 + size

    # the workbook globals first: a BOUNDSHEET record says where each sheet's records start
    sheets = {struct.unpack_from("<I", body)[0] for kind, body in records(0)
              if kind == 0x0085 and len(body) >= 4}
    if len(sheets) > 4096:
        raise _DamagedError("sheet count")
    for at in sorted(sheets):
        for kind, body in records(at):
            if kind == 0x0200 and len(body) >= 10:  # DIMENSIONS (BIFF8: 14 bytes, BIFF5: 10)
                if len(body) >= 14:
                    first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
                else:
                    first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
                if first_row > last_row or first_col > last_col or \
                        (last_row - first_row) * (last_col - first_col) > MAX_CELLS:
                    raise _DamagedError("sheet dimensions")


def _chain(start: int, table: list[int]) -> list[int]:
    """List the sectors of a chain already checked by ``walk``."""
    out = []
    while start != _ENDOFCHAIN:
        out.append(start)
        start = table[start]
    return out


def _check_extent(path: Path) -> None:
    """Refuse an .xlsx/.xlsm sheet whose used range is too big to hold in memory."""
    with zipfile.ZipFile(path) as archive:
        parts = [i for i in archive.infolist()
                 if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml")]
        for info in parts:
            with archive.open(info) as fh:
                head = fh.read(8192)
                m = _DIMENSION.search(head)
                if m and _cells(m[1], m[2]) <= MAX_CELLS:
                    continue  # what Excel and WPS write: the range in the first lines
                # no or a huge dimension (often empty formatted cells): find the last value
                rows = cols = 0
                tail = b""
                chunk = head
                while chunk:
                    text = tail + chunk
                    for cell in _CELL.finditer(text):
                        if not cell[3] and cell[4] is None:
                            rows = max(rows, int(cell[2]))
                            cols = max(cols, _column(cell[1]))
                    tail = text[-256:]
                    chunk = fh.read(1 << 20)
                if rows * cols > MAX_CELLS:
                    raise KepuError(
                        f"“{path.name}”的工作表中第{rows}行、第{cols}列还有内容，表格范围过大"
                        f"（超过{MAX_CELLS // 10000}万个单元格），无法导入。请在Excel/WPS中删除"
                        "表格下方或右侧多余的内容（或只把需要的部分复制到新文件）后再导入。")


def _column(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _cells(letters: bytes, row: bytes) -> int:
    return _column(letters) * int(row)


def _check_structure(path: Path) -> None:
    """Refuse (KepuError) a file that would make calamine abort the program.

    Only what is known to be wrong is refused; anything the checks cannot make sense
    of is left to calamine, which refuses damaged files itself.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    try:
        if head == _CFB_SIGNATURE:
            _check_cfb(path.read_bytes())
        elif path.suffix.lower() in (".xlsx", ".xlsm") and zipfile.is_zipfile(path):
            _check_extent(path)
    except _DamagedError as err:
        raise _read_error(path, err) from err
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            ValueError):
        pass  # a damaged or unusual archive: calamine says what is wrong


def _is_panic(err: BaseException) -> bool:
    """Tell a Rust panic inside calamine (pyo3's PanicException is a BaseException)."""
    return type(err).__name__ == "PanicException"


# --- big .xlsx sheets: without calamine's second pass, in two halves ---------------------------
#
# ``get_sheet_by_name`` reads a sheet twice: once for the cells, and once more — decompressing
# and tokenizing the whole XML again — for the first ``<mergeCells>``, which comes after
# ``<sheetData>``: a third of the time on a big sheet. So a big sheet is decompressed here
# (zlib lets go of the GIL) and given to calamine rearranged, uncompressed, in a small
# in-memory workbook with only what calamine reads: a copy of the sheet's tail (what follows
# ``</sheetData>``, with its ``<mergeCells>``) and an empty ``<mergeCells>`` come just before
# ``<sheetData>``, where the second pass finds them at once. The cells are read exactly as
# before: nothing in front of ``<sheetData>`` matters to them.
#
# With two processor cores or more, a sheet from 1 MiB on is also cut in two between two
# rows, and the halves are parsed at the same time (calamine lets go of the GIL): the first
# half — the rows before the cut, behind an empty ``<mergeCells>`` — starts while the rest of
# the sheet is still being decompressed. The cut keeps calamine's state: it is made just after a
# ``</row>`` and before a ``<row r="…">``, so the second half's first row sets the row number
# the whole sheet would have reached, and its cells start again at column A.
#
# Only plain layouts are read this way (``sheetData`` once, no ``mergeCells`` before its
# end, head and tail of plain tags and text — no comments that could hide markup); anything
# else, a cut that is not between two rows (the first half then fails to parse), halves
# whose rows overlap, or any failure, falls back to calamine reading the file as it is. So
# the rows and merged ranges are always those of the plain read (tests compare both).

REARRANGE_MIN_BYTES = 256 << 10  # sheets with this much XML or more are read this way …
SPLIT_MIN_BYTES = 1 << 20  # … and from this size in two halves (with two cores or more)
REARRANGE_MAX_BYTES = 32 << 20  # (the sheet's XML is held in memory, more than once)
# what calamine reads from a workbook besides the sheet itself (names compared lower-case)
_BOOK_PARTS = ("[content_types].xml", "_rels/.rels", "xl/workbook.xml",
               "xl/_rels/workbook.xml.rels", "xl/sharedstrings.xml", "xl/styles.xml")
# text and complete tags only: no comments, CDATA, processing instructions, stray "<" or ">"
_PLAIN_XML = re.compile(rb"""(?:[^<]*(?:<[^<>!?/"'](?:[^<>"'/]|/(?=>)|"[^"<>]*"|'[^'<>]*')*>"""
                        rb"""|</[^<>!?/"'\s]+\s*>))*[^<]*""")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)""")
_CUT = re.compile(rb"</row>[ \t\r\n]*(<row\s[^>]*>)")
_ROW_NUMBER = re.compile(rb"\sr=\"([0-9]{1,7})\"")
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_SHEET_DATA = b"<sheetData>"
_SHEET_DATA_END = b"</sheetData>"
_EMPTY_MERGE = b"<mergeCells></mergeCells>"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
_END_OF_CENTRAL = struct.Struct("<4s4H2LH")

_Piece = bytes | memoryview


def _zip(entries: list[tuple[str, tuple[_Piece, ...]]]) -> io.BytesIO:
    """An uncompressed zip archive of (name, content in pieces) entries."""
    out = io.BytesIO()
    central = []
    for name, pieces in entries:
        encoded = name.encode()
        flags = 0 if name.isascii() else 0x800  # UTF-8 name
        crc = size = 0
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
            size += len(piece)
        offset = out.tell()
        out.write(_LOCAL_HEADER.pack(b"PK\x03\x04", 20, flags, zipfile.ZIP_STORED, 0, 0x21, crc,
                                     size, size, len(encoded), 0))
        out.write(encoded)
        for piece in pieces:
            out.write(piece)
        central.append(_CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 20, flags, zipfile.ZIP_STORED, 0,
                                            0x21, crc, size, size, len(encoded), 0, 0, 0, 0, 0,
                                            offset) + encoded)
    start = out.tell()
    out.write(b"".join(central))
    out.write(_END_OF_CENTRAL.pack(b"PK\x05\x06", 0, 0, len(entries), len(entries),
                                   out.tell() - start, start, 0))
    out.seek(0)
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → its part in the archive (lower-case), resolved the way calamine does."""
    rels = ElementTree.fromstring(parts["xl/_rels/workbook.xml.rels"])
    targets = {r.get("Id"): r.get("Target", "") for r in rels if _local(r.tag) == "Relationship"}
    found = {}
    for sheet in ElementTree.fromstring(parts["xl/workbook.xml"]).iter():
        if _local(sheet.tag) == "sheet":
            target = targets.get(sheet.get(_REL_ID), "")
            if target.startswith("/xl/"):
                target = target[1:]
            elif not target.startswith("xl/"):
                target = "xl/" + target
            found[sheet.get("name", "")] = target.lower()
    return found


def _utf8_xml(head: bytes) -> bool:
    """Whether XML starting with ``head`` is UTF-8, and still is with something put in front
    (a BOM or the XML declaration further on do not matter to calamine then)."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    if head.startswith(b"<?xml"):
        end = head.find(b"?>")
        encoding = _ENCODING.search(head, 0, end)
        return end > 0 and (encoding is None or encoding[1].lower() == b"utf-8")
    return head[:1] == b"<" and head[1:2] not in (b"?", b"!", b"")


def _plain_head(xml: bytes | memoryview, start: int) -> bool:
    """Whether the sheet's head (before ``<sheetData>`` at ``start``) is plain markup."""
    head = bytes(xml[:start]).removeprefix(b"\xef\xbb\xbf")
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2:]
    return not any(word in head for word in (b"sheetData", b"mergeCells")) \
        and _PLAIN_XML.fullmatch(head) is not None


def _tail(xml: bytes) -> tuple[int, bytes] | None:
    """(where the last ``</sheetData>`` is, what follows it) if that tail is plain markup with
    at most one ``<mergeCells>``; see :func:`_only_one_sheet_data` for the rest."""
    end = xml.rfind(_SHEET_DATA_END)
    if end < 0:
        return None
    tail = xml[end + len(_SHEET_DATA_END):]
    merges = tail.count(b"mergeCells")
    if b"sheetData" in tail or b"dimension" in tail or not (merges == 0 or (
            merges == 2 and -1 < tail.find(b"<mergeCells") < tail.find(b"</mergeCells>"))):
        return None
    return (end, tail) if _PLAIN_XML.fullmatch(tail) else None


def _free_of_words(xml: bytes, begin: int, stop: int | None = None) -> bool:
    """Whether ``xml[begin:stop]`` holds neither ``sheetData`` nor ``mergeCells``.

    Checked between ``<sheetData>`` and the last ``</sheetData>``: they are then the only
    ones, so calamine's first pass (which succeeded) ended there, and its second pass over
    the whole sheet finds the merged ranges in the tail, as a pass over head and tail does.
    """
    return xml.find(b"sheetData", begin, stop) < 0 and xml.find(b"mergeCells", begin, stop) < 0


def _cut_point(head: bytes, near: int) -> tuple[int, int] | None:
    """(cut, 0-based row of the cut): a row start with its number, after ``near``."""
    for found, cut in enumerate(_CUT.finditer(head, near)):
        number = _ROW_NUMBER.search(cut[1])
        if number is not None and int(number[1]) > 0:
            return cut.start(1), int(number[1]) - 1
        if found >= 16:
            break
    return None


def _cores() -> int:
    """How many processor cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _parse(book: io.BytesIO, name: str, whole_grid: bool) -> tuple[Any, ...]:
    """(rows, start, end, merged ranges) of a sheet, as calamine reads it."""
    workbook = python_calamine.CalamineWorkbook.from_filelike(book)
    try:
        sheet = workbook.get_sheet_by_name(name)
        return (sheet.to_python(skip_empty_area=not whole_grid), sheet.start, sheet.end,
                sheet.merged_cell_ranges)
    finally:
        workbook.close()


def _join_halves(first: tuple[Any, ...], second: tuple[Any, ...], row: int
                 ) -> list[list[Cell]] | None:
    """The whole grid (from A1, as ``to_python(skip_empty_area=False)``) of the two halves."""
    rows, _start, end1, _merged = first
    tail, start2, end2, _merged = second
    if end1 is not None and end1[0] >= row:
        return None
    if start2 is None:  # nothing after the cut
        return rows
    if start2[0] < row:
        return None
    width = max(end1[1] if end1 is not None else -1, end2[1]) + 1
    if rows and len(rows[0]) < width:
        pad = [""] * (width - len(rows[0]))
        for values in rows:
            values.extend(pad)
    rows.extend([""] * width for _ in range(len(rows), start2[0]))
    left, right = [""] * start2[1], [""] * (width - 1 - end2[1])
    if left:
        tail = [[*left, *values, *right] for values in tail]
    elif right:
        for values in tail:
            values.extend(right)
    rows.extend(tail)
    return rows


def _read_big_sheet(path: Path, names: list[str], *, halves: bool | None = None
                    ) -> tuple[str, list[list[Cell]], Any] | None:
    """(sheet name, rows, merged ranges) of the one big sheet of an .xlsx/.xlsm, read without
    calamine's second pass, in two halves if ``halves`` (default: from
    :data:`SPLIT_MIN_BYTES` on, with two cores or more); None when there is no such sheet
    or calamine must read the file as it is."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            lower = [info.filename.lower() for info in infos]
            if len(set(lower)) != len(lower):
                return None  # calamine would take the first of two same-named parts
            big = [info for info, name in zip(infos, lower, strict=True)
                   if name.startswith("xl/worksheets/")
                   and info.file_size >= REARRANGE_MIN_BYTES]
            if len(big) != 1:
                return None
            sheet = big[0]
            if sheet.file_size > REARRANGE_MAX_BYTES or sheet.flag_bits & 1 or \
                    sheet.compress_type != zipfile.ZIP_DEFLATED:  # flag 1: encrypted
                return None
            parts = {name: archive.read(info) for info, name in zip(infos, lower, strict=True)
                     if name in _BOOK_PARTS}
            chosen = [n for n, part in _sheet_parts(parts).items()
                      if part == sheet.filename.lower() and n in names]
            if len(chosen) != 1:
                return None
            if halves is None:
                halves = sheet.file_size >= SPLIT_MIN_BYTES and _cores() > 1
            # calamine reads the shared strings once more for the small workbook: read whole,
            # that only pays when they are small beside the sheet
            if not halves and len(parts.get("xl/sharedstrings.xml", b"")) * 4 > sheet.file_size:
                return None
        with open(path, "rb") as fh:  # the sheet's compressed data, as it is in the file
            fh.seek(sheet.header_offset)
            local = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
            if local[0] != b"PK\x03\x04":
                return None
            fh.seek(local[-2] + local[-1], 1)
            raw = fh.read(sheet.compress_size)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, NotImplementedError,
            RuntimeError, ValueError, struct.error, ElementTree.ParseError):
        return None
    name = chosen[0]
    book = [(info.filename, (parts[low],)) for info, low in zip(infos, lower, strict=True)
            if low in parts]
    first: list[Any] = []

    def parse_first(part: io.BytesIO) -> None:
        try:
            first.append(_parse(part, name, True))
        except BaseException as err:  # noqa: BLE001 - a panic too: the file is read as it is
            first.append(err)

    worker: threading.Thread | None = None
    try:
        try:
            inflater = zlib.decompressobj(-15)
            near = sheet.file_size * 11 // 20  # the first half is started before the rest
            head = inflater.decompress(raw, near + (1 << 16)) if halves else b""
            start = head.find(_SHEET_DATA) if halves else -1
            cut = _cut_point(head, near) \
                if 0 <= start < near and _utf8_xml(head[:512]) and _plain_head(head, start) \
                else None
            if cut is not None:
                mid, row = cut
                view = memoryview(head)
                worker = threading.Thread(
                    target=parse_first, name="kepu-read-half", daemon=True,
                    args=(_zip([*book, (sheet.filename, (_EMPTY_MERGE, view[:mid], _SHEET_DATA_END,
                                                         b"</worksheet>"))]),))
                worker.start()
            # zlib lets go of the GIL: this overlaps the first half
            rest = inflater.decompress(inflater.unconsumed_tail if halves else raw)
            if not inflater.eof or len(head) + len(rest) != sheet.file_size:
                return None  # damaged: calamine says what is wrong
            if not halves:  # one piece
                head, rest = rest, b""
                start = head.find(_SHEET_DATA)
            # the sheet is head + rest; the last </sheetData> (at ``end``) is in rest if any
            found = _tail(rest or head) if start >= 0 and _utf8_xml(head[:512]) and \
                _plain_head(head, start) else None
            if found is None or (worker is not None and not rest and found[0] < mid):
                return None
            end, tail = found
            view = memoryview(head)
            pieces = (view[:start], tail, _EMPTY_MERGE,
                      *((_SHEET_DATA, view[mid:]) if worker is not None else (view[start:],)),
                      rest)
            second = _parse(_zip([*book, (sheet.filename, pieces)]), name, worker is None)
            # checked last (while the first half may still be parsed): they hardly ever fail
            if zlib.crc32(rest, zlib.crc32(head)) != sheet.CRC or not (
                    _free_of_words(head, start + len(_SHEET_DATA), None if rest else end)
                    and _free_of_words(rest, 0, end)
                    and (not rest or _free_of_words(head[-16:] + rest[:16], 0))):  # across
                return None
        finally:
            if worker is not None:
                worker.join()
    except BaseException as err:
        if isinstance(err, Exception) or _is_panic(err):
            return None  # calamine reads the file as it is, and says what is wrong with it
        raise
    if worker is None:
        return name, second[0], second[3]
    if isinstance(first[0], BaseException):
        return None
    rows = _join_halves(first[0], second, row)
    return None if rows is None else (name, rows, second[3])


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during one bulk step (reading, checking, writing rows).

    A 10 000-row import allocates several hundred thousand small objects, all alive
    until the step ends; the collector would walk them again and again for nothing
    (about a tenth of the import's time). Reference counting still frees everything.
    Usable as a decorator; nested use keeps the outermost state.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@gc_paused()
def read_workbook(path: str | Path) -> list[SheetData]:
    """Read every worksheet of a workbook.

    Raises:
        KepuError: missing file, unsupported type, password, corrupt file — in Chinese.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if path.name.startswith("~$"):
        raise KepuError(f"“{path.name}”是Excel/WPS打开文件时生成的临时文件，请选择原文件。")
    if suffix not in SUPPORTED:
        hint = "请在Excel/WPS中另存为 .xlsx 后导入。" if suffix in (".et", ".csv", ".wps") else ""
        raise KepuError(f"不支持的文件类型“{suffix or path.name}”："
                        f"可导入 .xlsx、.xls、.ods 文件。{hint}")
    if not path.is_file():
        raise KepuError(f"文件不存在：{path}")
    try:
        _check_structure(path)
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except KepuError:
        raise
    except OSError as err:
        raise KepuError(f"无法打开“{path.name}”：{err.strerror or err}"
                        "（如文件正在Excel/WPS中打开，请先关闭）") from err
    except Exception as err:  # noqa: BLE001 - calamine raises many types for a bad file
        raise _read_error(path, err) from err
    except BaseException as err:
        if not _is_panic(err):
            raise
        raise _read_error(path, err) from err
    sheets: list[SheetData] = []
    try:
        worksheets = [meta for meta in workbook.sheets_metadata
                      if meta.typ == python_calamine.SheetTypeEnum.WorkSheet]
        # a big sheet of an .xlsx is read faster (see above); the others as calamine reads them
        big = _read_big_sheet(path, [meta.name for meta in worksheets]) \
            if suffix in (".xlsx", ".xlsm") else None
        for meta in worksheets:
            rows: list[list[Cell]]
            if big is not None and meta.name == big[0]:
                rows, ranges = big[1], big[2]
            else:
                sheet = workbook.get_sheet_by_name(meta.name)
                rows, ranges = sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges
            merged = _fill_merged(rows, ranges or [])
            sheets.append(SheetData(meta.name, rows,
                                    meta.visible != python_calamine.SheetVisibleEnum.Visible,
                                    merged, path.name))
    except Exception as err:  # noqa: BLE001
        raise _read_error(path, err) from err
    except BaseException as err:
        if not _is_panic(err):
            raise
        raise _read_error(path, err) from err
    finally:
        workbook.close()
    if not sheets:
        raise KepuError(f"“{path.name}”中没有工作表。")
    return sheets


def display_text(value: Cell) -> str:
    """A cell value as the clerk sees it in Excel (General format).

    ``13812345678.0`` → ``13812345678``; ``3.505821990010113e17`` → ``3.50582E+17``
    (what Excel shows for an 18-digit number); dates as ``2025-09-16``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e11:
            return str(int(value))
        if abs(value) >= 1e11:
            return f"{value:.5E}"
        return f"{value:.10g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) \
            else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)

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

import datetime as dt
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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
        for meta in workbook.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            sheet = workbook.get_sheet_by_name(meta.name)
            rows: list[list[Cell]] = sheet.to_python(skip_empty_area=False)
            merged = _fill_merged(rows, sheet.merged_cell_ranges or [])
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

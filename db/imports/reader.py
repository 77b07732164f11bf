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
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from db.errors import KepuError

Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta
SUPPORTED = (".xlsx", ".xlsm", ".xls", ".ods")


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
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except OSError as err:
        raise KepuError(f"无法打开“{path.name}”：{err.strerror or err}"
                        "（如文件正在Excel/WPS中打开，请先关闭）") from err
    except Exception as err:  # noqa: BLE001 - calamine raises many types for a bad file
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

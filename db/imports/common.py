"""What every import shares: row statuses, the plan and result values, progress and cancel."""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Any

from db.errors import KepuError
from db.imports.mapping import Mapping
from db.imports.reader import Cell, SheetData, display_text

# Row statuses.
NEW = "new"  # a new person / activity: will be written
EXISTING = "existing"  # already in the database: selected (merged), not written again
DUPLICATE = "duplicate"  # the same person / activity earlier in this file: not imported again
INVALID = "invalid"  # breaks a rule: nothing of it is written
BLANK = "skipped-blank"  # an empty row
TOTAL = "skipped-total"  # a 合计/小计/总计 row
NOTE = "note"  # 备注/制表人/审核人 lines, a repeated header row
STATUS_LABELS = {NEW: "新增", EXISTING: "已有", DUPLICATE: "表内重复", INVALID: "无效",
                 BLANK: "空行", TOTAL: "合计行", NOTE: "说明行"}
DATA_STATUSES = (NEW, EXISTING, DUPLICATE, INVALID)
CHECK_EVERY = 500  # rows between cancellation checks and progress reports
BACKUP_MIN_ROWS = 20  # an import writing more rows than this makes a verified backup first

Progress = Callable[[int, str], None]
IsCancelled = Callable[[], bool]
CANCELLED = "已取消导入，数据库未改动"


class ImportCancelledError(KepuError):
    """The user cancelled; nothing was written."""

    def __init__(self, message: str = CANCELLED) -> None:
        super().__init__(message)


class ImportRefusedError(KepuError):
    """The plan has invalid rows and skipping them was not asked for; nothing was written."""


@dataclass(frozen=True)
class RowIssue:
    """One problem of a row: the field (Chinese label), the value as the clerk sees it, why."""

    field: str
    value: str
    message: str


@dataclass(slots=True)
class RowResult:
    """What the import will do with one row of the sheet.

    ``values`` holds the cleaned values by field key (what will be stored; for a
    person already registered, the registered id under ``trainee_id``); ``note``
    explains a skipped row or a person already on the roster.
    """

    excel_row: int
    status: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: tuple[RowIssue, ...] = ()
    warnings: tuple[str, ...] = ()
    note: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_data(self) -> bool:
        return self.status in DATA_STATUSES

    def explain(self) -> str:
        """All problems of the row in one line (the error workbook's 错误说明)."""
        return "；".join(f"{e.field}：{e.message}" if e.message[:len(e.field)] != e.field
                        else e.message for e in self.errors)


_STATUS = attrgetter("status")


@dataclass(frozen=True)
class ImportPlan:
    """Everything an import would do, row by row, before anything is written.

    ``kind`` is "trainees" or "activities". ``header_row`` is the Excel row of
    the header; ``mapping`` the field key → column used. The plan is plain values
    and can be shown as a preview, saved as an error workbook, or applied.
    """

    kind: str
    sheet_name: str
    header_row: int
    mapping: Mapping
    columns: tuple[str, ...]
    rows: tuple[RowResult, ...]
    warnings: tuple[str, ...] = ()
    training_id: str | None = None
    training_title: str = ""
    office_id: str = ""
    source: str = ""  # the file name

    @cached_property
    def _counts(self) -> Counter[str]:
        return Counter(map(_STATUS, self.rows))

    def count(self, status: str) -> int:
        """How many rows have ``status`` (a plan is a snapshot: rows are not changed)."""
        return self._counts[status]

    @property
    def data_rows(self) -> int:
        """Rows that hold data: new, existing, duplicate and invalid ones."""
        return sum(self._counts[s] for s in DATA_STATUSES)

    @property
    def new(self) -> int:
        return self.count(NEW)

    @property
    def existing(self) -> int:
        return self.count(EXISTING)

    @property
    def duplicates(self) -> int:
        return self.count(DUPLICATE)

    @property
    def invalid(self) -> int:
        return self.count(INVALID)

    @property
    def invalid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == INVALID]

    @property
    def can_apply(self) -> bool:
        """Whether an all-or-nothing import would go through (no invalid row)."""
        return self.invalid == 0


@dataclass(frozen=True)
class ImportResult:
    """What an applied import wrote."""

    rows: int  # data rows in the sheet
    imported: int  # new people / activities written
    merged: int  # rows that selected a record already in the database
    duplicates_in_file: int
    invalid_skipped: int
    attendances: int = 0  # roster entries added (import into a training)
    written: bool = True
    backup: str | None = None  # the verified backup made first, if any
    seconds: float = 0.0


def report_dict(plan: ImportPlan, result: ImportResult | None = None) -> dict[str, Any]:
    """The summary the CLI prints with ``--json`` (and the GUI's result page uses).

    ``{"rows", "imported", "merged", "duplicates_in_file", "invalid": [{"row",
    "field", "value", "message"}], "warnings": [{"row", "message"}], "written"}``;
    without a result (a dry run, or a refused import) the counts are what the
    import would do and ``written`` is false. ``row`` is the row number Excel shows.
    """
    invalid = [{"row": r.excel_row, "field": e.field, "value": e.value, "message": e.message}
               for r in plan.rows if r.status == INVALID for e in r.errors]
    warnings: list[dict[str, Any]] = [{"row": None, "message": w} for w in plan.warnings]
    warnings += [{"row": r.excel_row, "message": w} for r in plan.rows for w in r.warnings]
    return {
        "rows": plan.data_rows,
        "imported": result.imported if result else plan.new,
        "merged": result.merged if result else plan.existing,
        "duplicates_in_file": plan.duplicates,
        "invalid": invalid,
        "warnings": warnings,
        "written": bool(result and result.written),
    }


class Ticker:
    """Progress reports and cancellation checks for one stage of the work."""

    def __init__(self, progress: Progress | None, is_cancelled: IsCancelled | None) -> None:
        self._progress = progress
        self._cancelled = is_cancelled

    def report(self, percent: int, message: str) -> None:
        if self._progress is not None:
            self._progress(max(0, min(100, int(percent))), message)

    def check(self) -> None:
        """Raise :class:`ImportCancelledError` if the user asked to stop."""
        if self._cancelled is not None and self._cancelled():
            raise ImportCancelledError()

    def step(self, done: int, total: int, low: int, high: int, message: str) -> None:
        """Every :data:`CHECK_EVERY` rows: check for cancel and report ``low``–``high`` %."""
        if done % CHECK_EVERY == 0 and done:
            self.check()
            self.report(low + (high - low) * done // max(total, 1), f"{message}（{done}/{total}）")


def new_ids(count: int) -> list[str]:
    """``count`` new primary keys like :func:`db.models.new_id` (32 random hex characters).

    Drawn from the OS random source in one call: uuid4() one by one costs as much as
    inserting the rows.
    """
    blob = os.urandom(16 * count).hex()
    return [blob[i:i + 32] for i in range(0, 32 * count, 32)]


def save_workbook(wb: Any, path: Path, what: str) -> Path:
    """Save an openpyxl workbook under a temporary name, then move it to ``path``.

    A failed save leaves no half-written file; ``what`` names the file in the
    Chinese message (错误行文件, 模板).

    Raises:
        KepuError: the file cannot be written (e.g. it is open in Excel/WPS).
    """
    tmp = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(tmp)
        os.replace(tmp, path)
    except OSError as err:
        raise KepuError(f"无法写入{what}“{path}”：{err.strerror or err}"
                        "（如该文件正在Excel/WPS中打开，请先关闭）") from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


@contextlib.contextmanager
def big_cache(conn: Any) -> Iterator[None]:
    """A bigger SQLite page cache for one bulk write (index pages stay in memory)."""
    old = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size = -65536")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(old or -2000)}")


# --- reading rows as a person would ---------------------------------------------------------

_TOTAL = re.compile(r"^(合计|小计|总计|共计|总合计|累计|本页合计|本页小计|全年合计|合计人数|"
                    r"总人数)")
_NOTE = re.compile(r"^(备注|说明|注[:：意\d]|注$|填表说明|制表|填表|填报|审核|负责人|统计人|经办人|"
                   r"签字|盖章|单位盖章|单位负责人|联系人[:：]|联系电话[:：]|日期[:：]|报送|分管领导|"
                   r"主要负责人|以上|附[:：件])")

_TOTAL_START = frozenset("合小总共累本全")
_NOTE_START = frozenset("备说注填制审负统经签盖单联日报分主以附")


def cell_str(value: Cell) -> str:
    """A cell as stripped text ("" for empty)."""
    if isinstance(value, str):
        return value.strip()
    return display_text(value).strip()


def _empty(value: Cell) -> bool:
    return value == "" or (isinstance(value, str) and not value.strip())


def classify_row(row: Sequence[Cell], columns: Sequence[int], header: dict[int, Cell],
                 key_column: int | None = None) -> tuple[str, str] | None:
    """(status, note) for a row that is not data, or None for a data row.

    Blank rows (nothing in any mapped column, e.g. pre-numbered empty template
    rows), 合计/小计 rows, 备注/制表人/审核人 lines and a repeated header row
    (printouts repeat it on every page) are skipped, never flagged invalid.
    ``columns`` are the mapped columns, ``header`` the header cells by column,
    ``key_column`` the 姓名 / 活动名称 column.
    """
    first: Cell = ""
    first_col = -1
    for col, value in enumerate(row):
        if value != "" and not (isinstance(value, str) and not value.strip()):
            first, first_col = value, col
            break
    if first_col < 0:
        return BLANK, "空行"
    for value in row[:4]:
        if isinstance(value, str) and value and value.lstrip()[:1] in _TOTAL_START and \
                _TOTAL.match(unicodedata.normalize("NFKC", "".join(value.split()))):
            return TOTAL, "合计行，已跳过"
    if isinstance(first, str) and first.lstrip()[:1] in _NOTE_START:
        head = unicodedata.normalize("NFKC", "".join(first.split()))
        if _NOTE.match(head):
            distinct = {cell_str(v) for v in row if not _empty(v)}
            if first_col != key_column or len(distinct) <= 2:
                return NOTE, "说明/落款行，已跳过"
    if all(_empty(row[c]) for c in columns if c < len(row)):
        return BLANK, "所选的列都为空"
    if key_column is not None and key_column < len(row) and row[key_column] != "" \
            and row[key_column] == header.get(key_column):
        hits = sum(1 for c in columns if c < len(row) and row[c] != "" and row[c] == header.get(c))
        if hits >= max(2, (len(columns) + 1) // 2):
            return NOTE, "重复的表头行，已跳过"
    return None


def header_cells(sheet: SheetData, header_row: int, mapping: Mapping) -> dict[int, Cell]:
    """The header cell of each mapped column (to spot a repeated header)."""
    row = sheet.rows[header_row] if header_row < len(sheet.rows) else []
    return {c: row[c] for c in mapping.values() if c < len(row)}


def column_warnings(sheet: SheetData, header_index: int, mapping: Mapping,
                     columns: Sequence[str]) -> list[str]:
    """A warning naming the columns with a header that the import leaves out."""
    used = set(mapping.values())
    header = sheet.rows[header_index] if header_index < len(sheet.rows) else []
    ignored = [columns[c] for c in range(len(columns))
               if c not in used and c < len(header) and cell_str(header[c])
               and columns[c] not in ("序号", "编号")]
    return [f"以下列不导入：{'、'.join(ignored)}"] if ignored else []


def refuse_if_invalid(plan: ImportPlan, skip_invalid: bool) -> None:
    """Raise :class:`ImportRefusedError` when invalid rows would be dropped without being asked."""
    if plan.invalid and not skip_invalid:
        rows = [str(r.excel_row) for r in plan.invalid_rows]
        shown = "、".join(rows[:10]) + ("等" if len(rows) > 10 else "")
        raise ImportRefusedError(f"有 {len(rows)} 行数据无效（第{shown}行），未导入任何数据。"
                            "请改正后重新导入，或选择“跳过无效行”导入其余各行。")

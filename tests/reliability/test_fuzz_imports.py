"""Fuzzing the importers: garbage files and garbage cells give a KepuError or a clean result.

(a) Random bytes, and real .xlsx/.xlsm/.xls/.ods files cut short or with bytes flipped,
    go to ``read_workbook``: a KepuError with a Chinese message, or sheets — and the
    sheets it returns go on through ``best_sheet`` and both planners.
(b) Rosters and ledgers with a valid header and random cells (control characters,
    huge numbers, NaN, dates, booleans, None, very long text, formulas, full-width
    digits, emoji, CJK Extension B): planning raises nothing but KepuError and gives
    every row a status; applying with ``skip_invalid`` writes exactly the rows planned
    as new (and the roster entries of those planned as existing), or raises a
    KepuError and leaves the database exactly as it was.

Deterministic (``derandomize=True``): the same examples on every run and machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.styles
import pytest
import xlwt
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from db.activities import ActivityInput, create_activity
from db.catalogs import find_entry
from db.database import open_database
from db.errors import KepuError
from db.idcard import make_id_number
from db.imports import (
    ACTIVITY_FIELDS,
    EXISTING,
    NEW,
    STATUS_LABELS,
    TRAINEE_FIELDS,
    SheetData,
    activity_of,
    apply_activity_import,
    apply_trainee_import,
    best_sheet,
    plan_activity_import,
    plan_trainee_import,
    read_workbook,
)
from db.imports.reader import SUPPORTED
from db.offices import OfficeInfo, create_office, get_office
from tests.workbooks import ods_bytes

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


def event(name: str) -> None:
    """Count an outcome (shown with --hypothesis-show-statistics)."""
    if currently_in_test_context():
        hypothesis_event(name)


def assert_chinese(err: KepuError) -> None:
    assert CJK.search(str(err)), f"not a Chinese message: {err!r}"


# --- one database for all examples of a module ------------------------------------------------


class Ledger:
    """The database the examples write to, with its office and a training."""

    def __init__(self, folder: Path) -> None:
        self.db = open_database(folder / "kepu.sqlite", create=True)
        with self.db.write() as s:
            create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
        with self.db.session() as s:
            self.office: OfficeInfo = get_office(s)
            form = find_entry(s, "form", "培训")
            assert form is not None
        day = dt.date(2025, 9, 10)
        self.training = create_activity(self.db, self.office, ActivityInput(
            title="茶叶病虫害绿色防控培训", start_date=day, end_date=day, form_id=form.id,
            train_hours_x10=20))

    def state(self) -> dict[str, tuple[int, str]]:
        """Row count and checksum of every table an import writes."""
        con = sqlite3.connect(self.db.path)
        try:
            out = {}
            for table in ("trainee", "attendance", "activity", "activity_group",
                          "activity_topic", "activity_project", "audit_log", "activity_fts"):
                rows = sorted(repr(r) for r in con.execute(f"SELECT * FROM {table}"))
                out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
            return out
        finally:
            con.close()

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        con = sqlite3.connect(self.db.path)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    book = Ledger(tmp_path_factory.mktemp("fuzz-db"))
    yield book
    book.db.close()


# --- (a) garbage and damaged files ------------------------------------------------------------

ROSTER = [["金井镇2025年农民实用技术培训签到表"],
          ["序号", "姓名", "性别", "身份证号码", "联系电话", "备注"],
          [1, "王秀英", "女", make_id_number("350582", dt.date(1970, 5, 9), 222), 13812345678, ""],
          [2, "李建国", "男", make_id_number("350582", dt.date(1960, 5, 9), 211), "13912345678",
           "村干部"],
          [3, "合计", "", "", "", ""]]


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "签到表"
    for row in ROSTER:
        ws.append(row)
    ws.merge_cells("A1:F1")
    ws["G3"] = dt.datetime(2025, 9, 16, 9, 30)
    ws["H3"] = 2.5
    ws["I3"] = True
    ws["J3"] = "=1+1"
    hidden = wb.create_sheet("说明")
    hidden.sheet_state = "hidden"
    hidden.append(["填表说明：身份证号请填18位"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes() -> bytes:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("花名册")
    ws.write_merge(0, 0, 0, 5, ROSTER[0][0])
    for r, row in enumerate(ROSTER[1:], start=1):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    ws.write(2, 6, dt.date(2025, 9, 16), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    wb.add_sheet("Sheet2").write(0, 0, 3.25)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()




GOOD: dict[str, bytes] = {".xlsx": xlsx_bytes(), ".xls": xls_bytes(), ".ods": ods_bytes(ROSTER)}
GOOD[".xlsm"] = GOOD[".xlsx"]


def check_sheets(sheets: list[SheetData], ledger: Ledger) -> None:
    """What read_workbook returned is plain rows, and the rest of the pipeline copes."""
    assert sheets
    for sheet in sheets:
        assert isinstance(sheet.name, str)
        for row in sheet.rows:
            assert isinstance(row, list)
            for value in row:
                assert isinstance(value, str | float | int | bool | dt.date | dt.time
                                  | dt.timedelta), repr(value)
    with ledger.db.session() as s:
        for fields, plan in ((TRAINEE_FIELDS, plan_trainee_import),
                             (ACTIVITY_FIELDS, plan_activity_import)):
            index, guess = best_sheet(sheets, fields)
            try:
                result = plan(s, ledger.office, sheets[index], guess.mapping,  # type: ignore[operator]
                              header_index=guess.row_index)
            except KepuError as err:
                assert_chinese(err)
            else:
                assert all(r.status in STATUS_LABELS for r in result.rows)


# read_workbook first runs in a separate process with capped memory: when calamine meets a
# file it cannot handle it may abort the process (Rust aborts on a failed allocation) or
# allocate without end, which must fail this test, not take the test run or the machine down.
WORKER = r"""
import json, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
except (ImportError, ValueError, OSError):
    pass
from db.errors import KepuError
from db.imports import read_workbook
for line in sys.stdin:
    try:
        out = {"outcome": "read", "sheets": len(read_workbook(line.rstrip("\n")))}
    except KepuError as err:
        out = {"outcome": "refused", "message": str(err)}
    except BaseException as err:
        out = {"outcome": "raised", "message": f"{type(err).__qualname__}: {err!r}"[:500]}
    print(json.dumps(out, ensure_ascii=False), flush=True)
"""


class ReaderProcess:
    """A process that reads workbooks on request; restarted when a file kills it."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def read(self, path: Path) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WORKER], cwd=ROOT, env=env, text=True,
                encoding="utf-8", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            assert self.proc.stderr is not None
            why = "\n".join(self.proc.stderr.read().splitlines()[:3])
            self.close()
            raise AssertionError(f"reading {path.name} killed the process: {why}")
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None:
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):  # a broken pipe to a dead process
                        stream.close()
            self.proc.wait(timeout=30)
            self.proc = None


@pytest.fixture(scope="module")
def reader() -> Iterator[ReaderProcess]:
    worker = ReaderProcess()
    yield worker
    worker.close()


def read_or_refuse(path: Path, data: bytes, ledger: Ledger, reader: ReaderProcess) -> str:
    path.write_bytes(data)
    outcome = reader.read(path)
    assert outcome["outcome"] in ("read", "refused"), outcome["message"]
    if outcome["outcome"] == "refused":
        assert CJK.search(outcome["message"]), outcome["message"]
    try:  # the same again in this process: it is safe now
        sheets = read_workbook(path)
    except KepuError as err:
        assert_chinese(err)
        assert outcome["outcome"] == "refused"
        event("refused")
        return "refused"
    assert outcome["outcome"] == "read"
    check_sheets(sheets, ledger)
    event("read")
    return "read"


def test_the_undamaged_files_are_read(tmp_path: Path, ledger: Ledger,
                                      reader: ReaderProcess) -> None:
    for suffix, data in GOOD.items():
        assert read_or_refuse(tmp_path / f"花名册{suffix}", data, ledger, reader) == "read", suffix
        sheets = read_workbook(tmp_path / f"花名册{suffix}")
        index, guess = best_sheet(sheets, TRAINEE_FIELDS)
        with ledger.db.session() as s:
            plan = plan_trainee_import(s, ledger.office, sheets[index], guess.mapping,
                                       header_index=guess.row_index)
        assert plan.new + plan.existing == 2, suffix


@settings(FUZZ, max_examples=300)
@given(suffix=st.sampled_from(SUPPORTED), data=st.binary(max_size=3000))
def test_random_bytes(tmp_path: Path, ledger: Ledger, reader: ReaderProcess, suffix: str,
                      data: bytes) -> None:
    read_or_refuse(tmp_path / f"名单{suffix}", data, ledger, reader)


damage = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                        min_size=1, max_size=8)),
    st.tuples(st.just("zero"), st.floats(0, 1), st.integers(1, 4096)),
)


@settings(FUZZ, max_examples=1500)
@given(suffix=st.sampled_from(sorted(GOOD)), how=damage)
def test_damaged_files(tmp_path: Path, ledger: Ledger, reader: ReaderProcess, suffix: str,
                       how: tuple[Any, ...]) -> None:
    data = bytearray(GOOD[suffix])
    if how[0] == "cut":
        data = data[:int(how[1] * len(data))]
    elif how[0] == "flip":
        for where, bits in how[1]:
            i = min(int(where * len(data)), len(data) - 1)
            data[i] ^= bits
    else:
        start = int(how[1] * len(data))
        data[start:start + how[2]] = bytes(len(data[start:start + how[2]]))
    read_or_refuse(tmp_path / f"花名册{suffix}", bytes(data), ledger, reader)


def looping_xls() -> bytes:
    """The .xls with its directory's sector chain pointing back at itself."""
    data = bytearray(GOOD[".xls"])
    dir_start = int.from_bytes(data[48:52], "little")
    fat_sector = int.from_bytes(data[76:80], "little")  # the first FAT sector (512 bytes each)
    at = 512 * (fat_sector + 1) + 4 * dir_start
    data[at:at + 4] = dir_start.to_bytes(4, "little")
    return bytes(data)


def inverted_dimensions_xls() -> bytes:
    """The .xls with a sheet's DIMENSIONS record saying its first row comes after its last."""
    data = bytearray(GOOD[".xls"])
    at = data.index(b"\x00\x02\x0e\x00", 512) + 4  # DIMENSIONS, 14 bytes
    data[at:at + 4] = (0x10000).to_bytes(4, "little")
    return bytes(data)


def stray_cell_xlsx(styled_only: bool) -> bytes:
    """A roster with one more cell at XFD1048576: a value, or only formatting."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in ROSTER:
        ws.append(row)
    if styled_only:
        ws["XFD1048576"].font = openpyxl.styles.Font(bold=True)
    else:
        ws["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("name", "make", "outcome", "message"), [
    ("循环.xls", looping_xls, "refused", "已损坏"),
    ("行号颠倒.xls", inverted_dimensions_xls, "refused", "已损坏"),
    ("角落有值.xlsx", lambda: stray_cell_xlsx(False), "refused", "表格范围过大"),
    ("角落有格式.xlsx", lambda: stray_cell_xlsx(True), "read", ""),
])
def test_files_that_made_the_reader_abort(tmp_path: Path, ledger: Ledger, reader: ReaderProcess,
                                          name: str, make: Any, outcome: str,
                                          message: str) -> None:
    """Each of these once killed the program: calamine allocated without end or 0.5 TB."""
    path = tmp_path / name
    assert read_or_refuse(path, make(), ledger, reader) == outcome
    if outcome == "refused":
        with pytest.raises(KepuError, match=message):
            read_workbook(path)
    else:
        assert len(read_workbook(path)[0].rows) == len(ROSTER)


# --- (b) random cells -----------------------------------------------------------------------

SPECIAL_TEXT = [
    "", " ", "\u3000", "\t", "\n", "\x00", "\x07\x1b", "=1+1", "=SUM(A1:A3)", "'0123",
    "１３８１２３４５６７８", "３５０５８２１９７０", "😀", "👨‍👩‍👧", "𠀀𠮷𡈽", "王𠮷",
    "#N/A", "#DIV/0!",
    "NaN", "nan", "inf", "-0", "1e308", "9" * 40, "合计", "小计：", "备注：以上共计", "制表人：",
    "姓名", "身份证号码", "男", "女", "M", "未知", "农民", "老年人", "村民", "讲座", "培训",
    "线上", "全国科普日", "2025-09-16", "2025年9月16日至18日", "9月16日", "2025.13.45",
    "20250230", "约200人", "1.2万人次", "1,500.50元", "¥1500", "2.5学时", "-5", "１２３",
    "\u200b张三", "张\u00a0三", "ＡＢＣ", "<b>粗</b>", "'; DROP TABLE trainee; --",
    "老年人、妇女,农民/青少年", "13812345678", "0595-85123456", "138 1234 5678",
]

texts = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.text(st.characters(codec="utf-8", categories=("Lo", "Nd", "Cc", "Zs", "So", "Po")),
            max_size=12),
    st.builds(lambda s, n: s * n, st.sampled_from(["长", "A", "𠮷", "\x01", "😀 "]),
              st.integers(90, 25000)),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    st.sampled_from([0, -1, 1, 2**63, 2**63 - 1, -(2**63), 2**64, 10**18, 1e15, 1e19, 1e300,
                     13812345678.0, 350582197005091234.0, 0.1, 2.25, -0.0, float("nan"),
                     float("inf"), 45915.0, 20250916]),
)
moments = st.one_of(
    st.dates(), st.datetimes(), st.times(), st.timedeltas(),
    st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 31)),
)
garbage = st.one_of(texts, numbers, moments, st.booleans(), st.none())


def id_number(seq: int) -> str:
    born = dt.date(1930, 1, 1) + dt.timedelta(days=seq // 1000 % 25000)
    return make_id_number("350582", born, seq % 1000)


TRAINEE_HEADER = ["序号", "姓名", "性别", "身份证号", "联系电话", "人员类别", "所在村", "工作单位",
                  "出生日期", "备注"]
good_trainee = {
    "姓名": st.sampled_from(["王秀英", "李建国", "张 三", "欧阳娜娜", "阿卜杜拉·买买提", "𠮷田"]),
    "性别": st.sampled_from(["", "男", "女", "男性", "F"]),
    "身份证号": st.one_of(st.integers(0, 10**6).map(id_number), st.just(""),
                      st.integers(0, 10**6).map(lambda n: id_number(n).lower()),
                      st.integers(0, 10**6).map(id_number).map(lambda n: f" {n[:6]} {n[6:]}")),
    "联系电话": st.one_of(st.integers(13000000000, 19999999999),
                      st.integers(13000000000, 19999999999).map(float),
                      st.integers(13000000000, 19999999999).map(str), st.just("")),
    "人员类别": st.sampled_from(["", "农民", "村民", "老年人", "外星人"]),
    "所在村": st.sampled_from(["", "坑口村", "阳光社区"]),
    "工作单位": st.sampled_from(["", "金井镇人民政府"]),
    "出生日期": st.one_of(st.just(""), st.dates(dt.date(1930, 1, 1), dt.date(2010, 1, 1))),
    "备注": st.sampled_from(["", "村干部"]),
}


def row_of(header: list[str],
           good: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[list[Any]]:
    """A plausible row with a few garbage cells (often none), or garbage anywhere."""
    serial = st.integers(1, 999)
    plausible = st.tuples(*[serial if name == "序号" else good[name]
                            for name in header]).map(list)
    spoilt = st.dictionaries(st.integers(0, len(header) - 1), garbage, max_size=4)

    def spoil(row: list[Any], cells: dict[int, Any]) -> list[Any]:
        for col, value in cells.items():
            row[col] = value
        return row

    anywhere = st.tuples(*[serial if name == "序号" else st.one_of(good[name], garbage)
                           for name in header]).map(list)
    return st.one_of(st.builds(spoil, plausible, spoilt), anywhere)


def sheet_of(header: list[str], rows: list[list[Any]], title: Any) -> SheetData:
    body = [list(header), *rows]
    if title is not None:
        body.insert(0, [title])
    width = max(len(r) for r in body)
    return SheetData("花名册", [[*r, *([""] * (width - len(r)))] for r in body], source="fuzz.xlsx")


titles = st.one_of(st.none(), st.just("金井镇2025年培训签到表"), garbage)


def plan_or_refuse(plan_fn: Any, ledger: Ledger, sheet: SheetData, **kwargs: Any) -> Any:
    with ledger.db.session() as s:
        try:
            plan = plan_fn(s, ledger.office, sheet, **kwargs)
        except KepuError as err:
            assert_chinese(err)
            event("plan refused")
            return None
    body = sheet.rows[plan.header_row:]
    assert [r.excel_row for r in plan.rows] == list(
        range(plan.header_row + 1, plan.header_row + 1 + len(body)))
    assert all(r.status in STATUS_LABELS for r in plan.rows)
    return plan


def apply_or_refuse(apply_fn: Any, ledger: Ledger, plan: Any) -> Any:
    """The import applied (bad rows skipped), or None when it was refused in Chinese
    without changing the database."""
    before = ledger.state()
    try:
        result = apply_fn(ledger.db, ledger.office, plan, skip_invalid=True, backup=False)
    except KepuError as err:
        assert_chinese(err)
        assert ledger.state() == before, "a refused import changed the database"
        event("apply refused")
        return None
    event("wrote rows" if result.written else "nothing to write")
    return result


def trainee_tuple(v: dict[str, Any]) -> tuple[Any, ...]:
    born = v["birth_date"].isoformat() if v["birth_date"] else None
    return (v["name"], v["id_number"], v["gender"], born, v["phone"], v["category_id"],
            v["village"], v["employer"], v["note"])


TRAINEE_SQL = ("SELECT id, name, id_number, gender, birth_date, phone, category_id, village, "
               "employer, note FROM trainee")


@settings(FUZZ, max_examples=700)
@given(rows=st.lists(row_of(TRAINEE_HEADER, good_trainee), min_size=1, max_size=12),
       title=titles, into_training=st.booleans())
def test_random_cells_in_a_roster(ledger: Ledger, rows: list[list[Any]], title: Any,
                                  into_training: bool) -> None:
    sheet = sheet_of(TRAINEE_HEADER, rows, title)
    training = ledger.training if into_training else None
    plan = plan_or_refuse(plan_trainee_import, ledger, sheet, training_id=training)
    if plan is None:
        return
    people_before = {r[0] for r in ledger.rows(TRAINEE_SQL)}
    roster_before = {r[0] for r in ledger.rows(
        "SELECT trainee_id FROM attendance WHERE activity_id = ?", ledger.training)}
    result = apply_or_refuse(apply_trainee_import, ledger, plan)
    if result is None:
        return
    new_rows = [r.values for r in plan.rows if r.status == NEW]
    existing = [r.values for r in plan.rows if r.status == EXISTING]
    added = [r[1:] for r in ledger.rows(TRAINEE_SQL) if r[0] not in people_before]
    assert Counter(added) == Counter(trainee_tuple(v) for v in new_rows)
    assert result.imported == len(new_rows)
    roster_after = {r[0] for r in ledger.rows(
        "SELECT trainee_id FROM attendance WHERE activity_id = ?", ledger.training)}
    if training is None:
        assert roster_after == roster_before
        return
    joined = roster_after - roster_before
    new_ids = {r[0] for r in ledger.rows(TRAINEE_SQL) if r[0] not in people_before}
    known = {v["trainee_id"] for v in existing if not v.get("on_roster")}
    assert joined == new_ids | known
    assert result.attendances == len(joined)


ACTIVITY_HEADER = ["序号", "活动名称", "活动日期", "结束日期", "活动形式", "主题活动",
                   "线上/线下", "重点人群", "主题领域", "村/社区", "活动地点", "主办单位",
                   "参与人次", "线上浏览量", "志愿者人次", "发放资料", "经费", "培训学时",
                   "志愿服务时长", "活动简介", "备注"]
counts = st.one_of(st.integers(0, 5000), st.integers(0, 5000).map(float),
                   st.sampled_from(["", "约200人", "1.2万人次", "1,200", "-", "无"]))
good_activity = {
    "活动名称": st.builds("{}（第{}期）".format,
                      st.sampled_from(["防范电信诈骗科普讲座", "农业实用技术培训", "科普日集市宣传",
                                       "垃圾分类知识竞赛", "线上直播：健康生活"]),
                      st.integers(1, 10**6)),
    "活动日期": st.one_of(st.dates(dt.date(2024, 1, 1), dt.date(2026, 6, 30)),
                      st.sampled_from(["2025-09-16", "2025/9/16", "2025.9.16-9.18",
                                       "2025年9月16日", "20250916", "9月16日"]),
                      st.sampled_from([45915.0, 45916])),
    "结束日期": st.one_of(st.just(""), st.just(""),
                      st.dates(dt.date(2024, 1, 1), dt.date(2026, 6, 30))),
    "活动形式": st.sampled_from(["讲座", "培训", "展览", "宣传咨询", "线上", "竞赛", "比赛", ""]),
    "主题活动": st.sampled_from(["", "全国科普日", "科技周", "无"]),
    "线上/线下": st.sampled_from(["", "线上", "线下", "现场"]),
    "重点人群": st.sampled_from(["", "农民", "老年人、妇女", "村民,学生"]),
    "主题领域": st.sampled_from(["", "健康", "安全", "生态环境"]),
    "村/社区": st.sampled_from(["", "坑口村", "阳光社区"]),
    "活动地点": st.sampled_from(["", "村委会"]),
    "主办单位": st.sampled_from(["", "金井镇科协"]),
    "参与人次": counts, "志愿者人次": counts, "发放资料": counts,
    "线上浏览量": st.sampled_from(["", "", "", 0, 3500, "1.2万"]),  # offline rows must have none
    "经费": st.one_of(st.integers(0, 100000), st.sampled_from(["1,500.50元", "¥1500", "0.125"])),
    "培训学时": st.sampled_from(["", 2, 2.5, "3学时", 0]),
    "志愿服务时长": st.sampled_from(["", 4, "1.5小时"]),
    "活动简介": st.sampled_from(["", "讲解防范电信诈骗知识。"]),
    "备注": st.sampled_from(["", "补录"]),
}

ACTIVITY_SQL = ("SELECT id, title, start_date, end_date, form_id, campaign_id, online, village, "
                "address, organizer, co_organizers, attend, views, volunteers, "
                "volunteer_hours_x10, materials, media_reports, spending_fen, train_hours_x10, "
                "description FROM activity")


def activity_tuple(a: ActivityInput) -> tuple[Any, ...]:
    return (a.title, a.start_date.isoformat(), a.end_date.isoformat(), a.form_id, a.campaign_id,
            int(a.online), a.village, a.address, a.organizer, a.co_organizers, a.attend, a.views,
            a.volunteers, a.volunteer_hours_x10, a.materials, a.media_reports, a.spending_fen,
            a.train_hours_x10, a.description)


@settings(FUZZ, max_examples=700)
@given(rows=st.lists(row_of(ACTIVITY_HEADER, good_activity), min_size=1, max_size=8),
       title=titles)
def test_random_cells_in_an_activity_ledger(ledger: Ledger, rows: list[list[Any]],
                                            title: Any) -> None:
    sheet = sheet_of(ACTIVITY_HEADER, rows, title)
    plan = plan_or_refuse(plan_activity_import, ledger, sheet)
    if plan is None:
        return
    known = {r[0] for r in ledger.rows(ACTIVITY_SQL)}
    result = apply_or_refuse(apply_activity_import, ledger, plan)
    if result is None:
        return
    planned = [activity_of(r) for r in plan.rows if r.status == NEW]
    added = [r[1:] for r in ledger.rows(ACTIVITY_SQL) if r[0] not in known]
    assert Counter(added) == Counter(activity_tuple(a) for a in planned if a is not None)
    assert result.imported == len(planned)
    new_ids = {r[0] for r in ledger.rows(ACTIVITY_SQL)} - known
    groups = [r for r in ledger.rows("SELECT activity_id FROM activity_group")
              if r[0] in new_ids]
    assert len(groups) == sum(len(a.groups) for a in planned if a is not None)


def test_the_fuzzed_database_is_sound(ledger: Ledger) -> None:
    """After all the examples (module order: this runs last)."""
    con = sqlite3.connect(ledger.db.path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        imported = con.execute("SELECT COUNT(*) FROM trainee").fetchone()[0]
        activities = con.execute("SELECT COUNT(*) FROM activity").fetchone()[0]
    finally:
        con.close()
    assert imported > 20 and activities > 20, (imported, activities)  # the fuzzing wrote rows

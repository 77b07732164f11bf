"""Importing an existing activity ledger (历史台账) from a workbook.

Same shape as the roster import: :func:`plan_activity_import` decides for every
row (new, already in the ledger, twice in the file, invalid and why, skipped)
without writing; :func:`apply_activity_import` writes all of it in one
transaction, or nothing. Each row is checked by :func:`db.activities.validate_activity`,
so an imported activity obeys exactly the rules of one entered by hand
(locked months, online vs offline counting, 培训 needs 学时 ...).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from db import audit
from db.activities import locked_months, LABELS as ACTIVITY_LABELS
from db.activities import ActivityInput, GroupShare, validate_activity
from db.catalogs import CatalogItem, all_catalogs
from db.database import Database
from db.errors import ValidationError
from db.imports.catalog_match import (
    CAMPAIGN_SYNONYMS,
    FORM_SYNONYMS,
    GROUP_SYNONYMS,
    TOPIC_SYNONYMS,
    CatalogMatcher,
    norm,
)
from db.imports.common import (
    BACKUP_MIN_ROWS,
    DUPLICATE,
    EXISTING,
    INVALID,
    NEW,
    ImportPlan,
    ImportResult,
    IsCancelled,
    Progress,
    RowIssue,
    RowResult,
    Ticker,
    cell_str,
    classify_row,
    column_warnings,
    header_cells,
    refuse_if_invalid,
)
from db.imports.mapping import (
    ACTIVITY_FIELDS,
    Mapping,
    check_mapping,
    detect_header,
    header_columns,
)
from db.imports.reader import Cell, SheetData, display_text, gc_paused
from db.imports.values import (
    parse_count,
    parse_date,
    parse_date_range,
    parse_money_fen,
    parse_tenths,
    split_names,
)
from db.models import new_id, utcnow
from db.offices import OfficeInfo

KIND = "activities"
CHUNK = 500
# ActivityInput attribute → import field key (for naming the column of a problem)
_FIELD_OF = {"form_id": "form", "campaign_id": "campaign", "volunteer_hours_x10": "volunteer_hours",
             "spending_fen": "spending", "train_hours_x10": "train_hours", "topic_ids": "topics",
             "project_ids": "projects"}
_COUNTS = (("attend", "参与人次"), ("views", "线上浏览量"), ("volunteers", "志愿者人次"),
           ("materials", "发放资料"), ("media_reports", "媒体报道"))
_TEXTS = ("village", "address", "organizer", "co_organizers", "description", "note")
_ONLINE_WORDS = {"线上", "网络", "网上", "是", "y", "yes", "直播", "线上活动"}
_OFFLINE_WORDS = {"线下", "否", "n", "no", "现场", "线下活动"}
_YEAR = re.compile(r"(20\d\d)\s*年")


class _Catalogs:
    """The matchers of one plan (built once)."""

    def __init__(self, catalogs: dict[str, list[CatalogItem]]) -> None:
        self.form = CatalogMatcher(catalogs["form"], FORM_SYNONYMS, partial=True)
        self.campaign = CatalogMatcher(catalogs["campaign"], CAMPAIGN_SYNONYMS, partial=True)
        self.group = CatalogMatcher(catalogs["group"], GROUP_SYNONYMS, partial=True)
        self.topic = CatalogMatcher(catalogs["topic"], TOPIC_SYNONYMS, partial=True)
        self.project = CatalogMatcher(catalogs["project"], {}, partial=True)
        self.order = {i.id: (i.sort_order, i.code) for kind in catalogs.values() for i in kind}


def _default_year(sheet: SheetData, header_index: int) -> int | None:
    """A year written in the title rows (“2025年科普活动台账”), for dates written as 9月16日."""
    for row in sheet.rows[:header_index]:
        for value in row:
            if isinstance(value, str):
                m = _YEAR.search(value)
                if m:
                    return int(m[1])
    return None


def _existing_keys(session: Session, office_id: str) -> set[tuple[str, str, str]]:
    rows = session.connection().exec_driver_sql(
        "SELECT title, start_date, village FROM activity WHERE office_id = ?", (office_id,))
    return {(norm(t), str(d), norm(v)) for t, d, v in rows}


def _names(matcher: CatalogMatcher, value: Cell, label: str, warnings: list[str]
           ) -> list[CatalogItem]:
    found: dict[str, CatalogItem] = {}
    for name in split_names(value):
        item = matcher.match(name)
        if item is None:
            warnings.append(f"{label}“{name}”不在目录中，未关联（可选：{matcher.choices()}）")
        else:
            found.setdefault(item.id, item)
    return list(found.values())


def _row_input(raw: dict[str, Cell], cats: _Catalogs, default_year: int | None
               ) -> tuple[ActivityInput | None, dict[str, Any], list[RowIssue], list[str]]:
    """Parse one row's cells into an ActivityInput (None if a value cannot be read)."""
    errors: list[RowIssue] = []
    warnings: list[str] = []
    shown: dict[str, Any] = {}

    def fail(key: str, err: ValidationError) -> None:
        label = next(f.label for f in ACTIVITY_FIELDS if f.key == key)
        errors.append(RowIssue(label, display_text(raw.get(key, "")), err.message))

    title = cell_str(raw.get("title", ""))
    shown["title"] = title
    start = end = None
    try:
        start, end, warning = parse_date_range(raw.get("start_date", ""), default_year)
        if warning:
            warnings.append(warning)
    except ValidationError as err:
        fail("start_date", err)
    end_raw = raw.get("end_date", "")
    if start is not None and cell_str(end_raw):
        try:
            end, warning = parse_date(end_raw, start.year)
            if warning:
                warnings.append(warning)
        except ValidationError as err:
            fail("end_date", err)
    shown["start_date"], shown["end_date"] = start, end

    form_text = cell_str(raw.get("form", ""))
    form = cats.form.match(form_text) if form_text else None
    if form is None:
        if form_text:
            errors.append(RowIssue("活动形式", form_text, f"活动形式“{form_text}”不在目录中"
                                   f"（可选：{cats.form.choices()}）"))
        else:
            guess = cats.form.match(title) if title else None
            if guess is None:
                errors.append(RowIssue("活动形式", "", "未填活动形式，且无法从活动名称判断"
                                       f"（可选：{cats.form.choices()}）"))
            else:
                form = guess
                warnings.append(f"未填活动形式，按活动名称判为“{guess.name}”")
    shown["form"] = form.name if form else form_text

    campaign = None
    campaign_text = cell_str(raw.get("campaign", ""))
    if campaign_text and campaign_text not in ("无", "-", "/", "否"):
        campaign = cats.campaign.match(campaign_text)
        if campaign is None:
            warnings.append(f"主题活动“{campaign_text}”不在目录中，未关联"
                            f"（可选：{cats.campaign.choices()}）")
    shown["campaign"] = campaign.name if campaign else ""

    online = bool(form and form.props.get("online"))
    channel = norm(cell_str(raw.get("channel", ""))).lower()
    if channel in _ONLINE_WORDS:
        online = True
    elif channel and channel not in _OFFLINE_WORDS:
        warnings.append(f"线上/线下“{raw.get('channel')}”无法识别，按活动形式判断")

    numbers: dict[str, int] = {}
    for key, label in _COUNTS:
        try:
            numbers[key], warning = parse_count(raw.get(key, ""), label)
            if warning:
                warnings.append(warning)
        except ValidationError as err:
            fail(key, err)
    try:
        spending, warning = parse_money_fen(raw.get("spending", ""))
        if warning:
            warnings.append(warning)
    except ValidationError as err:
        spending = 0
        fail("spending", err)
    hours = {}
    for key, label in (("train_hours", "培训学时"), ("volunteer_hours", "志愿服务时长")):
        try:
            hours[key] = parse_tenths(raw.get(key, ""), label)
        except ValidationError as err:
            fail(key, err)
    if online and numbers.get("attend", 0) > 0:
        if numbers.get("views", 0) == 0:
            numbers["views"] = numbers["attend"]
            warnings.append(f"线上活动按浏览量统计：{numbers['attend']} 记为线上浏览量")
        else:
            warnings.append(f"线上活动不计人次：已有浏览量，人次 {numbers['attend']} 未导入")
        numbers["attend"] = 0

    groups = _names(cats.group, raw.get("groups", ""), "重点人群", warnings)
    topics = _names(cats.topic, raw.get("topics", ""), "主题领域", warnings)
    projects = _names(cats.project, raw.get("projects", ""), "重点工程", warnings)
    shown["groups"] = "、".join(g.name for g in groups)
    texts = {key: cell_str(raw.get(key, "")) for key in _TEXTS}
    description = texts["description"]
    if texts["note"]:
        description = f"{description}\n备注：{texts['note']}" if description \
            else f"备注：{texts['note']}"
    shown.update(attend=numbers.get("attend", 0), views=numbers.get("views", 0),
                 spending_fen=spending, online=online, village=texts["village"])
    if errors or start is None or end is None or form is None:
        return None, shown, errors, warnings

    def ordered(items: list[CatalogItem]) -> list[CatalogItem]:
        return sorted(items, key=lambda i: cats.order[i.id])

    data = ActivityInput(
        title=title, start_date=start, end_date=end, form_id=form.id,
        campaign_id=campaign.id if campaign else None, online=online,
        village=texts["village"], address=texts["address"], organizer=texts["organizer"],
        co_organizers=texts["co_organizers"], attend=numbers["attend"], views=numbers["views"],
        volunteers=numbers["volunteers"], volunteer_hours_x10=hours["volunteer_hours"],
        materials=numbers["materials"], media_reports=numbers["media_reports"],
        spending_fen=spending, train_hours_x10=hours["train_hours"], description=description,
        groups=tuple(GroupShare(g.id) for g in ordered(groups)),
        topic_ids=tuple(t.id for t in ordered(topics)),
        project_ids=tuple(p.id for p in ordered(projects)),
    )
    return data, shown, errors, warnings


@gc_paused()
def plan_activity_import(session: Session, office: OfficeInfo, sheet: SheetData,
                         mapping: Mapping | None = None, *, header_index: int | None = None,
                         progress: Progress | None = None,
                         is_cancelled: IsCancelled | None = None) -> ImportPlan:
    """Decide what importing a ledger sheet would do to every row; writes nothing.

    Dates may be real date cells or 2025-09-16, 2025/09/16, 2025.9.16, 2025年9月16日
    (a span such as 2025.9.16-9.18 fills the end date); numbers 200, 200.0, "200人",
    "约200人"; money "1,500.50元"; forms, campaigns, groups and topics through
    synonym tables. An unknown 活动形式 or a locked month makes the row invalid; an
    unknown 主题活动/重点人群/主题领域 is a warning. The same activity (name, date
    and 村/社区) twice in the file, or already in the ledger, is imported once.

    Raises:
        ValidationError: the mapping lacks 活动名称 or 日期, or uses a column twice.
        ImportCancelledError: the user cancelled.
    """
    ticker = Ticker(progress, is_cancelled)
    if mapping is None or header_index is None:
        guess = detect_header(sheet, ACTIVITY_FIELDS)
        mapping = guess.mapping if mapping is None else mapping
        header_index = guess.row_index if header_index is None else header_index
    check_mapping(mapping, ACTIVITY_FIELDS, sheet.width)
    catalogs = all_catalogs(session)
    cats = _Catalogs(catalogs)
    locked = locked_months(session, office.id)
    existing = _existing_keys(session, office.id)
    default_year = _default_year(sheet, header_index)
    columns = header_columns(sheet, header_index)
    plan_warnings = column_warnings(sheet, header_index, mapping, columns)
    if "form" not in mapping:
        plan_warnings.insert(0, "表中没有“活动形式”列：将按活动名称判断各行的活动形式")
    header = header_cells(sheet, header_index, mapping)
    cols = list(mapping.values())
    items = list(mapping.items())
    seen: dict[tuple[str, str, str], int] = {}
    results: list[RowResult] = []
    body = sheet.rows[header_index + 1:]
    ticker.check()
    for offset, row in enumerate(body):
        ticker.step(offset, len(body), 0, 100, "正在检查各行")
        excel_row = header_index + 2 + offset
        skipped = classify_row(row, cols, header, mapping["title"])
        if skipped is not None:
            results.append(RowResult(excel_row, skipped[0], note=skipped[1]))
            continue
        raw = {key: row[col] if col < len(row) else "" for key, col in items}
        data, shown, errors, warnings = _row_input(raw, cats, default_year)
        if data is not None:
            for e in validate_activity(session, office, data, catalogs=catalogs,
                                       locked=locked):
                key = _FIELD_OF.get(e.field, e.field)
                value = display_text(raw.get(key, "")) if key in mapping else ""
                errors.append(RowIssue(ACTIVITY_LABELS.get(e.field, e.field), value, e.message))
        if errors:
            results.append(RowResult(excel_row, INVALID, shown, tuple(errors), tuple(warnings)))
            continue
        assert data is not None
        shown["input"] = data
        key3 = (norm(data.title), data.start_date.isoformat(), norm(data.village))
        if key3 in seen:
            results.append(RowResult(excel_row, DUPLICATE, shown, (), tuple(warnings),
                                     f"与第{seen[key3]}行是同一活动（名称、日期、村/社区相同），"
                                     "不重复导入"))
            continue
        seen[key3] = excel_row
        if key3 in existing:
            results.append(RowResult(excel_row, EXISTING, shown, (), tuple(warnings),
                                     "台账中已有同名、同日、同村/社区的活动，不重复导入"))
            continue
        results.append(RowResult(excel_row, NEW, shown, (), tuple(warnings)))
    ticker.report(100, "检查完毕")
    return ImportPlan(KIND, sheet.name, header_index + 1, dict(mapping), columns, tuple(results),
                      tuple(plan_warnings), office_id=office.id, source=sheet.source)


_ACTIVITY_COLUMNS = ("id", "office_id", "title", "start_date", "end_date", "form_id",
                     "campaign_id", "online", "village", "address", "site_id", "organizer",
                     "co_organizers", "attend", "views", "volunteers", "volunteer_hours_x10",
                     "materials", "media_reports", "spending_fen", "train_hours_x10",
                     "description", "created_at", "updated_at")


def _insert(table: str, columns: Sequence[str]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})")


@gc_paused()
def apply_activity_import(db: Database, office: OfficeInfo, plan: ImportPlan, *,
                          skip_invalid: bool = False, user: str | None = None,
                          progress: Progress | None = None,
                          is_cancelled: IsCancelled | None = None,
                          backup: bool = True) -> ImportResult:
    """Write the new activities of a plan in one transaction (or nothing).

    Raises:
        ImportRefusedError: invalid rows without ``skip_invalid``.
        ImportCancelledError: the user cancelled (nothing written).
        PeriodLockedError: a month got locked after the plan was made (nothing written).
    """
    if plan.kind != KIND:
        raise ValueError(f"not an activity import plan: {plan.kind}")
    started = time.perf_counter()
    ticker = Ticker(progress, is_cancelled)
    refuse_if_invalid(plan, skip_invalid)
    todo = [r for r in plan.rows if r.status == NEW]
    summary = dict(rows=plan.data_rows, duplicates_in_file=plan.duplicates,
                   invalid_skipped=plan.invalid)
    if not todo:
        return ImportResult(imported=0, merged=plan.existing, written=False, **summary)
    ticker.check()
    backup_path = None
    if backup and len(todo) > BACKUP_MIN_ROWS:
        ticker.report(2, "正在备份数据库…")
        backup_path = str(db.backup(reason="import"))
    ticker.check()
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    with db.write(user) as s:
        existing = _existing_keys(s, office.id)
        activities: list[tuple[Any, ...]] = []
        links: dict[str, list[tuple[Any, ...]]] = {"activity_group": [], "activity_topic": [],
                                                    "activity_project": []}
        merged = plan.existing
        for row in todo:
            data: ActivityInput = row.values["input"]
            if (norm(data.title), data.start_date.isoformat(), norm(data.village)) in existing:
                merged += 1  # entered by someone else since the plan was made
                continue
            aid = new_id()
            activities.append((aid, office.id, data.title, data.start_date.isoformat(),
                               data.end_date.isoformat(), data.form_id, data.campaign_id,
                               int(data.online), data.village, data.address, None,
                               data.organizer, data.co_organizers, data.attend, data.views,
                               data.volunteers, data.volunteer_hours_x10, data.materials,
                               data.media_reports, data.spending_fen, data.train_hours_x10,
                               data.description, now, now))
            links["activity_group"] += [(aid, g.group_id, g.attend) for g in data.groups]
            links["activity_topic"] += [(aid, t) for t in data.topic_ids]
            links["activity_project"] += [(aid, p) for p in data.project_ids]
        conn = s.connection()
        batches = [(_insert("activity", _ACTIVITY_COLUMNS), activities),
                   (_insert("activity_group", ("activity_id", "group_id", "attend")),
                    links["activity_group"]),
                   (_insert("activity_topic", ("activity_id", "topic_id")),
                    links["activity_topic"]),
                   (_insert("activity_project", ("activity_id", "project_id")),
                    links["activity_project"])]
        total = sum(len(b[1]) for b in batches)
        done = 0
        for sql, data_rows in batches:
            for start in range(0, len(data_rows), CHUNK):
                ticker.check()
                part = data_rows[start:start + CHUNK]
                conn.exec_driver_sql(sql, part)
                done += len(part)
                ticker.report(10 + 85 * done // max(total, 1), f"正在写入数据库（{done}/{total}）…")
        counts = {"rows": plan.data_rows, "imported": len(activities), "merged": merged,
                  "duplicates_in_file": plan.duplicates, "invalid_skipped": plan.invalid,
                  "file": plan.source, "sheet": plan.sheet_name}
        audit.log(s, "import", "activity", office.id,
                  note=f"从“{plan.source or plan.sheet_name}”导入活动台账："
                       f"新增 {len(activities)} 项，"
                       f"已有 {merged} 项",
                  changes=counts)
        s.flush()
        ticker.check()
    ticker.report(100, "导入完成")
    return ImportResult(imported=len(activities), merged=merged, written=True,
                        backup=backup_path, seconds=round(time.perf_counter() - started, 3),
                        **summary)


def activity_of(row: RowResult) -> ActivityInput | None:
    """The activity a planned row would create (None for rows that create none)."""
    value = row.values.get("input")
    return value if isinstance(value, ActivityInput) else None


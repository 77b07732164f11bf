"""Importing sign-in sheets and rosters (签到表 / 花名册) into the register or a training.

:func:`plan_trainee_import` reads every row and decides, writing nothing:
a new person, a person already registered (selected, and put on the training's
roster), the same person again in the file, an invalid row and why, or a row to
skip (blank, 合计, notes). :func:`apply_trainee_import` writes the plan in one
transaction with bulk inserts, or nothing at all.

Each person is cleaned by :mod:`db.imports.people` with the rules of
:func:`db.trainees.clean_trainee`.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import audit
from db.activities import locked_months
from db.catalogs import list_catalog
from db.concurrency import InBackground
from db.database import Database
from db.errors import ValidationError
from db.idcard import mask_id_number
from db.imports.catalog_match import GROUP_SYNONYMS, CatalogMatcher
from db.imports.common import (
    BACKUP_MIN_ROWS,
    CHECK_EVERY,
    DUPLICATE,
    EXISTING,
    INVALID,
    NEW,
    ImportPlan,
    ImportResult,
    IsCancelled,
    Progress,
    RowResult,
    Ticker,
    big_cache,
    cell_str,
    classify_row,
    column_warnings,
    header_cells,
    new_ids,
    refuse_if_invalid,
)
from db.imports.mapping import TRAINEE_FIELDS, Mapping, check_mapping, detect_header, header_columns
from db.imports.people import clean_person, fast_cleaner
from db.imports.reader import SheetData, gc_paused
from db.models import Activity, CatalogEntry, utcnow
from db.offices import OfficeInfo
from db.periods import month_key

KIND = "trainees"
CHUNK = 500
FAST_PATH = True  # tests switch it off to check that both paths agree


# --- the plan -----------------------------------------------------------------------------------

def _training(session: Session, office: OfficeInfo, training_id: str) -> Activity:
    activity = session.get(Activity, training_id)
    if activity is None or activity.office_id != office.id:
        raise ValidationError("要导入的培训不存在（可能已被删除）", field="培训")
    form_code = session.scalar(select(CatalogEntry.code).where(CatalogEntry.id == activity.form_id))
    if form_code != "培训":
        raise ValidationError(f"“{activity.title}”的活动形式不是“培训”，不能导入花名册",
                              field="培训")
    if month_key(activity.start_date) in locked_months(session, office.id):
        raise ValidationError(
            f"培训“{activity.title}”所在的{activity.start_date.year}年{activity.start_date.month}月"
            "已上报并锁定，不能再导入花名册；如需修改，请先在“报表”中重新打开该月。", field="培训")
    return activity


def _existing(session: Session, office_id: str) -> tuple[dict[str, tuple[str, str]],
                                                          dict[tuple[str, str], str]]:
    """Registered people: 身份证号 → (id, name), and (name, phone) → id for people without one."""
    by_number: dict[str, tuple[str, str]] = {}
    by_name_phone: dict[tuple[str, str], str] = {}
    rows = session.connection().exec_driver_sql(
        "SELECT id, name, id_number, phone FROM trainee WHERE office_id = ?", (office_id,))
    for tid, name, number, phone in rows:
        if number:
            by_number[number] = (tid, name)
        elif phone:
            by_name_phone.setdefault((name, phone), tid)
    return by_number, by_name_phone


@gc_paused()
def plan_trainee_import(session: Session, office: OfficeInfo, sheet: SheetData,
                        mapping: Mapping | None = None, *, header_index: int | None = None,
                        training_id: str | None = None, progress: Progress | None = None,
                        is_cancelled: IsCancelled | None = None) -> ImportPlan:
    """Decide what importing ``sheet`` would do to every row; writes nothing.

    Args:
        session: a read session.
        office: the office the people belong to.
        sheet: the sheet as read by :func:`db.imports.read_workbook`.
        mapping: field key → 0-based column (default: detected).
        header_index: 0-based row of the header (default: detected); data follows it.
        training_id: a training (form 培训) to put everyone on; None: register only.
        progress: called with (percent, message) now and then.
        is_cancelled: asked between stages and every few hundred rows.

    Raises:
        ValidationError: the mapping lacks 姓名 or uses a column twice; the training
            does not exist, is not a training, or its month is locked.
        ImportCancelledError: the user cancelled.
    """
    ticker = Ticker(progress, is_cancelled)
    if mapping is None or header_index is None:
        guess = detect_header(sheet, TRAINEE_FIELDS)
        mapping = guess.mapping if mapping is None else mapping
        header_index = guess.row_index if header_index is None else header_index
    check_mapping(mapping, TRAINEE_FIELDS, sheet.width)
    training = _training(session, office, training_id) if training_id else None
    roster: set[str] = set()
    if training is not None:
        roster = set(session.connection().exec_driver_sql(
            "SELECT trainee_id FROM attendance WHERE activity_id = ?", (training.id,)).scalars())
    categories = CatalogMatcher(list_catalog(session, "group"), GROUP_SYNONYMS, partial=True)
    by_number, by_name_phone = _existing(session, office.id)
    ticker.check()
    ticker.report(5, "正在检查各行…")

    columns = header_columns(sheet, header_index)
    plan_warnings = column_warnings(sheet, header_index, mapping, columns)
    header = header_cells(sheet, header_index, mapping)
    cols = list(mapping.values())
    fields = [(key, col) for key, col in mapping.items() if key != "category"]
    category_col = mapping.get("category")
    has_id_column = "id_number" in mapping
    seen_numbers: dict[str, int] = {}
    seen_name_phone: dict[tuple[str, str], int] = {}
    today = dt.date.today()
    results: list[RowResult] = []
    append = results.append
    width = sheet.width
    fast = fast_cleaner(mapping, header, categories, today) if FAST_PATH else None
    body = sheet.rows[header_index + 1:]
    if body and min(map(len, body)) < width:
        body = [row if len(row) >= width else [*row, *([""] * (width - len(row)))]
                for row in body]
    total = len(body)
    seen_get, known_get = seen_numbers.get, by_number.get
    for chunk in range(0, total, CHECK_EVERY):
        ticker.step(chunk, total, 5, 95, "正在检查各行")
        rows = body[chunk:chunk + CHECK_EVERY]
        quick = list(map(fast, rows)) if fast is not None else [None] * len(rows)
        first_row = header_index + 2 + chunk  # as Excel numbers it
        for excel_row, row, values in zip(range(first_row, first_row + len(rows)), rows, quick,
                                          strict=True):
            if values is not None:
                # the usual row: someone new, with a 身份证号 (the fast path needs one)
                number = values["id_number"]
                if seen_get(number) is None and known_get(number) is None:
                    seen_numbers[number] = excel_row
                    append(RowResult(excel_row, NEW, values))
                    continue
                warnings: list[str] = []
            else:
                skipped = classify_row(row, cols, header, mapping["name"])
                if skipped is not None:
                    append(RowResult(excel_row, skipped[0], note=skipped[1]))
                    continue
                raw = {key: row[col] for key, col in fields}
                values, errors, warnings = clean_person(raw, today)
                values["category_id"] = None
                if category_col is not None:
                    text = cell_str(row[category_col])
                    if text:
                        item = categories.match(text)
                        if item is None:
                            warnings.append(f"人员类别“{text}”不在目录中，未设置类别"
                                            f"（可选：{categories.choices()}）")
                        else:
                            values["category_id"] = item.id
                            values["category"] = item.name
                if errors:
                    append(RowResult(excel_row, INVALID, values, tuple(errors), tuple(warnings)))
                    continue
            status, note = NEW, ""
            number = values["id_number"]
            if number:
                first = seen_get(number)
                if first is not None:
                    append(RowResult(
                        excel_row, DUPLICATE, values, (), tuple(warnings),
                        f"与第{first}行是同一人（身份证号 {mask_id_number(number)}），不重复导入"))
                    continue
                seen_numbers[number] = excel_row
                known = known_get(number)
                if known is not None:
                    status = EXISTING
                    values["trainee_id"] = known[0]
                    if known[1] != values["name"]:
                        warnings.append(f"身份证号已登记为“{known[1]}”，与本行姓名“{values['name']}”"
                                        "不同；按已登记的人员处理，登记信息不变")
                    note = "已登记的人员"
                    if training is not None:
                        values["on_roster"] = known[0] in roster
                        note = ("已在该培训的花名册中，不重复添加" if values["on_roster"]
                                else "已登记的人员，将加入该培训的花名册")
            else:
                if has_id_column:
                    warnings.append("未填身份证号，无法与已登记人员核对是否同一人")
                phone = values["phone"]
                if phone:
                    key = (values["name"], phone)
                    if key in seen_name_phone:
                        warnings.append(f"与第{seen_name_phone[key]}行姓名、电话相同，可能是同一人"
                                        "（未填身份证号，无法确认）")
                    else:
                        seen_name_phone[key] = excel_row
                    if key in by_name_phone:
                        warnings.append("登记册中已有同名同电话的人员（未填身份证号，无法确认是否同一人）")
            append(RowResult(excel_row, status, values, (), tuple(warnings) if warnings else (),
                             note))
    if not has_id_column:
        plan_warnings.insert(0, "表中没有身份证号列：无法与已登记人员核对，每行都将登记为新人员")
    ticker.check()
    ticker.report(100, "检查完毕")
    return ImportPlan(KIND, sheet.name, header_index + 1, dict(mapping), columns, tuple(results),
                      tuple(plan_warnings), training.id if training else None,
                      training.title if training else "", office.id, sheet.source)


# --- applying it --------------------------------------------------------------------------------

def _people(ids: list[str], fresh: list[dict[str, Any]], office_id: str, now: str,
            share: bool = False) -> list[tuple[Any, ...]]:
    """The trainee rows to insert; ``share``: let another thread run now and then."""
    people: list[tuple[Any, ...]] = []
    step = 1000 if share else len(fresh) or 1
    for start in range(0, len(fresh), step):
        people += [(tid, office_id, v["name"], v["id_number"], v["gender"],
                    (born := v["birth_date"]) and born.isoformat(), v["phone"],
                    v["category_id"], v["village"], v["employer"], v["note"], now)
                   for tid, v in zip(ids[start:start + step], fresh[start:start + step],
                                     strict=True)]
        if share:
            time.sleep(0)  # the backup thread waits for the GIL between two SQLite calls
    return people


_TRAINEE_SQL = ("INSERT INTO trainee (id, office_id, name, id_number, gender, birth_date, phone,"
                " category_id, village, employer, note, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_ATTEND_SQL = "INSERT INTO attendance (activity_id, trainee_id, hours_x10) VALUES (?, ?, NULL)"


@gc_paused()
def apply_trainee_import(db: Database, office: OfficeInfo, plan: ImportPlan, *,
                         skip_invalid: bool = False, user: str | None = None,
                         progress: Progress | None = None, is_cancelled: IsCancelled | None = None,
                         backup: bool = True) -> ImportResult:
    """Write a plan in one transaction: new people, and the roster of the training if any.

    All or nothing: with invalid rows and ``skip_invalid`` False nothing is written
    (:class:`ImportRefusedError`); a cancel or any error rolls everything back. People
    registered since the plan was made are selected, not added twice. One
    ``audit_log`` row records the import. With more than :data:`BACKUP_MIN_ROWS`
    rows to write a verified backup is made first (``backup=False`` skips it).

    Raises:
        ImportRefusedError: invalid rows without ``skip_invalid``.
        ImportCancelledError: the user cancelled (nothing written).
        ValidationError: the training is gone or its month got locked.
    """
    if plan.kind != KIND:
        raise ValueError(f"not a trainee import plan: {plan.kind}")
    started = time.perf_counter()
    ticker = Ticker(progress, is_cancelled)
    refuse_if_invalid(plan, skip_invalid)
    fresh = [r.values for r in plan.rows if r.status == NEW]
    known_rows = [r.values for r in plan.rows if r.status == EXISTING]
    summary = dict(rows=plan.data_rows, duplicates_in_file=plan.duplicates,
                   invalid_skipped=plan.invalid)
    to_add = len(fresh)
    if plan.training_id:
        to_add += sum(1 for v in known_rows if not v.get("on_roster"))
    if not to_add:
        return ImportResult(imported=0, merged=len(known_rows), written=False, **summary)
    ticker.check()
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    office_id = office.id
    backing_up: InBackground[Path] | None = None
    if backup and to_add > BACKUP_MIN_ROWS:
        ticker.report(2, "正在备份数据库…")
        # the verified backup is made while the rows to insert are made ready
        backing_up = InBackground(lambda: db.backup(reason="import"), "kepu-import-backup")
    try:
        ids = new_ids(len(fresh))
        people = _people(ids, fresh, office_id, now, backing_up is not None)
    except BaseException:
        if backing_up is not None:
            backing_up.join()
        raise
    backup_path = str(backing_up.result()) if backing_up is not None else None
    ticker.check()
    ticker.report(10, "正在写入数据库…")
    with db.write(user) as s:
        conn = s.connection()
        training_id = plan.training_id
        if training_id:
            _training(s, office, training_id)
        by_number, _unused = _existing(s, office_id)
        # people registered by someone else since the plan was made are selected, not added
        late = [v for v in fresh if v["id_number"] in by_number] if by_number else []
        if late:
            fresh = [v for v in fresh if v["id_number"] not in by_number]
        gone = [v for v in known_rows if v["id_number"] not in by_number]
        if gone:  # deleted since the plan was made: register them again
            known_rows = [v for v in known_rows if v["id_number"] in by_number]
            fresh += gone
        if late or gone:
            ids = new_ids(len(fresh))
            people = _people(ids, fresh, office_id, now)
        merged = len(known_rows) + len(late)
        attend: list[tuple[str, str]] = []
        if training_id:
            roster = set(conn.exec_driver_sql(
                "SELECT trainee_id FROM attendance WHERE activity_id = ?",
                (training_id,)).scalars())
            chosen = dict.fromkeys(
                [*ids, *(by_number[v["id_number"]][0] for v in (*known_rows, *late))])
            attend = [(training_id, tid) for tid in chosen if tid not in roster]
        total = len(people) + len(attend)
        if not total:  # the others got there first: nothing left to do
            return ImportResult(imported=0, merged=merged, written=False, backup=backup_path,
                                **summary)
        done = 0
        with big_cache(conn):
            for sql, data in ((_TRAINEE_SQL, people), (_ATTEND_SQL, attend)):
                for start in range(0, len(data), CHUNK):
                    ticker.check()
                    part = data[start:start + CHUNK]
                    conn.exec_driver_sql(sql, part)
                    done += len(part)
                    ticker.report(10 + 85 * done // max(total, 1),
                                  f"正在写入数据库（{done}/{total}）…")
        counts = {"rows": plan.data_rows, "imported": len(people), "merged": merged,
                  "duplicates_in_file": plan.duplicates, "invalid_skipped": plan.invalid,
                  "attendances": len(attend), "file": plan.source, "sheet": plan.sheet_name}
        target = f"培训“{plan.training_title}”" if plan.training_id else "学员登记册"
        audit.log(s, "import", "activity" if plan.training_id else "trainee",
                  plan.training_id or office.id,
                  note=f"从“{plan.source or plan.sheet_name}”导入{target}：新增 {len(people)} 人，"
                       f"已有 {merged} 人，加入花名册 {len(attend)} 人次",
                  changes=counts)
        s.flush()
        ticker.check()  # the last moment a cancel can still roll everything back
    ticker.report(100, "导入完成")
    return ImportResult(imported=len(people), merged=merged, attendances=len(attend),
                        written=True, backup=backup_path,
                        seconds=round(time.perf_counter() - started, 3), **summary)

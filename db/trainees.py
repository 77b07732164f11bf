"""Trainees (学员) and training rosters (花名册): cleaning, saving, searching.

A person is identified by 身份证号 within an office: entering a number that is
already in the register selects that person instead of creating a duplicate.
身份证号 and phone numbers are text everywhere and shown masked by default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from db.catalogs import CatalogItem, list_catalog
from db.database import Database
from db.errors import ValidationError
from db.idcard import mask_id_number, parse_id_number
from db.models import Activity, Attendance, CatalogEntry, Trainee, new_id
from db.offices import OfficeInfo

LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "gender": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "category_id": "人员类别",
    "village": "村/社区",
    "employer": "工作单位",
    "note": "备注",
    "hours_x10": "学时",
}
GENDERS = ("男", "女")
_GENDER_WORDS = {"男": "男", "女": "女", "男性": "男", "女性": "女", "m": "男", "f": "女",
                 "male": "男", "female": "女", "1": "男", "2": "女"}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_INVISIBLE = {"Zs", "Cf", "Cc"}


@dataclass(frozen=True)
class TraineeInput:
    """A person's fields as entered or imported (raw values are cleaned on save)."""

    name: str
    id_number: str | None = None
    gender: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    category_id: str | None = None
    village: str = ""
    employer: str = ""
    note: str = ""


@dataclass(frozen=True)
class FieldError:
    """A problem with one field (``field`` is a TraineeInput attribute name)."""

    field: str
    message: str


@dataclass(frozen=True)
class CleanTrainee:
    """The result of checking a person: cleaned values, errors and warnings."""

    data: TraineeInput
    errors: tuple[FieldError, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


class TraineeValidationError(ValidationError):
    """The person's fields break a rule; ``errors`` says which and why."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("；".join(e.message for e in self.errors),
                         field=LABELS.get(self.errors[0].field))


@dataclass(frozen=True)
class TraineeRow:
    """A person as the register shows it (身份证号 masked unless asked)."""

    id: str
    name: str
    id_number: str | None
    id_masked: str
    gender: str
    birth_date: dt.date | None
    phone: str
    phone_masked: str
    category: str
    category_id: str | None
    village: str
    employer: str
    note: str
    trainings: int = 0
    hours_x10: int = 0


@dataclass(frozen=True)
class TrainingRecord:
    """One training a person attended."""

    activity_id: str
    start_date: dt.date
    title: str
    hours_x10: int


@dataclass(frozen=True)
class RosterRow:
    """One person on a training's roster."""

    trainee_id: str
    name: str
    gender: str
    id_masked: str
    category: str
    village: str
    phone_masked: str
    hours_x10: int  # this person's 学时 at this training
    own_hours: bool = field(default=False)  # True when it differs from the training's


def _strip_invisible(value: str) -> str:
    return "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE)


def normalize_name(raw: object) -> str:
    """A name without the spaces clerks type into Chinese names (“王 秀 英” → 王秀英).

    Names in Latin letters keep single spaces between words. Full-width letters
    become half-width; the middle dot of minority names is unified to “·”.

    Raises:
        ValidationError: empty, too long, or containing digits.
    """
    text_value = unicodedata.normalize("NFKC", str(raw if raw is not None else ""))
    text_value = text_value.replace("•", "·").replace("・", "·").replace(".", "·") \
        if any("\u4e00" <= ch <= "\u9fff" for ch in text_value) else text_value
    if re.search(r"[A-Za-z]", text_value):
        name = " ".join(_strip_invisible(part) for part in text_value.split())
    else:
        name = _strip_invisible(text_value)
    if not name:
        raise ValidationError("姓名为空", field="姓名")
    if len(name) > 50:
        raise ValidationError("姓名不能超过50个字", field="姓名")
    if re.search(r"\d", name):
        raise ValidationError(f"姓名“{name}”中含有数字", field="姓名")
    bad = next((ch for ch in name if not (ch.isalpha() or ch in "·-' ")), None)
    if bad is not None:
        raise ValidationError(f"姓名“{name}”中含有不允许的字符“{bad}”", field="姓名")
    return name


def normalize_phone(raw: object) -> str:
    """A phone number as text: 11-digit mobile or a landline like 0595-85123456.

    Numbers that Excel stored as numbers (13812345678.0) are accepted: eleven
    digits survive a double exactly. Spaces, dashes in mobiles and a +86 prefix
    are removed. Empty input gives "".

    Raises:
        ValidationError: anything that is not a phone number.
    """
    if raw is None:
        return ""
    if isinstance(raw, bool):
        raise ValidationError("联系电话格式不对", field="联系电话")
    if isinstance(raw, float):
        if raw != raw or not raw.is_integer():
            raise ValidationError("联系电话格式不对", field="联系电话")
        raw = str(int(raw))
    value = _strip_invisible(unicodedata.normalize("NFKC", str(raw)))
    if not value:
        return ""
    if value.endswith(".0") and value[:-2].isdigit():
        value = value[:-2]
    value = value.replace(" ", "")
    digits = re.sub(r"^(\+?86)(?=1\d{10}$)", "", value.replace("-", ""))
    if _MOBILE.match(digits):
        return digits
    if _LANDLINE.match(value):
        return value
    if digits.isdigit() and 7 <= len(digits) <= 8:
        return digits  # local number without area code
    raise ValidationError(f"联系电话“{value}”格式不对（应为11位手机号或带区号的固话）",
                          field="联系电话")


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile; the last four digits of anything else."""
    if not phone:
        return ""
    if len(phone) == 11 and phone.isdigit():
        return phone[:3] + "****" + phone[7:]
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def normalize_gender(raw: object) -> str:
    """男, 女 or "" from the many ways a sheet writes it."""
    value = str(raw or "").strip().lower()
    if not value:
        return ""
    if value in _GENDER_WORDS:
        return _GENDER_WORDS[value]
    raise ValidationError(f"性别“{raw}”无法识别（应为 男 或 女）", field="性别")


def clean_trainee(data: TraineeInput, categories: Sequence[CatalogItem] = ()) -> CleanTrainee:
    """Check and normalise one person's fields.

    The 身份证号 decides gender and birth date: a different gender or birth date
    given alongside it is replaced, with a warning. ``categories`` are the 人员类别
    entries (to check ``category_id``).
    """
    errors: list[FieldError] = []
    warnings: list[str] = []
    values = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}

    def attempt(name: str, fn, raw):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        try:
            return fn(raw)
        except ValidationError as err:
            errors.append(FieldError(name, err.message))
            return None

    values["name"] = attempt("name", normalize_name, data.name) or ""
    values["phone"] = attempt("phone", normalize_phone, data.phone) or ""
    gender = attempt("gender", normalize_gender, data.gender)
    values["gender"] = gender or ""
    raw_id = data.id_number
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        values["id_number"] = None
    else:
        info = attempt("id_number", parse_id_number, raw_id)
        if info is None:
            values["id_number"] = None
        else:
            values["id_number"] = info.number
            if gender and gender != info.gender:
                warnings.append(f"性别“{gender}”与身份证号不符，已按身份证号改为“{info.gender}”")
            if data.birth_date and data.birth_date != info.birth_date:
                warnings.append("出生日期与身份证号不符，已按身份证号更正")
            values["gender"] = info.gender
            values["birth_date"] = info.birth_date
    if data.category_id is not None and data.category_id not in {c.id for c in categories}:
        errors.append(FieldError("category_id", "人员类别不在目录中"))
    for name, limit in (("village", 100), ("employer", 100), ("note", 300)):
        values[name] = str(values[name] or "").strip()
        if len(values[name]) > limit:
            errors.append(FieldError(name, f"{LABELS[name]}不能超过{limit}个字"))
    return CleanTrainee(TraineeInput(**values), tuple(errors), tuple(warnings))


def _categories(session: Session) -> list[CatalogItem]:
    return list_catalog(session, "group")


def find_by_id_number(session: Session, office_id: str, id_number: str) -> str | None:
    """The id of the person with this (normalised) 身份证号, if registered."""
    return session.scalar(
        select(Trainee.id).where(Trainee.office_id == office_id, Trainee.id_number == id_number)
    )


def _check(session: Session, office: OfficeInfo, data: TraineeInput,
           trainee_id: str | None = None) -> TraineeInput:
    result = clean_trainee(data, _categories(session))
    if not result.ok:
        raise TraineeValidationError(result.errors)
    clean = result.data
    if clean.id_number:
        other = find_by_id_number(session, office.id, clean.id_number)
        if other and other != trainee_id:
            name = session.scalar(select(Trainee.name).where(Trainee.id == other))
            raise TraineeValidationError([FieldError(
                "id_number", f"身份证号 {mask_id_number(clean.id_number)} 已登记为“{name}”")])
    return clean


def create_trainee(db: Database, office: OfficeInfo, data: TraineeInput,
                   user: str | None = None) -> str:
    """Register a new person; returns the id.

    Raises:
        TraineeValidationError: bad fields, or the 身份证号 is already registered.
    """
    with db.write(user) as s:
        clean = _check(s, office, data)
        person = Trainee(id=new_id(), office_id=office.id, **dataclasses.asdict(clean))
        s.add(person)
        s.flush()
        return person.id


def update_trainee(db: Database, office: OfficeInfo, trainee_id: str, data: TraineeInput,
                   user: str | None = None) -> None:
    """Save changes to a person (audited field by field)."""
    with db.write(user) as s:
        person = s.get(Trainee, trainee_id)
        if person is None or person.office_id != office.id:
            raise ValidationError("该学员已不存在")
        clean = _check(s, office, data, trainee_id)
        for name, value in dataclasses.asdict(clean).items():
            if getattr(person, name) != value:
                setattr(person, name, value)


def delete_trainee(db: Database, trainee_id: str, user: str | None = None) -> None:
    """Remove a person who is on no roster (attendance keeps 人次 history)."""
    with db.write(user) as s:
        person = s.get(Trainee, trainee_id)
        if person is None:
            return
        n = s.scalar(select(func.count()).select_from(Attendance)
                     .where(Attendance.trainee_id == trainee_id)) or 0
        if n:
            raise ValidationError(f"“{person.name}”参加过 {n} 期培训，不能删除；"
                                  "请先从这些培训的花名册中移除")
        s.delete(person)


def get_trainee(session: Session, trainee_id: str) -> TrainingRecordsAndPerson | None:
    """A person with the trainings attended, or None."""
    rows = trainee_rows(session, [trainee_id])
    if not rows:
        return None
    return TrainingRecordsAndPerson(rows[0], trainee_trainings(session, trainee_id))


@dataclass(frozen=True)
class TrainingRecordsAndPerson:
    """A person and the trainings they attended (for the register's detail pane)."""

    person: TraineeRow
    trainings: list[TrainingRecord]

    @property
    def total_hours_x10(self) -> int:
        return sum(t.hours_x10 for t in self.trainings)


_PERSON_COLUMNS = (
    "SELECT t.id, t.name, t.id_number, t.gender, t.birth_date, t.phone, COALESCE(c.name, ''),"
    " t.category_id, t.village, t.employer, t.note"
)


def _row(r: Sequence[object], trainings: int = 0, hours: int = 0) -> TraineeRow:
    birth = r[4]
    return TraineeRow(
        id=str(r[0]), name=str(r[1]), id_number=r[2], id_masked=mask_id_number(r[2]),  # type: ignore[arg-type]
        gender=str(r[3]), birth_date=dt.date.fromisoformat(birth) if isinstance(birth, str) else None,
        phone=str(r[5]), phone_masked=mask_phone(str(r[5])), category=str(r[6]),
        category_id=r[7], village=str(r[8]), employer=str(r[9]), note=str(r[10]),  # type: ignore[arg-type]
        trainings=trainings, hours_x10=hours,
    )


def trainee_rows(session: Session, ids: Sequence[str]) -> list[TraineeRow]:
    """People by id, in the given order, with their number of trainings and 学时."""
    if not ids:
        return []
    stmt = text(
        _PERSON_COLUMNS + ","
        " (SELECT COUNT(*) FROM attendance x WHERE x.trainee_id = t.id),"
        " (SELECT COALESCE(SUM(COALESCE(x.hours_x10, a.train_hours_x10)), 0)"
        "  FROM attendance x JOIN activity a ON a.id = x.activity_id WHERE x.trainee_id = t.id)"
        " FROM trainee t LEFT JOIN catalog_entry c ON c.id = t.category_id"
        " WHERE t.id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    found = {r[0]: _row(r[:11], r[11], r[12]) for r in session.execute(stmt, {"ids": list(ids)})}
    return [found[i] for i in ids if i in found]


# Register columns the list can be sorted by, as SQL (people without a value last).
# Not 身份证号 or phone: their order would give away the hidden digits (birth dates).
SORT_KEYS = {
    "name": "t.name",
    "gender": "NULLIF(t.gender, '')",
    "birth_date": "t.birth_date",
    "category": "(SELECT c.sort_order FROM catalog_entry c WHERE c.id = t.category_id)",
    "village": "NULLIF(t.village, '')",
    "employer": "NULLIF(t.employer, '')",
    "trainings": "(SELECT COUNT(*) FROM attendance x WHERE x.trainee_id = t.id)",
    "hours": "g.hours",  # from _HOURS_JOIN: one grouped pass, not a subquery per person
}
_HOURS_JOIN = (" LEFT JOIN (SELECT x.trainee_id AS tid,"
               " SUM(COALESCE(x.hours_x10, a.train_hours_x10)) AS hours"
               " FROM activity a JOIN attendance x ON x.activity_id = a.id"
               " WHERE a.office_id = :office GROUP BY x.trainee_id) g ON g.tid = t.id")


def search_trainees(session: Session, office_id: str, query: str = "", *,
                    category_id: str | None = None, village: str | None = None,
                    limit: int | None = None, sort: str = "name",
                    descending: bool = False) -> list[str]:
    """Ids of matching people, by name (or by a column of :data:`SORT_KEYS`, then name).

    ``query`` matches a name (part of it), a full 身份证号 or its last digits
    (4 or more), a phone number (part of it), or a 村/社区 (part of it).
    """
    where = ["t.office_id = :office"]
    params: dict[str, object] = {"office": office_id}
    q = _strip_invisible(unicodedata.normalize("NFKC", query)).upper()
    if q:
        params["q"] = q
        conditions = ["instr(t.name, :q) > 0", "instr(t.village, :q) > 0"]
        if re.fullmatch(r"[\dX]{4,18}", q):
            conditions.append("t.id_number LIKE :id_tail")
            params["id_tail"] = "%" + q
        if q.isdigit() and len(q) >= 3:
            conditions.append("instr(t.phone, :q) > 0")
        where.append("(" + " OR ".join(conditions) + ")")
    if category_id:
        where.append("t.category_id = :category")
        params["category"] = category_id
    if village:
        where.append("t.village = :village")
        params["village"] = village
    order, join = "t.name, t.id", ""
    if sort != "name" or descending:
        key = SORT_KEYS.get(sort, "t.name")
        direction = "DESC" if descending else "ASC"
        order = f"{key} IS NULL, {key} {direction}, t.name, t.id"
        join = _HOURS_JOIN if sort == "hours" else ""
    sql = f"SELECT t.id FROM trainee t{join} WHERE {' AND '.join(where)} ORDER BY {order}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return list(session.scalars(text(sql), params))


def trainee_trainings(session: Session, trainee_id: str) -> list[TrainingRecord]:
    """The trainings a person attended, newest first, with the 学时 credited."""
    rows = session.execute(
        select(Activity.id, Activity.start_date, Activity.title,
               func.coalesce(Attendance.hours_x10, Activity.train_hours_x10))
        .join(Attendance, Attendance.activity_id == Activity.id)
        .where(Attendance.trainee_id == trainee_id)
        .order_by(Activity.start_date.desc())
    )
    return [TrainingRecord(a, d, t, h or 0) for a, d, t, h in rows]


def roster(session: Session, activity_id: str) -> list[RosterRow]:
    """The people on a training's roster, by name."""
    training_hours = session.scalar(
        select(Activity.train_hours_x10).where(Activity.id == activity_id)) or 0
    rows = session.execute(
        select(Trainee.id, Trainee.name, Trainee.gender, Trainee.id_number,
               func.coalesce(CatalogEntry.name, ""), Trainee.village, Trainee.phone,
               Attendance.hours_x10)
        .join(Attendance, Attendance.trainee_id == Trainee.id)
        .outerjoin(CatalogEntry, CatalogEntry.id == Trainee.category_id)
        .where(Attendance.activity_id == activity_id)
        .order_by(Trainee.name, Trainee.id)
    )
    return [
        RosterRow(tid, name, gender, mask_id_number(idn), cat, village, mask_phone(phone),
                  hours if hours is not None else training_hours, hours is not None)
        for tid, name, gender, idn, cat, village, phone, hours in rows
    ]


def check_training(session: Session, activity_id: str) -> Activity:
    """The training ``activity_id``; raises ValidationError if it is gone or not a training."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise ValidationError("该培训已不存在")
    form_code = session.scalar(select(CatalogEntry.code).where(
        CatalogEntry.id == activity.form_id))
    if form_code != "培训":
        raise ValidationError("只有活动形式为“培训”的活动才有花名册")
    return activity


def add_to_roster(db: Database, activity_id: str, trainee_ids: Sequence[str],
                  hours_x10: int | None = None, user: str | None = None) -> int:
    """Put people on a training's roster; those already on it are skipped.

    Returns:
        How many were added.
    """
    with db.write(user) as s:
        check_training(s, activity_id)
        present = set(s.scalars(select(Attendance.trainee_id)
                                .where(Attendance.activity_id == activity_id)))
        added = 0
        for tid in dict.fromkeys(trainee_ids):
            if tid in present:
                continue
            s.add(Attendance(activity_id=activity_id, trainee_id=tid, hours_x10=hours_x10))
            added += 1
        return added


def add_person_to_roster(db: Database, office: OfficeInfo, activity_id: str,
                         data: TraineeInput, user: str | None = None) -> tuple[str, bool]:
    """Put a person on a roster, registering them first if needed.

    A 身份证号 already in the register selects that person (their registered
    details are kept) instead of creating a duplicate.

    Returns:
        (trainee id, True if a new person was registered).
    """
    with db.write(user) as s:
        check_training(s, activity_id)
        result = clean_trainee(data, _categories(s))
        existing = None
        if result.data.id_number:
            existing = find_by_id_number(s, office.id, result.data.id_number)
        if existing is None:
            clean = _check(s, office, data)
            person = Trainee(id=new_id(), office_id=office.id, **dataclasses.asdict(clean))
            s.add(person)
            s.flush()
            trainee_id, created = person.id, True
        else:
            trainee_id, created = existing, False
        if s.get(Attendance, (activity_id, trainee_id)) is None:
            s.add(Attendance(activity_id=activity_id, trainee_id=trainee_id))
        return trainee_id, created


def remove_from_roster(db: Database, activity_id: str, trainee_ids: Sequence[str],
                       user: str | None = None) -> int:
    """Take people off a roster (they stay in the register). Returns how many."""
    with db.write(user) as s:
        rows = s.scalars(select(Attendance).where(
            Attendance.activity_id == activity_id,
            Attendance.trainee_id.in_(list(trainee_ids)))).all()
        for row in rows:
            s.delete(row)
        return len(rows)


def set_roster_hours(db: Database, activity_id: str, trainee_id: str, hours_x10: int | None,
                     user: str | None = None) -> None:
    """Credit one person with their own 学时 at a training (None: the training's)."""
    if hours_x10 is not None and hours_x10 < 0:
        raise ValidationError("学时不能为负数", field="学时")
    if hours_x10 is not None and hours_x10 >= 10_000:  # 1 000 hours at one training
        raise ValidationError("学时数值过大，请核对", field="学时")
    with db.write(user) as s:
        row = s.get(Attendance, (activity_id, trainee_id))
        if row is None:
            raise ValidationError("此人不在该培训的花名册上")
        row.hours_x10 = hours_x10


def trainee_villages(session: Session, office_id: str) -> list[str]:
    """The 村/社区 of the registered people, most common first."""
    rows = session.execute(
        text("SELECT village FROM trainee WHERE office_id = :o AND village != ''"
             " GROUP BY village ORDER BY COUNT(*) DESC, village"),
        {"o": office_id},
    )
    return [str(r[0]) for r in rows]


def trainee_count(session: Session, office_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Trainee)
                              .where(Trainee.office_id == office_id)) or 0)


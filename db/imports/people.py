"""Cleaning one person's cells from a roster, as :func:`db.trainees.clean_trainee` would.

:func:`clean_person` calls the register's own normalisers (name, phone, gender,
身份证号) for any row. :func:`fast_cleaner` gives the same result in one pass for a
row whose cells are already clean — most rows of a real roster — and declines
anything else, so a 10 000-row roster is checked in a few hundredths of a second.
Tests run whole sheets both ways and compare them with ``clean_trainee``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from db.errors import ValidationError
from db.idcard import IdNumberInfo, make_id_number, parse_id_number
from db.imports.catalog_match import CatalogMatcher
from db.imports.common import RowIssue, cell_str
from db.imports.mapping import Mapping
from db.imports.reader import Cell, display_text
from db.imports.values import parse_date
from db.trainees import normalize_gender, normalize_name, normalize_phone

_TEXT_LIMITS = (("village", "村/社区", 100), ("employer", "工作单位", 100), ("note", "备注", 300))
_CJK_NAME = re.compile(r"[\u4e00-\u9fff]{1,50}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_GENDERS = {"": "", "男": "男", "女": "女"}
_PROVINCE_OK: dict[str, bool] = {}
# GB 11643—1999 check characters (as in db.idcard; tests check the two agree on every case)
_CHECK_CHARS = "10X98765432"
_MIN_BIRTH = dt.date(1900, 1, 1)


# --- cleaning one person, fast ----------------------------------------------------------------

def _weighted_sum(first17: str) -> int:
    """Σ digit × weight (mod 11) of GB 11643 with one int() call.

    The weights are 2^(17-i) mod 11 = 2 × 13^(16-i) mod 11, so reading the 17 digits as a
    base-13 number and doubling it gives the same sum modulo 11.
    """
    return 2 * int(first17, 13)


def _province_ok(prefix: str) -> bool:
    ok = _PROVINCE_OK.get(prefix)
    if ok is None:
        try:
            make_id_number(prefix + "0101", dt.date(1990, 1, 1), 1)
            ok = True
        except ValueError:
            ok = False
        _PROVINCE_OK[prefix] = ok
    return ok


def _fast_id(raw: str, today: dt.date) -> IdNumberInfo | None:
    """Check an already clean 18-character number without the general parser.

    Same rules as :func:`db.idcard.normalize_id_number` (GB 11643 weights, check
    characters, a real province, a birth date from 1900 to today); anything unusual
    (spaces, full-width digits, 15 digits, any error) returns None and goes through
    :func:`db.idcard.parse_id_number`, which says what is wrong.
    """
    if len(raw) != 18 or not raw.isascii() or not raw[:17].isdigit():
        return None
    if raw[17] == "x":
        raw = raw[:17] + "X"
    if not _province_ok(raw[:2]):
        return None
    try:
        born = dt.date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        return None
    if born < _MIN_BIRTH or born > today:
        return None
    if _CHECK_CHARS[_weighted_sum(raw[:17]) % 11] != raw[17]:
        return None
    return IdNumberInfo(raw, "男" if int(raw[16]) % 2 else "女", born, raw[:6])


def clean_person(raw: dict[str, Cell], today: dt.date | None = None
                 ) -> tuple[dict[str, Any], list[RowIssue], list[str]]:
    """Clean one person's cells by field key, as :func:`db.trainees.clean_trainee` would.

    Returns (values, errors, warnings); ``values`` has name, id_number, gender,
    birth_date, phone, village, employer, note.
    """
    today = today or dt.date.today()
    errors: list[RowIssue] = []
    warnings: list[str] = []

    def fail(label: str, value: Cell, err: ValidationError) -> None:
        errors.append(RowIssue(label, display_text(value), err.message))

    name_raw = raw.get("name", "")
    if type(name_raw) is str and _CJK_NAME.fullmatch(name_raw):
        name = name_raw
    else:
        try:
            name = normalize_name(name_raw)
        except ValidationError as err:
            name = ""
            fail("姓名", name_raw, err)

    phone_raw = raw.get("phone", "")
    phone: str | None = None
    if type(phone_raw) is float and phone_raw.is_integer() and 1.3e10 <= phone_raw < 2e10:
        candidate = str(int(phone_raw))
        phone = candidate if _MOBILE.fullmatch(candidate) else None
    elif type(phone_raw) is str and len(phone_raw) == 11 and phone_raw.isascii() \
            and _MOBILE.fullmatch(phone_raw):
        phone = phone_raw
    if phone is None:
        try:
            phone = normalize_phone(phone_raw)
        except ValidationError as err:
            phone = ""
            fail("联系电话", phone_raw, err)

    gender_raw = raw.get("gender", "")
    gender = _GENDERS.get(gender_raw) if type(gender_raw) is str else None
    if gender is None:
        try:
            gender = normalize_gender(gender_raw)
        except ValidationError as err:
            gender = ""
            fail("性别", gender_raw, err)

    birth: dt.date | None = None
    birth_raw = raw.get("birth_date", "")
    if birth_raw != "" and not (isinstance(birth_raw, str) and not birth_raw.strip()):
        try:
            birth, _warning = parse_date(birth_raw)
        except ValidationError:
            warnings.append(f"出生日期“{display_text(birth_raw)}”无法识别，已忽略")

    id_raw = raw.get("id_number", "")
    id_number: str | None = None
    if not (id_raw == "" or (isinstance(id_raw, str) and not id_raw.strip())):
        info = _fast_id(id_raw, today) if type(id_raw) is str else None
        if info is None:
            try:
                info = parse_id_number(id_raw)
            except ValidationError as err:
                fail("身份证号", id_raw, err)
        if info is not None:
            id_number = info.number
            if gender and gender != info.gender:
                warnings.append(f"性别“{gender}”与身份证号不符，已按身份证号改为“{info.gender}”")
            if birth and birth != info.birth_date:
                warnings.append("出生日期与身份证号不符，已按身份证号更正")
            gender, birth = info.gender, info.birth_date

    values: dict[str, Any] = {"name": name, "id_number": id_number, "gender": gender,
                              "birth_date": birth, "phone": phone}
    for key, label, limit in _TEXT_LIMITS:
        cell = raw.get(key, "")
        text = cell.strip() if type(cell) is str else cell_str(cell)
        if len(text) > limit:
            errors.append(RowIssue(label, text[:20] + "…", f"{label}不能超过{limit}个字"))
        values[key] = text
    return values, errors, warnings


# --- the fast path for clean rows -------------------------------------------------------------

_MISSING = object()
# A cell among the first columns starting with one of these may be a 合计 / 备注 line or
# text with stray spaces: such rows take the careful path.
_CAREFUL_STARTS = frozenset("合小总共累本全备说注填制审负统经签盖单联日报分主以附 \u3000\t\n\r")
# a name as the fast path takes it: Chinese characters not starting like a 合计 / 备注 line
# (the careful starts that are not Chinese characters are spaces, which cannot start it)
_CAREFUL_CJK = "".join(sorted(ch for ch in _CAREFUL_STARTS if "\u4e00" <= ch <= "\u9fff"))
_FAST_NAME = re.compile(f"(?![{_CAREFUL_CJK}])[\u4e00-\u9fff]{{1,50}}")
_FAST_SPACED = re.compile(f"(?![{_CAREFUL_CJK}])[\u4e00-\u9fff][\u4e00-\u9fff ]*")
_FAST_GENDERS = ("男", "女")
_DECLINE = None
_fast_id_pattern: re.Pattern[str] | None = None


def _fast_id_match() -> Callable[[str], re.Match[str] | None]:
    """``fullmatch`` of 18 ASCII digits (the last may be X/x) starting with a real province."""
    global _fast_id_pattern
    if _fast_id_pattern is None:
        by_first: dict[str, str] = {}
        for n in range(100):
            prefix = f"{n:02d}"
            if _province_ok(prefix):
                by_first[prefix[0]] = by_first.get(prefix[0], "") + prefix[1]
        provinces = "|".join(f"{first}[{seconds}]" for first, seconds in by_first.items())
        _fast_id_pattern = re.compile(f"(?:{provinces})[0-9]{{15}}[0-9Xx]")
    return _fast_id_pattern.fullmatch


def fast_cleaner(mapping: Mapping, header: dict[int, Cell], categories: CatalogMatcher,
                 today: dt.date) -> Callable[[list[Cell]], dict[str, Any] | None]:
    """A function that cleans a row in one pass when every cell is already clean.

    It returns the values, or None for anything unusual — a 合计 line, a float
    身份证号, spaces, a gender that contradicts the number, an unknown category —
    which then goes the careful way (:func:`classify_row` + :func:`clean_person`),
    and that explains it. For a row it accepts, the result is exactly what the
    careful way gives (tests run whole sheets both ways). The columns are bound
    as closure variables: this runs once per row of a 10 000-row roster. Rows must
    have a cell for every mapped column (the planner pads short rows).
    """
    c_name = mapping["name"]
    c_id = mapping.get("id_number")
    if c_id is None:  # the careful way says what to do without a 身份证号
        return lambda row: None
    c_phone = mapping.get("phone")
    c_birth = mapping.get("birth_date")
    scan = max(4, c_name + 1)
    # Among the first ``scan`` cells, those of the name, 身份证号, 性别, 联系电话 and
    # 出生日期 columns cannot start like a 合计 / 备注 line once accepted below (Chinese
    # characters checked by _FAST_NAME, digits, 男/女, ""): only the others are looked at.
    known = {c for c in (c_name, c_id, mapping.get("gender"), c_phone, c_birth) if c is not None}
    others = tuple(c for c in range(scan) if c not in known)
    header_name = header.get(c_name)
    name_match = _FAST_NAME.fullmatch
    spaced_match = _FAST_SPACED.fullmatch
    id_match = _fast_id_match()
    mobile_match = _MOBILE.fullmatch
    careful = _CAREFUL_STARTS
    from_iso = dt.date.fromisoformat
    min_birth = _MIN_BIRTH

    # 性别, 人员类别 and the texts take few values: each combination is checked once
    # and gives (the gender required or None, the values with those of the combination
    # filled in, to be copied), or _DECLINE
    roles = [(key, mapping[key], 0) for key in ("gender", "category") if key in mapping]
    roles += [(key, mapping[key], limit) for key, _label, limit in _TEXT_LIMITS if key in mapping]
    if len(roles) > 1:
        key_of: Callable[[list[Cell]], Any] = itemgetter(*(col for _key, col, _ in roles))
    elif roles:
        col0 = roles[0][1]
        key_of = lambda row: (row[col0],)  # noqa: E731
    else:
        key_of = lambda row: ()  # noqa: E731
    combos: dict[Any, tuple[Any, ...] | None] = {}

    def combination(key: tuple[Cell, ...]) -> tuple[Any, ...] | None:
        found: dict[str, Any] = {"gender": None, "category_id": None, "category": None,
                                 "village": "", "employer": "", "note": ""}
        for (role, _col, limit), raw in zip(roles, key, strict=True):
            if role == "gender":
                if raw == "":
                    continue
                if type(raw) is not str or raw not in _FAST_GENDERS:
                    return _DECLINE
                found["gender"] = raw
            elif role == "category":
                if raw == "":
                    continue
                item = categories.match(cell_str(raw)) if type(raw) is str else None
                if item is None:
                    return _DECLINE
                found["category_id"], found["category"] = item.id, item.name
            else:
                if type(raw) is not str:
                    return _DECLINE
                text = raw.strip()
                if len(text) > limit:
                    return _DECLINE
                found[role] = text
        values = {"name": "", "id_number": "", "gender": "", "birth_date": None, "phone": "",
                  "village": found["village"], "employer": found["employer"],
                  "note": found["note"], "category_id": found["category_id"]}
        if found["category"] is not None:
            values["category"] = found["category"]
        return found["gender"], values

    def clean(row: list[Cell]) -> dict[str, Any] | None:  # noqa: C901 - one pass on purpose
        name = row[c_name]
        if type(name) is not str or name == header_name:
            return None
        if not name_match(name):
            if not spaced_match(name):
                return None
            name = name.replace(" ", "")  # “王 秀 英”: what normalize_name does
            if len(name) > 50:
                return None
        for col in others:
            try:
                value = row[col]
            except IndexError:
                break
            if type(value) is str and value[:1] in careful:
                return None
        number = row[c_id]
        if type(number) is not str or not id_match(number):
            return None
        if number[17] in "Xx":
            number = number[:17] + "X"
            weighted = int(number[:17] + "A", 13)  # X stands for 10
        else:
            weighted = int(number, 13)
        # 13 ≡ 2 (mod 11), see _weighted_sum: the 17 digits weigh 2 * int(first17, 13) and
        # the check character c (X = 10) is right when that sum + c ≡ 1 (mod 11)
        if weighted % 11 != 1:
            return None
        try:
            born = from_iso(number[6:14])  # YYYYMMDD: eight ASCII digits
        except ValueError:
            return None
        if born < min_birth or born > today:
            return None
        phone = ""
        if c_phone is not None:
            raw = row[c_phone]
            if type(raw) is float:
                if not (13e9 <= raw < 2e10 and raw.is_integer()):
                    return None
                phone = str(int(raw))
            elif type(raw) is str:
                if raw and not (len(raw) == 11 and raw.isascii() and mobile_match(raw)):
                    return None
                phone = raw
            else:
                return None
        if c_birth is not None and row[c_birth] != "":
            return None
        key = key_of(row)
        found = combos.get(key, _MISSING)
        if found is _MISSING:
            found = combos[key] = combination(key)
        if found is None:
            return None
        required, template = found
        gender = "男" if number[16] in "13579" else "女"
        if required is not None and required != gender:
            return None
        values = template.copy()  # quicker than a literal with all the keys
        values["name"] = name
        values["id_number"] = number
        values["gender"] = gender
        values["birth_date"] = born
        values["phone"] = phone
        return values

    return clean

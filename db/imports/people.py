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
_ID18 = re.compile(r"[0-9]{17}[0-9Xx]")
_CJK_SPACED = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff ]*")
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


def fast_cleaner(mapping: Mapping, header: dict[int, Cell], categories: CatalogMatcher,
                 today: dt.date) -> Callable[[list[Cell]], dict[str, Any] | None]:
    """A function that cleans a row in one pass when every cell is already clean.

    It returns the values, or None for anything unusual — a 合计 line, a float
    身份证号, spaces, a gender that contradicts the number, an unknown category —
    which then goes the careful way (:func:`classify_row` + :func:`clean_person`),
    and that explains it. For a row it accepts, the result is exactly what the
    careful way gives (tests run whole sheets both ways). The columns are bound
    as closure variables: this runs once per row of a 10 000-row roster.
    """
    c_name = mapping["name"]
    c_id = mapping.get("id_number")
    c_phone = mapping.get("phone")
    c_gender = mapping.get("gender")
    c_category = mapping.get("category")
    c_birth = mapping.get("birth_date")
    # (key, column, limit, cache of the column's cleaned texts)
    texts: list[tuple[str, int, int, dict[Cell, str | None]]] = [
        (key, mapping[key], limit, {}) for key, _label, limit in _TEXT_LIMITS if key in mapping]
    scan = max(4, c_name + 1)
    header_name = header.get(c_name)
    category_cache: dict[Cell, tuple[str, str] | None] = {}
    name_match = _CJK_NAME.fullmatch
    id_match = _ID18.fullmatch
    provinces = _PROVINCE_OK
    careful = _CAREFUL_STARTS
    from_iso = dt.date.fromisoformat

    def clean(row: list[Cell]) -> dict[str, Any] | None:  # noqa: C901 - one pass on purpose
        name = row[c_name]
        if type(name) is not str or name == header_name:
            return None
        if not name_match(name):
            if not _CJK_SPACED.fullmatch(name):
                return None
            name = name.replace(" ", "")  # “王 秀 英”: what normalize_name does
            if len(name) > 50:
                return None
        for value in row[:scan]:
            if type(value) is str and value[:1] in careful:
                return None
        if c_id is None:
            return None
        number = row[c_id]
        if type(number) is not str or not id_match(number):
            return None
        last = number[17]
        if last == "x":
            last = "X"
            number = number[:17] + "X"
        if not provinces.get(number[:2]) and not _province_ok(number[:2]):
            return None
        try:
            born = from_iso(number[6:14])  # YYYYMMDD: eight ASCII digits
        except ValueError:
            return None
        if born < _MIN_BIRTH or born > today or \
                _CHECK_CHARS[2 * int(number[:17], 13) % 11] != last:  # see _weighted_sum
            return None
        gender = "男" if number[16] in "13579" else "女"
        if c_gender is not None:
            given = row[c_gender]
            if given != "" and given != gender:
                return None
        phone = ""
        if c_phone is not None:
            raw = row[c_phone]
            if type(raw) is float:
                if not (13e9 <= raw < 2e10 and raw.is_integer()):
                    return None
                phone = str(int(raw))
            elif type(raw) is str:
                if raw and not (len(raw) == 11 and raw.isascii() and _MOBILE.fullmatch(raw)):
                    return None
                phone = raw
            else:
                return None
        if c_birth is not None and row[c_birth] != "":
            return None
        values: dict[str, Any] = {"name": name, "id_number": number, "gender": gender,
                                  "birth_date": born, "phone": phone, "village": "",
                                  "employer": "", "note": "", "category_id": None}
        for key, col, limit, cache in texts:
            raw = row[col]
            text = cache.get(raw, _MISSING)
            if text is _MISSING:
                text = None
                if type(raw) is str:
                    stripped = raw.strip()
                    text = stripped if len(stripped) <= limit else None
                cache[raw] = text
            if text is None:
                return None
            values[key] = text
        if c_category is not None:
            raw = row[c_category]
            if raw != "":
                found = category_cache.get(raw, _MISSING)
                if found is _MISSING:
                    item = categories.match(cell_str(raw)) if type(raw) is str else None
                    found = (item.id, item.name) if item is not None else None
                    category_cache[raw] = found
                if found is None:
                    return None
                values["category_id"], values["category"] = found  # type: ignore[misc]
        return values

    return clean

"""Reading the values clerks type: dates, counts, money, hours, lists of names.

Each parser takes a cell value as calamine gives it and returns the clean value,
or raises :class:`ValidationError` with a Chinese message. Money goes through
``Decimal`` (never float arithmetic) into integer 分; hours into tenths.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from db.activities import MAX_NUMBER  # the same bound as the activity form
from db.errors import ValidationError
from db.imports.reader import Cell, display_text

EXCEL_EPOCH = dt.date(1899, 12, 30)
DATE_FORMS = "2025-09-16、2025/9/16、2025.9.16 或 2025年9月16日"
_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*[月.\-/]\s*(\d{1,2})\s*[日号]?")
_DAY = re.compile(r"(\d{1,2})\s*[日号]?")
_RANGE = re.compile(r"\s*(?:至|到|~|～|—+|－+|-+|–)\s*")
_TAIL = re.compile(r"\s*(?:[(（][^)）]*[)）])?\s*(?:(?:上午|下午|晚上|全天|早上|中午)?\s*"
                   r"\d{1,2}\s*[:：点时]\s*(?:\d{1,2})?.*|上午|下午|晚上|全天|早上|中午)?\s*$")
_APPROX = re.compile(r"^(大约|共计|合计|累计|超过|约|近|共|计|逾|达)")
_APPROX_TAIL = re.compile(r"(余|多|以上|左右)$")
_UNITS = re.compile(r"(人次|人|次|份|篇|个|场|期|名|位|余份|册|张)$")
_NONE = {"", "-", "—", "－", "/", "无", "0", "不适用", "——"}


def _too_big(label: str, raw: Cell) -> ValidationError:
    return ValidationError(f"{label}“{display_text(raw)}”数值过大，请核对", field=label)


def _bounded(number: int, label: str, raw: Cell) -> int:
    if abs(number) >= MAX_NUMBER:
        raise _too_big(label, raw)
    return number


def _text(value: Cell) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).split())


def _date(year: int, month: int, day: int, raw: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValidationError(f"日期“{raw}”不存在（{year}年{month}月{day}日）", field="日期") \
            from None


def _serial(number: float, raw: Cell) -> tuple[dt.date, str | None]:
    if number.is_integer() and 20000101 <= number <= 21001231:
        s = str(int(number))
        return _date(int(s[:4]), int(s[4:6]), int(s[6:]), s), None
    if 36526 <= number < 73051:  # 2000-01-01 .. 2099-12-31 as an Excel serial number
        day = EXCEL_EPOCH + dt.timedelta(days=int(number))
        return day, (f"日期以数字形式存储（{display_text(raw)}），已按Excel日期读作"
                     f"{day.year}年{day.month}月{day.day}日")
    raise ValidationError(f"日期“{display_text(raw)}”无法识别（可写 {DATE_FORMS}）", field="日期")


def _leading_date(text: str, default_year: int | None) -> tuple[dt.date, int, str | None] | None:
    """A date at the start of ``text``: (date, characters used, warning)."""
    m = _FULL.match(text)
    if m:
        return _date(int(m[1]), int(m[2]), int(m[3]), text), m.end(), None
    m = _COMPACT.match(text)
    if m and (len(text) == 8 or not text[8].isdigit()):
        return _date(int(m[1]), int(m[2]), int(m[3]), text), m.end(), None
    m = re.match(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]", text)
    if m and default_year:
        return (_date(default_year, int(m[1]), int(m[2]), text), m.end(),
                f"日期“{text}”未写年份，按{default_year}年计")
    return None


def parse_date(value: Cell, default_year: int | None = None) -> tuple[dt.date, str | None]:
    """A date from a date cell or text; returns (date, warning or None).

    Accepts 2025-09-16, 2025/09/16, 2025.9.16, 2025年9月16日(号), 20250916, a real
    date cell, a date followed by a time or weekday, an Excel date serial stored as a
    number (with a warning), and 9月16日 when ``default_year`` is known (warning).
    """
    start, end, warning = parse_date_range(value, default_year)
    if end != start:
        raise ValidationError(f"“{display_text(value)}”是一段日期，这里只能填一天", field="日期")
    return start, warning


def parse_date_range(value: Cell, default_year: int | None = None
                     ) -> tuple[dt.date, dt.date, str | None]:
    """Read a date or a span of dates from one cell: (start, end, warning).

    A span is written like 2025.9.16-9.18, 2025年9月16日至18日 or 2025-09-16~2025-09-20.
    """
    if isinstance(value, dt.datetime):
        return value.date(), value.date(), None
    if isinstance(value, dt.date):
        return value, value, None
    if isinstance(value, bool):
        raise ValidationError("日期格式不对", field="日期")
    if isinstance(value, int | float):
        day, warning = _serial(float(value), value)
        return day, day, warning
    text = _text(value)
    if not text:
        raise ValidationError("未填日期", field="日期")
    found = _leading_date(text, default_year)
    if found is None:
        raise ValidationError(f"日期“{value}”无法识别（可写 {DATE_FORMS}）", field="日期")
    start, used, warning = found
    rest = text[used:]
    if not rest or _TAIL.fullmatch(rest):
        return start, start, warning
    sep = _RANGE.match(rest)
    if sep:
        second = rest[sep.end():]
        end: dt.date | None = None
        again = _leading_date(second, start.year)
        tail = ""
        if again is not None:
            end, used2, _w = again
            tail = second[used2:]
        else:
            m = _MONTH_DAY.match(second)
            if m and ("月" in second[:m.end()] or not second[m.end():]):
                end = _date(start.year, int(m[1]), int(m[2]), text)
                tail = second[m.end():]
            else:
                m = _DAY.match(second)
                if m:
                    end = _date(start.year, start.month, int(m[1]), text)
                    tail = second[m.end():]
        if end is not None and (not tail or _TAIL.fullmatch(tail)):
            return start, end, warning
    raise ValidationError(f"日期“{value}”无法识别（可写 {DATE_FORMS}）", field="日期")


def _decimal(text: str) -> Decimal | None:
    scale = Decimal(1)
    if text.endswith("万"):
        text, scale = text[:-1], Decimal(10000)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number.adjusted() > 20:  # 1e999999 would overflow below
        return None
    return number * scale


def parse_count(value: Cell, label: str = "人次") -> tuple[int, str | None]:
    """A whole number: 200, 200.0, "200人", "约200人", "1,200", "1.2万人次".

    Empty, "-", "/" and "无" give 0. Approximate numbers (约, 余, 多, 左右) are
    taken as written, with a warning. Returns (number, warning or None).
    """
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为整数", field=label)
    if isinstance(value, int):
        return _bounded(value, label, value), None
    if isinstance(value, float):
        if value.is_integer():
            return _bounded(int(value), label, value), None
        raise ValidationError(f"{label}应为整数，现为{display_text(value)}", field=label)
    text = _text(value).replace(",", "")
    if text in _NONE:
        return 0, None
    core = text
    approx = False
    m = _APPROX.match(core)
    if m:
        core, approx = core[m.end():], m[1] not in ("共", "共计", "计", "合计", "累计", "达")
    for _ in range(2):
        core = _UNITS.sub("", core)
        m2 = _APPROX_TAIL.search(core)
        if m2:
            core, approx = core[:m2.start()], True
    number = _decimal(core)
    if number is None:
        raise ValidationError(f"{label}“{value}”不是数字", field=label)
    if number != number.to_integral_value():
        raise ValidationError(f"{label}应为整数，现为“{value}”", field=label)
    warning = f"{label}“{value}”按 {int(number)} 计" if approx else None
    return _bounded(int(number), label, value), warning


def parse_money_fen(value: Cell, label: str = "经费") -> tuple[int, str | None]:
    """Money in 元 → integer 分, through Decimal: 1500.5, "1,500.50元", "¥1500", "1.5万元".

    More than two decimals are rounded half up to 分 (with a warning for typed text).
    """
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为金额（元）", field=label)
    warning = None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError(f"{label}应为金额（元）", field=label)
        # the shortest text that is this float: 1500.5, not 1500.49999999999...
        number = Decimal(repr(value))
    else:
        text = _text(value).replace(",", "")
        for junk in ("人民币", "RMB", "¥", "￥", "元整", "元"):
            text = text.replace(junk, "")
        if text in _NONE:
            return 0, None
        parsed = _decimal(text)
        if parsed is None:
            raise ValidationError(f"{label}“{value}”不是金额（应为元，如 1500 或 1500.50）",
                                  field=label)
        number = parsed
        if abs(number) >= MAX_NUMBER // 100:  # quantize fails on numbers of 28+ digits
            raise _too_big(label, value)
        if number != number.quantize(Decimal("0.01")):
            warning = f"{label}“{value}”超过两位小数，已四舍五入到分"
    if abs(number) >= MAX_NUMBER // 100:
        raise _too_big(label, value)
    fen = (number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fen), warning


def parse_tenths(value: Cell, label: str, units: tuple[str, ...] = ("学时", "课时", "小时", "时",
                                                                   "h", "H")) -> int:
    """Hours as integer tenths: 2 → 20, "2.5学时" → 25, "3小时" → 30."""
    if isinstance(value, bool):
        raise ValidationError(f"{label}应为数字", field=label)
    if isinstance(value, int | float):
        number = Decimal(repr(float(value)))
    else:
        text = _text(value)
        for unit in units:
            if text.endswith(unit):
                text = text[:-len(unit)]
                break
        if text in _NONE:
            return 0
        parsed = _decimal(text)
        if parsed is None:
            raise ValidationError(f"{label}“{value}”不是数字", field=label)
        number = parsed
    if not number.is_finite():  # a float cell holding inf or NaN
        raise ValidationError(f"{label}“{display_text(value)}”不是数字", field=label)
    if abs(number) >= MAX_NUMBER // 10:
        raise _too_big(label, value)
    tenths = number * 10
    if tenths != tenths.to_integral_value():
        raise ValidationError(f"{label}最多一位小数（如 2.5），现为“{display_text(value)}”",
                              field=label)
    return int(tenths)


def split_names(value: Cell) -> list[str]:
    """Several names in one cell: “老年人、妇女”, “农民,青少年”, “农民/老年人”."""
    text = unicodedata.normalize("NFKC", display_text(value)).strip()
    text = re.sub(r"\([^)]*\)", "", text)  # “新业态从业人员（快递员、网约工等）”
    return [part for part in re.split(r"[、,;；/|\s]+", text) if part]

"""Chinese resident identity numbers (公民身份号码) per GB 11643—1999.

Pure standard library; no Qt. Every rejection raises
:class:`db.errors.ValidationError` with a Chinese message and ``field="身份证号"``.
"""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from dataclasses import dataclass

from db.errors import ValidationError

FIELD = "身份证号"

# GB 11643 weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 (= 2**(18-i) mod 11), see check_digit
_CHECK_CHARS = "10X98765432"
_PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37]
    + [41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82]
)
_MIN_BIRTH = datetime.date(1900, 1, 1)
_QUOTES = "'\"‘’“”＇＂`"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘx", "0123456789XXX")
_SCIENTIFIC = re.compile(r"[+-]?[0-9]*\.?[0-9]+E[+-]?[0-9]+", re.IGNORECASE)
_DECIMAL = re.compile(r"([0-9]+)\.([0-9]*)")
_ALLOWED = frozenset("0123456789X")
_PRECISION_LOST = (
    "身份证号以数字形式存储，末几位已丢失（精度丢失），请将该列设为文本格式后重新录入原号码"
)


@dataclass(frozen=True)
class IdNumberInfo:
    """What a valid identity number tells about its holder."""

    number: str
    """Normalized 18-character form; the last character may be ``'X'``."""
    gender: str
    """``'男'`` (odd 17th digit) or ``'女'``."""
    birth_date: datetime.date
    """Date of birth encoded in digits 7–14."""
    region_code: str
    """Administrative division code: the first six digits."""


def _fail(message: str) -> ValidationError:
    return ValidationError(message, field=FIELD)


def check_digit(first17: str) -> str:
    """Compute the GB 11643 check character for the first 17 digits.

    Args:
        first17: Exactly 17 ASCII digits.

    Returns:
        One of ``'0'``–``'9'`` or ``'X'``.

    Raises:
        ValueError: If ``first17`` is not 17 ASCII digits.
    """
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise ValueError(f"check_digit needs 17 ASCII digits, got {first17!r}")
    # The weights are 2**(18-i) mod 11 and 13 ≡ 2 (mod 11), so the weighted sum is
    # congruent to 2 * int(first17, 13): one C call instead of 17 multiplications.
    return _CHECK_CHARS[2 * int(first17, 13) % 11]


def _clean_text(text: str) -> str:
    """Drop whitespace/invisible characters, Excel quoting and full-width forms."""
    kept = "".join(
        ch for ch in text if not (ch.isspace() or unicodedata.category(ch) == "Cf")
    )
    return kept.strip(_QUOTES).translate(_FULL_WIDTH)


def _to_text(raw: object) -> str:
    """Turn a cell value into a cleaned candidate string (not yet validated)."""
    if raw is None:
        raise _fail("身份证号为空")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise _fail(f"身份证号格式无效：不支持的数据类型 {type(raw).__name__}")
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise _fail("身份证号格式无效：不是有效的数字")
        if abs(raw) >= 1e15:
            raise _fail(_PRECISION_LOST)
        if raw.is_integer():
            return str(int(raw))  # at most 15 digits: Excel keeps these exactly
        return repr(raw)  # a fraction: rejected below as an illegal character
    text = _clean_text(raw)
    if not text:
        raise _fail("身份证号为空")
    if _SCIENTIFIC.fullmatch(text):
        raise _fail(_PRECISION_LOST)
    decimal = _DECIMAL.fullmatch(text)
    if decimal:
        integer, fraction = decimal.groups()
        if len(integer) >= 16:
            raise _fail(_PRECISION_LOST)
        if len(integer) == 15 and set(fraction) <= {"0"}:
            return integer
    return text


def _describe(ch: str) -> str:
    return f"“{ch}”" if ch.isprintable() else f"U+{ord(ch):04X}"


def normalize_id_number(raw: object) -> str:
    """Validate an identity number in any common input shape and normalize it.

    Accepts ``str`` (spaces, invisible characters, Excel's leading apostrophe,
    quotes, full-width digits and lowercase ``x`` are tolerated), ``int``, and
    ``float`` only when it still holds all digits of a 15-digit legacy number.
    Legacy 15-digit numbers are upgraded to 18 digits.

    Args:
        raw: The value as typed or as read from a spreadsheet cell.

    Returns:
        The valid 18-character number (digits, last one possibly ``'X'``).

    Raises:
        ValidationError: With a Chinese message and ``field="身份证号"`` if the value
            is empty, has lost precision as a number, is malformed, or fails the
            province, birth date or check digit rules.
    """
    text = _to_text(raw)
    bad = next((ch for ch in text if ch not in _ALLOWED), None)
    if bad is not None:
        raise _fail(f"身份证号含有非法字符：{_describe(bad)}")
    if len(text) not in (15, 18):
        raise _fail(f"身份证号应为18位，当前为{len(text)}位")
    if "X" in text[:17] or (len(text) == 15 and "X" in text):
        raise _fail("身份证号含有非法字符：“X”（X 只能是18位号码的最后一位）")
    if len(text) == 15:
        first17 = text[:6] + "19" + text[6:]
        text = first17 + check_digit(first17)
    if int(text[:2]) not in _PROVINCES:
        raise _fail("身份证号前两位不是有效的省级行政区划代码")
    _birth_date(text)
    expected = check_digit(text[:17])
    if text[17] != expected:
        raise _fail(f"身份证号校验码错误（最后一位应为 {expected}）")
    return text


def _birth_date(number: str) -> datetime.date:
    digits = number[6:14]
    try:
        born = datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        born = None
    if born is None or born < _MIN_BIRTH or born > datetime.date.today():
        raise _fail(f"身份证号中的出生日期无效：{digits}")
    return born


def parse_id_number(raw: object) -> IdNumberInfo:
    """Normalize an identity number and derive gender, birth date and region.

    Args:
        raw: Anything :func:`normalize_id_number` accepts.

    Returns:
        The derived :class:`IdNumberInfo`.

    Raises:
        ValidationError: If the number is invalid (see :func:`normalize_id_number`).
    """
    number = normalize_id_number(raw)
    return IdNumberInfo(
        number=number,
        gender="男" if int(number[16]) % 2 == 1 else "女",
        birth_date=_birth_date(number),
        region_code=number[:6],
    )


def is_valid_id_number(raw: object) -> bool:
    """Tell whether ``raw`` normalizes to a valid identity number.

    Args:
        raw: Anything :func:`normalize_id_number` accepts.

    Returns:
        ``True`` if it is valid, else ``False``; never raises.
    """
    try:
        normalize_id_number(raw)
    except ValidationError:
        return False
    return True


_STORED_FORM = re.compile(r"\d{17}[\dX]")


def mask_id_number(value: str | None) -> str:
    """Hide the personal middle part of an identity number for display.

    A valid number becomes its normalized form with digits 7–14 replaced, e.g.
    ``'350582********1234'``. Anything else keeps only its first 3 and last 2
    characters (first and last 1 when shorter than 8 characters, so that most of
    it stays hidden); 4 characters or fewer are masked entirely.

    Args:
        value: The stored or typed number; ``None`` or ``''`` give ``''``.

    Returns:
        The masked string.
    """
    if not value:
        return ""
    if len(value) == 18 and _STORED_FORM.match(value) and check_digit(value[:17]) == value[17]:
        return value[:6] + "*" * 8 + value[-4:]  # the stored form: a quick check suffices
    if is_valid_id_number(value):
        number = normalize_id_number(value)
        return number[:6] + "*" * 8 + number[-4:]
    text = str(value).strip()
    size = len(text)
    if size <= 4:
        return "*" * size
    head, tail = (3, 2) if size >= 8 else (1, 1)
    return text[:head] + "*" * (size - head - tail) + text[-tail:]


def make_id_number(region6: str, birth: datetime.date, seq3: int) -> str:
    """Build a valid 18-digit identity number (for demo and test data).

    Args:
        region6: Six-digit region code with a real province prefix, e.g. ``'350582'``.
        birth: Date of birth, from 1900-01-01 up to today.
        seq3: Sequence number 0–999; odd means male, even female.

    Returns:
        The number including its check digit.

    Raises:
        ValueError: If an argument is out of range or the result would be invalid.
    """
    if len(region6) != 6 or not all("0" <= ch <= "9" for ch in region6):
        raise ValueError(f"region6 must be 6 ASCII digits, got {region6!r}")
    if isinstance(seq3, bool) or not isinstance(seq3, int) or not 0 <= seq3 <= 999:
        raise ValueError(f"seq3 must be an int in 0..999, got {seq3!r}")
    first17 = f"{region6}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq3:03d}"
    number = first17 + check_digit(first17)
    try:
        return normalize_id_number(number)
    except ValidationError as err:
        raise ValueError(str(err)) from err

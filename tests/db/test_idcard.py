"""Tests for db.idcard (GB 11643—1999 identity numbers).

Every example number is synthetic: built with make_id_number or hand-checked below.
"""

from __future__ import annotations

import datetime
import random

import pytest

from db.errors import ValidationError
from db.idcard import (
    IdNumberInfo,
    check_digit,
    is_valid_id_number,
    make_id_number,
    mask_id_number,
    normalize_id_number,
    parse_id_number,
)

# 35058219900101123 -> check digit '1' (sum 264, 264 % 11 == 0 -> '1'); 17th digit 3 -> 男
MALE_1990 = "350582199001011231"
# 35058219800101123 -> check digit '7' (sum 258, 258 % 11 == 5 -> '7')
LEGACY_15 = "350582800101123"
LEGACY_18 = "350582198001011237"
# Example from GB 11643—1999 itself: sum 167, 167 % 11 == 2 -> 'X'
STANDARD_X = "11010519491231002X"
# Leap day, 17th digit 6 -> 女: sum 294, 294 % 11 == 8 -> '4'
FEMALE_LEAP = "350582200002292464"

TOMORROW = datetime.date.today() + datetime.timedelta(days=1)
_FUTURE17 = f"350582{TOMORROW:%Y%m%d}123"
FUTURE = _FUTURE17 + check_digit(_FUTURE17)
_OLD17 = "35058218991231123"
TOO_OLD = _OLD17 + check_digit(_OLD17)


def _with_check(first17: str) -> str:
    return first17 + check_digit(first17)


# ---------------------------------------------------------------- check_digit


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        pytest.param("35058219900101123", "1", id="sum264-r0-gives-1"),
        pytest.param("35058219800101123", "7", id="sum258-r5-gives-7"),
        pytest.param("11010519491231002", "X", id="gb11643-example-X"),
        pytest.param("44052418800101001", "4", id="gb11643-example-4"),
        pytest.param("35058220000229246", "4", id="leap-day-female"),
        pytest.param("35012119850615001", "9", id="fuzhou-region"),
    ],
)
def test_check_digit_known_values(first17: str, expected: str) -> None:
    assert check_digit(first17) == expected


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("3505821990010112", id="16-digits"),
        pytest.param("350582199001011234", id="18-digits"),
        pytest.param("3505821990010112X", id="contains-X"),
        pytest.param("３5058219900101123", id="full-width-digit"),
    ],
)
def test_check_digit_rejects_non_17_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


# ---------------------------------------------------------------- accepted shapes


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(MALE_1990, MALE_1990, id="plain"),
        pytest.param("350582 19900101 1231", MALE_1990, id="spaces-inside"),
        pytest.param(" \t350582199001011231\n", MALE_1990, id="surrounding-whitespace"),
        pytest.param("３５０５８２１９９００１０１１２３１", MALE_1990, id="full-width-digits"),
        pytest.param("11010519491231002x", STANDARD_X, id="lowercase-x"),
        pytest.param("11010519491231002ｘ", STANDARD_X, id="full-width-lower-x"),
        pytest.param("11010519491231002Ｘ", STANDARD_X, id="full-width-upper-x"),
        pytest.param("'350582199001011231", MALE_1990, id="excel-apostrophe"),
        pytest.param('"350582199001011231"', MALE_1990, id="double-quoted"),
        pytest.param("“350582199001011231”", MALE_1990, id="chinese-quoted"),
        pytest.param("350582\xa0199001011231", MALE_1990, id="nbsp"),
        pytest.param("\u3000350582199001011231\u3000", MALE_1990, id="ideographic-space"),
        pytest.param("\ufeff350582\u200b199001011231", MALE_1990, id="bom-zero-width"),
        pytest.param(350582199001011231, MALE_1990, id="int"),
        pytest.param(LEGACY_15, LEGACY_18, id="legacy-15-string"),
        pytest.param(350582800101123, LEGACY_18, id="legacy-15-int"),
        pytest.param(350582800101123.0, LEGACY_18, id="legacy-15-float"),
        pytest.param("350582800101123.0", LEGACY_18, id="legacy-15-dot-zero-string"),
        pytest.param(FEMALE_LEAP, FEMALE_LEAP, id="leap-day"),
        pytest.param(_with_check(f"350582{datetime.date.today():%Y%m%d}001"),
                     _with_check(f"350582{datetime.date.today():%Y%m%d}001"), id="born-today"),
        pytest.param(_with_check("82000019000101001"), _with_check("82000019000101001"),
                     id="macau-born-1900-01-01"),
    ],
)
def test_normalize_accepts(raw: object, expected: str) -> None:
    assert normalize_id_number(raw) == expected
    assert is_valid_id_number(raw) is True


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param("35058219900101123", "应为18位，当前为17位", id="17-digits"),
        pytest.param("3505821990010112311", "应为18位，当前为19位", id="19-digits"),
        pytest.param("12345", "应为18位，当前为5位", id="5-digits"),
        pytest.param(12345.0, "应为18位，当前为5位", id="short-float"),
        pytest.param("35058219900101123A", "非法字符：“A”", id="letter-A"),
        pytest.param("35058219900101-231", "非法字符：“-”", id="hyphen"),
        pytest.param("3505821990\x0101231", "非法字符：U+0001", id="control-char"),
        pytest.param("35058219900X011231", "X 只能是18位号码的最后一位", id="X-in-middle"),
        pytest.param("35058280010112X", "X 只能是18位号码的最后一位", id="X-in-legacy-15"),
        pytest.param(_with_check("99058219900101123"), "省级行政区划代码", id="province-99"),
        pytest.param(_with_check("10058219900101123"), "省级行政区划代码", id="province-10"),
        pytest.param(_with_check("35058219900230123"), "出生日期无效：19900230", id="feb-30"),
        pytest.param(_with_check("35058219901301123"), "出生日期无效：19901301", id="month-13"),
        pytest.param(_with_check("35058219900229123"), "出生日期无效：19900229", id="non-leap"),
        pytest.param(FUTURE, f"出生日期无效：{TOMORROW:%Y%m%d}", id="future-date"),
        pytest.param(TOO_OLD, "出生日期无效：18991231", id="before-1900"),
        pytest.param(_with_check("35058218990101123"), "出生日期无效：18990101", id="18990101"),
        pytest.param("350582199001011234", "校验码错误（最后一位应为 1）", id="wrong-check-digit"),
        pytest.param("110105194912310021", "校验码错误（最后一位应为 X）", id="should-be-X"),
        pytest.param(3.50582199001011e17, "精度丢失", id="float-18-digit"),
        pytest.param(350582199001011.5, "含有非法字符：“.”", id="float-fraction"),
        pytest.param(1e15, "精度丢失", id="float-16-digit"),
        pytest.param("3.50582E+17", "精度丢失", id="sci-string"),
        pytest.param("3.5e17", "精度丢失", id="sci-string-lower"),
        pytest.param("350582199001011234.0", "精度丢失", id="dot-zero-18-digit"),
        pytest.param("3505821990010112.0", "精度丢失", id="dot-zero-16-digit"),
        pytest.param("350582800101123.5", "含有非法字符：“.”", id="legacy-with-fraction"),
        pytest.param(float("nan"), "不是有效的数字", id="nan"),
        pytest.param("", "身份证号为空", id="empty"),
        pytest.param(" \u3000\t", "身份证号为空", id="whitespace-only"),
        pytest.param("''", "身份证号为空", id="only-quotes"),
        pytest.param(None, "身份证号为空", id="None"),
        pytest.param(True, "不支持的数据类型 bool", id="bool"),
        pytest.param(b"350582199001011231", "不支持的数据类型 bytes", id="bytes"),
        pytest.param(-350582800101123, "非法字符：“-”", id="negative-int"),
    ],
)
def test_normalize_rejects(raw: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as info:
        normalize_id_number(raw)
    assert fragment in str(info.value)
    assert info.value.field == "身份证号"
    assert is_valid_id_number(raw) is False


def test_precision_message_is_actionable() -> None:
    with pytest.raises(ValidationError, match="文本格式"):
        normalize_id_number(3.50582199001011e17)


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("raw", "gender", "birth", "region"),
    [
        pytest.param(MALE_1990, "男", datetime.date(1990, 1, 1), "350582", id="male"),
        pytest.param(FEMALE_LEAP, "女", datetime.date(2000, 2, 29), "350582", id="female"),
        pytest.param(STANDARD_X, "女", datetime.date(1949, 12, 31), "110105", id="x-check"),
        pytest.param(LEGACY_15, "男", datetime.date(1980, 1, 1), "350582", id="legacy-15"),
    ],
)
def test_parse_derives_fields(
    raw: str, gender: str, birth: datetime.date, region: str
) -> None:
    info = parse_id_number(raw)
    assert info == IdNumberInfo(normalize_id_number(raw), gender, birth, region)


def test_parse_info_is_frozen() -> None:
    info = parse_id_number(MALE_1990)
    with pytest.raises(AttributeError):
        info.gender = "女"  # type: ignore[misc]


# ---------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(MALE_1990, "350582********1231", id="valid"),
        pytest.param(STANDARD_X, "110105********002X", id="valid-X"),
        pytest.param("350582 19900101 1231", "350582********1231", id="valid-with-spaces"),
        pytest.param(LEGACY_15, "350582********1237", id="legacy-shown-as-18"),
        pytest.param(None, "", id="None"),
        pytest.param("", "", id="empty"),
        pytest.param("1", "*", id="one-char"),
        pytest.param("1234", "****", id="four-chars"),
        pytest.param("12345", "1***5", id="five-chars"),
        pytest.param("1234567", "1*****7", id="seven-chars"),
        pytest.param("12345678", "123***78", id="eight-chars"),
        pytest.param("35058219900101123", "350************23", id="odd-17"),
        pytest.param("350582199001011234", "350*************34", id="bad-check-18"),
    ],
)
def test_mask(value: str | None, expected: str) -> None:
    assert mask_id_number(value) == expected


# ---------------------------------------------------------------- make_id_number

_REGIONS = ["350582", "350121", "110105", "440305", "650102", "820000"]


def _random_cases(count: int) -> list[tuple[str, datetime.date, int]]:
    rng = random.Random(20240601)
    start = datetime.date(1900, 1, 1).toordinal()
    end = datetime.date.today().toordinal()
    return [
        (
            rng.choice(_REGIONS),
            datetime.date.fromordinal(rng.randint(start, end)),
            rng.randint(0, 999),
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [
        pytest.param("350582", datetime.date(1990, 1, 1), 123, id="odd-seq"),
        pytest.param("350582", datetime.date(2000, 2, 29), 246, id="even-seq"),
        pytest.param("350582", datetime.date(1900, 1, 1), 0, id="seq-0-earliest"),
        pytest.param("350582", datetime.date.today(), 999, id="seq-999-today"),
        *(
            pytest.param(r, b, s, id=f"random-{i:03d}")
            for i, (r, b, s) in enumerate(_random_cases(200))
        ),
    ],
)
def test_make_round_trips(region: str, birth: datetime.date, seq: int) -> None:
    number = make_id_number(region, birth, seq)
    assert len(number) == 18
    info = parse_id_number(number)
    assert info.number == number
    assert info.region_code == region
    assert info.birth_date == birth
    assert info.gender == ("男" if seq % 2 else "女")
    assert number[14:17] == f"{seq:03d}"


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [
        pytest.param("35058", datetime.date(1990, 1, 1), 1, id="short-region"),
        pytest.param("35058A", datetime.date(1990, 1, 1), 1, id="letter-region"),
        pytest.param("990582", datetime.date(1990, 1, 1), 1, id="bad-province"),
        pytest.param("350582", datetime.date(1899, 12, 31), 1, id="too-old"),
        pytest.param("350582", TOMORROW, 1, id="future"),
        pytest.param("350582", datetime.date(1990, 1, 1), -1, id="seq-negative"),
        pytest.param("350582", datetime.date(1990, 1, 1), 1000, id="seq-1000"),
        pytest.param("350582", datetime.date(1990, 1, 1), True, id="seq-bool"),
    ],
)
def test_make_rejects_bad_arguments(region: str, birth: datetime.date, seq: int) -> None:
    with pytest.raises(ValueError):
        make_id_number(region, birth, seq)

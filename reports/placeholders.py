"""Placeholders of county templates: what ``{{act.count:ytd}}`` or ``{{office.name}}`` means.

A placeholder is ``{{name}}`` or ``{{code:suffix}}``:

- ``name`` is a header field (``office.name``, ``period``, ``reporter`` …) or an
  indicator code from :func:`db.indicators.indicator_definitions` (``act.count``,
  ``camp.全国科普日.attend``, ``train.农民.attend`` …).
- ``suffix`` picks the value of an indicator: none (本期), ``ytd`` (本年累计),
  ``target`` (年度目标) or ``rate`` (完成率); the Chinese words work too, and a
  full-width colon is accepted (``{{act.count：本年累计}}``).

Values are taken from a :class:`~reports.report_data.ReportData` as they are;
nothing is counted here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from db.catalogs import CatalogItem
from db.indicators import Figure, Figures, IndicatorDef, indicator_definitions
from reports.figures import display_width, format_rate, format_value
from reports.report_data import ReportData
from reports.xlsx_style import CellValue, format_date_cn, number_cell, rate_cell

# A placeholder: {{ … }} without braces inside.
PLACEHOLDER_RE = re.compile(r"\{\{([^{}]*)\}\}")
_FULLWIDTH = ("｛｛", "｝｝", "｛{", "{｛", "｝}", "}｝")

SUFFIXES: dict[str, str] = {
    "": "本期（不带后缀）",
    "ytd": "本年累计（1月1日至报表期末）",
    "target": "年度目标",
    "rate": "完成率（本年累计÷年度目标，如 75.1%）",
}
_SUFFIX_ALIASES = {
    "": "period", "period": "period", "本期": "period", "本月": "period",
    "ytd": "ytd", "本年累计": "ytd", "累计": "ytd",
    "target": "target", "目标": "target", "年度目标": "target",
    "rate": "rate", "完成率": "rate",
}


@dataclass(frozen=True)
class _HeaderField:
    name: str
    meaning: str
    value: Callable[[ReportData], CellValue | dt.date]


HEADER_FIELDS: tuple[_HeaderField, ...] = (
    _HeaderField("office.name", "填报单位名称", lambda d: d.header.office_name),
    _HeaderField("office.code", "行政区划代码", lambda d: d.header.office_code),
    _HeaderField("office.level", "单位级别（街道/镇/乡）", lambda d: d.header.office_level),
    _HeaderField("office.region", "所属区县", lambda d: d.header.region),
    _HeaderField("period", "报表期，如 2025年9月", lambda d: d.header.period_label),
    _HeaderField("period.key", "报表期代码，如 2025-09", lambda d: d.header.period_key),
    _HeaderField("reporter", "填报人", lambda d: d.header.reporter),
    _HeaderField("reviewer", "审核人", lambda d: d.header.reviewer),
    _HeaderField("phone", "联系电话", lambda d: d.header.phone),
    _HeaderField("report_date", "报送日期，如 2025年10月5日", lambda d: d.header.report_date),
    _HeaderField("revision", "修订说明：第N次修订（首次报送为空）",
                 lambda d: d.header.revision_label),
    _HeaderField("population", "常住人口（人，人均科普经费按此计算）",
                 lambda d: d.figures.population),
)
HEADER_NAMES = {f.name: f for f in HEADER_FIELDS}


class BadPlaceholderError(ValueError):
    """A placeholder that cannot be filled; ``str()`` is the Chinese reason."""


@dataclass(frozen=True)
class Resolved:
    """What a placeholder becomes.

    Attributes:
        value: the cell value when the placeholder is alone in its cell (a number,
            "-" for not applicable, text; None for empty text).
        text: the text that replaces it inside other text.
        number_format: a format for a number put into a cell formatted "General".
        date: the date, for a cell formatted as a date (报送日期).

    """

    value: CellValue
    text: str
    number_format: str | None = None
    date: dt.date | None = None


def split_placeholder(inner: str) -> tuple[str, str]:
    """``"act.count:ytd"`` → (``act.count``, ``ytd``); the suffix is canonical.

    Raises:
        BadPlaceholderError: an empty name or an unknown suffix.

    """
    inner = inner.strip().replace("：", ":")
    name, _, suffix = inner.partition(":")
    name, suffix = name.strip(), suffix.strip()
    if not name:
        raise BadPlaceholderError("占位符是空的")
    which = _SUFFIX_ALIASES.get(suffix.lower())
    if which is None:
        raise BadPlaceholderError(
            f"不认识的后缀“:{suffix}”（可用：不带后缀=本期、:ytd=本年累计、"
            ":target=年度目标、:rate=完成率）")
    return name, which


def check_name(name: str, which: str, codes: Iterable[str]) -> None:
    """Raise :class:`BadPlaceholderError` unless ``name`` is a header field or a code."""
    if name in HEADER_NAMES:
        if which != "period":
            raise BadPlaceholderError(f"表头项“{name}”不能带后缀")
        return
    known = codes if isinstance(codes, set | frozenset | dict) else set(codes)
    if name in known:
        return
    candidates = list(known) + list(HEADER_NAMES)
    near = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    hint = f"，是否为 {near[0]}？" if near else "；可用的代码见“占位符列表”"
    raise BadPlaceholderError(f"未知的指标代码或表头项“{name}”{hint}")


def resolve(data: ReportData, inner: str) -> Resolved:
    """The value of the placeholder ``{{inner}}`` for this report.

    Raises:
        BadPlaceholderError: the placeholder is not known (message says why).

    """
    name, which = split_placeholder(inner)
    check_name(name, which, data.figures.items)
    field = HEADER_NAMES.get(name)
    if field is not None:
        raw = field.value(data)
        if isinstance(raw, dt.date):
            return Resolved(format_date_cn(raw), format_date_cn(raw), date=raw)
        if isinstance(raw, int):
            return Resolved(raw, str(raw), "0")
        text = str(raw)
        return Resolved(text or None, text)
    figure = data.figures.items[name]
    if which == "rate":
        value, fmt = rate_cell(figure.rate)
        return Resolved(value, format_rate(figure.rate), None if value == "-" else fmt)
    raw_number = getattr(figure, which)
    value, fmt = number_cell(raw_number, figure.kind)
    return Resolved(value, format_value(raw_number, figure.kind),
                    None if value == "-" else fmt)


def find_placeholders(text: str) -> list[str]:
    """The insides of every ``{{…}}`` in ``text``."""
    return PLACEHOLDER_RE.findall(text)


def leftover_problem(text: str) -> str | None:
    """Why text still holds a broken placeholder after the good ones are taken out."""
    rest = PLACEHOLDER_RE.sub("", text)
    if any(mark in rest for mark in _FULLWIDTH):
        return "占位符要用半角花括号 {{ }}，不能用全角的 ｛｛ ｝｝"
    if "{{" in rest or "}}" in rest:
        return "占位符不完整：“{{” 和 “}}” 要成对出现，中间不能再有花括号"
    return None


# --- the list for users -------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceholderInfo:
    """One entry of the placeholder list shown to users."""

    placeholder: str  # {{act.count}}
    meaning: str  # 科普活动次数
    unit: str = ""
    group: str = ""  # 表头, 后缀, or the indicator's section


HEADER_GROUP = "表头"
SUFFIX_GROUP = "后缀（加在指标代码后面）"


def _indicators(source: Any) -> list[tuple[str, str, str, str]]:
    """(code, name, unit, section) of every indicator, from figures, catalogs or a list."""
    if isinstance(source, Figures):
        items: Iterable[Any] = source.items.values()
    elif isinstance(source, Mapping):
        catalogs: dict[str, list[CatalogItem]] = dict(source)
        items = indicator_definitions(catalogs)
    else:
        items = source
    out = []
    for item in items:
        if not isinstance(item, Figure | IndicatorDef):
            raise TypeError(f"not an indicator: {item!r}")
        out.append((item.code, item.name, item.unit, item.section))
    return out


def placeholder_catalog(figures_or_catalogs: Figures | Mapping[str, Sequence[CatalogItem]]
                        | Iterable[Figure | IndicatorDef]) -> list[PlaceholderInfo]:
    """Every placeholder a template can use: header fields, indicator codes, suffixes.

    Args:
        figures_or_catalogs: a period's :class:`Figures`, the catalogs
            (``db.catalogs.all_catalogs``) or a list of figures/indicator definitions.

    """
    infos = [PlaceholderInfo(f"{{{{{f.name}}}}}", f.meaning, "", HEADER_GROUP)
             for f in HEADER_FIELDS]
    indicators = _indicators(figures_or_catalogs)
    example = indicators[0][0] if indicators else "act.count"
    for suffix, meaning in SUFFIXES.items():
        shown = f"{{{{{example}:{suffix}}}}}" if suffix else f"{{{{{example}}}}}"
        infos.append(PlaceholderInfo(shown, meaning, "", SUFFIX_GROUP))
    for code, name, unit, section in indicators:
        infos.append(PlaceholderInfo(f"{{{{{code}}}}}", name, unit, section))
    return infos


def format_placeholder_list(source: Figures | Mapping[str, Sequence[CatalogItem]]
                            | Iterable[Figure | IndicatorDef | PlaceholderInfo]) -> str:
    """The placeholder list as a readable Chinese text table (``kepu placeholders``)."""
    infos: list[PlaceholderInfo]
    if isinstance(source, Figures | Mapping):
        infos = placeholder_catalog(source)
    else:
        items = list(source)
        if items and all(isinstance(i, PlaceholderInfo) for i in items):
            infos = [i for i in items if isinstance(i, PlaceholderInfo)]
        else:
            infos = placeholder_catalog([i for i in items if not isinstance(i, PlaceholderInfo)])
    width = max((display_width(i.placeholder) for i in infos), default=0) + 2
    lines = [
        "县区报表模板占位符：在 Excel/WPS 模板的单元格中写入占位符，生成时替换为所选报表期的数值。",
        "单独占一个单元格的占位符替换为数字（可参与公式计算）；写在文字中的占位符替换为文字。",
        "“-”表示不适用或未设年度目标。",
        "",
    ]
    group = None
    for info in infos:
        if info.group != group:
            group = info.group
            if lines[-1]:
                lines.append("")
            lines.append(f"【{group}】")
        pad = " " * max(width - display_width(info.placeholder), 1)
        unit = f"（{info.unit}）" if info.unit else ""
        lines.append(f"  {info.placeholder}{pad}{info.meaning}{unit}")
    return "\n".join(lines) + "\n"

"""Figures as JSON-ready values and as a readable Chinese text table.

Both are renderings of :class:`db.indicators.Figures`; nothing is recounted here.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from db.indicators import COUNT, Figure, Figures, Number


def json_number(value: Number | None) -> int | float | None:
    """A figure as a JSON number: integers stay integers, decimals become floats."""
    if value is None or isinstance(value, int):
        return value
    if value == value.to_integral_value() and value.as_tuple().exponent == 0:
        return int(value)
    return float(value)


def figures_to_dict(figs: Figures) -> dict[str, Any]:
    """The ``kepu figures --json`` document."""
    return {
        "office": figs.office.as_dict(),
        "period": figs.period.key,
        "period_label": figs.period.label,
        "population": figs.population,
        "figures": {
            code: {
                "period": json_number(f.period),
                "ytd": json_number(f.ytd),
                "target": json_number(f.target),
                "rate": json_number(f.rate),
            }
            for code, f in figs.items.items()
        },
        "monthly": [
            {
                "month": f"{figs.period.year}-{m.month:02d}",
                "act.count": m.count,
                "act.attend": m.attend,
                "train.attend": m.train_attend,
                "train.people": m.train_people,
            }
            for m in figs.monthly
        ],
    }


def format_value(value: Number | None, kind: str = COUNT) -> str:
    """A figure as printed: "-" for not applicable, "0" for zero, two places for money."""
    if value is None:
        return "-"
    if isinstance(value, Decimal) and kind != COUNT:
        if kind in ("money", "per_capita"):
            return f"{value:.2f}"
        return f"{value.normalize():f}"
    return str(value)


def format_rate(rate: Decimal | None) -> str:
    """完成率 as a percentage with one decimal, "-" when there is no target."""
    if rate is None:
        return "-"
    return f"{rate * 100:.1f}%"


def display_width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def figure_row(f: Figure) -> list[str]:
    """The cells of one row of the text table."""
    return [
        f.name,
        format_value(f.period, f.kind),
        format_value(f.ytd, f.kind),
        format_value(f.target, f.kind),
        format_rate(f.rate),
        f.unit,
        f.code,
    ]


def figures_to_text(figs: Figures) -> str:
    """A readable table grouped by section, as ``kepu figures`` prints it."""
    o = figs.office
    lines = [
        f"填报单位：{o.name}（行政区划代码 {o.code}，{o.level}）",
        f"报表期：{figs.period.label}    常住人口：{figs.population} 人",
        "",
    ]
    header = ["指标", "本期", "本年累计", "年度目标", "完成率", "单位", "代码"]
    rows = [figure_row(f) for f in figs.items.values()]
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    numeric = {1, 2, 3, 4}

    def render(cells: list[str]) -> str:
        return "  ".join(_pad(c, widths[i], i in numeric) for i, c in enumerate(cells)).rstrip()

    section = None
    for f, row in zip(figs.items.values(), rows, strict=True):
        if f.section != section:
            section = f.section
            lines.append(f"【{section}】")
            lines.append(render(header))
        lines.append(render(row))
    return "\n".join(lines) + "\n"

"""Benchmarks of the Excel writers, runnable with one command:

    .venv/bin/python bench/bench_excel.py            # builds bench/data/large-2025.sqlite once
    .venv/bin/python bench/bench_excel.py --year     # also the whole year's return (slow)

Prints:
(a) the full-year 活动明细 (20 000 activities) as written by ``reports.excel`` against
    a bare openpyxl write-only loop appending the same values with no styles, in the
    same process, medians of several alternating runs, and their ratio (budget 1.3×).
(b) the month return of 2025-09 on the large demo: ``build_report_data`` and
    ``write_return`` timed separately, and the .xlsx share of the 2 s budget for the
    month's .xlsx + .pdf.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = ROOT / "bench" / "data" / "large-2025.sqlite"

from openpyxl import Workbook  # noqa: E402

from db.database import open_database  # noqa: E402
from db.offices import get_office  # noqa: E402
from db.periods import Period  # noqa: E402
from reports import excel  # noqa: E402
from reports import xlsx_style as xs  # noqa: E402
from reports.report_data import ReportData, build_report_data  # noqa: E402


def ensure_db() -> None:
    if DB.exists():
        return
    DB.parent.mkdir(parents=True, exist_ok=True)
    print(f"creating {DB.relative_to(ROOT)} (kepu demo --scale large)…", flush=True)
    subprocess.run([sys.executable, "-m", "desktop.cli", "--db", str(DB), "demo", "--year",
                    "2025", "--scale", "large"], cwd=ROOT, check=True)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare_activity_list(data: ReportData, path: Path, *, fast_zip: bool = False) -> None:
    """The baseline: the same cells appended with openpyxl write-only, no styles."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(excel.SHEET_ACTIVITIES)
    ws.append([f"{data.header.office_name}{data.header.period_label}科普活动明细"])
    ws.append([c.header for c in excel.ACTIVITY_COLUMNS])
    for i, a in enumerate(data.activities, 1):
        ws.append(excel.activity_row(i, a))
    if fast_zip:
        xs.save_workbook(wb, path)
    else:
        wb.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--year", action="store_true", help="also write the whole year's return")
    args = parser.parse_args()
    ensure_db()
    db = open_database(DB)
    with db.session() as s:
        office = get_office(s)
    out = Path(tempfile.mkdtemp(prefix="bench_excel_"))

    # (a) a year of activities
    t0 = time.perf_counter()
    year = build_report_data(db, office, Period.parse("2025"))
    print(f"build_report_data(2025): {time.perf_counter() - t0:.2f} s "
          f"({len(year.activities):,} activities, {len(year.roster):,} attendances)")
    year_acts = dataclasses.replace(year, roster=())
    ours, bare, bare_fast = [], [], []
    for _ in range(args.runs):
        ours.append(timed(lambda: excel.write_activity_list(year_acts, out / "ours.xlsx")))
        bare.append(timed(lambda: bare_activity_list(year_acts, out / "bare.xlsx")))
        bare_fast.append(timed(lambda: bare_activity_list(year_acts, out / "bare1.xlsx",
                                                          fast_zip=True)))
    m_ours, m_bare, m_fast = (statistics.median(x) for x in (ours, bare, bare_fast))
    print("(a) full-year 活动明细 .xlsx, medians of", args.runs)
    print(f"    reports.excel (styled, widths, heights): {m_ours:.3f} s  "
          f"{(out / 'ours.xlsx').stat().st_size / 1e6:.1f} MB")
    print(f"    bare openpyxl write_only loop, wb.save:  {m_bare:.3f} s  "
          f"{(out / 'bare.xlsx').stat().st_size / 1e6:.1f} MB")
    print(f"    bare loop saved with deflate level 1:    {m_fast:.3f} s")
    print(f"    ratio ours / bare = {m_ours / m_bare:.2f}x (budget 1.30x); "
          f"ours / bare-level-1 = {m_ours / m_fast:.2f}x")
    xs.RAW_ROWS = False  # openpyxl's own cell writer, used where openpyxl runs on lxml
    cells = [timed(lambda: excel.write_activity_list(year_acts, out / "cells.xlsx"))
             for _ in range(max(1, args.runs // 2))]
    xs.RAW_ROWS = True
    m_cells = statistics.median(cells)
    print(f"    fallback cell writer (openpyxl on lxml):  {m_cells:.3f} s = "
          f"{m_cells / m_bare:.2f}x the bare loop")

    # (b) the month return
    period = Period.parse("2025-09")
    builds = [timed(lambda: build_report_data(db, office, period)) for _ in range(3)]
    month = build_report_data(db, office, period)
    writes = [timed(lambda: excel.write_return(month, out / "month.xlsx"))
              for _ in range(args.runs)]
    full = dataclasses.replace(month, full_ids=True)
    writes_full = [timed(lambda: excel.write_return(full, out / "month-full.xlsx"))
                   for _ in range(args.runs)]
    m_build, m_write, m_full = (statistics.median(x) for x in (builds, writes, writes_full))
    print(f"(b) month return 2025-09 ({len(month.activities):,} activities, "
          f"{len(month.roster):,} attendances, {len(month.figures.items)} indicators)")
    print(f"    build_report_data:            {m_build:.3f} s")
    print(f"    write_return .xlsx (masked):  {m_write:.3f} s = {m_write / 2:.0%} of the 2 s "
          "budget for .xlsx + .pdf")
    print(f"    write_return .xlsx full_ids:  {m_full:.3f} s  (the difference is "
          "ReportData.id_text masking, once per person)")
    print(f"    file size {(out / 'month.xlsx').stat().st_size / 1e6:.1f} MB")

    if args.year:
        t = timed(lambda: excel.write_return(year, out / "year.xlsx"))
        print(f"(c) whole-year return 2025 .xlsx: {t:.2f} s, "
              f"{(out / 'year.xlsx').stat().st_size / 1e6:.1f} MB")
    for f in out.iterdir():
        f.unlink()
    out.rmdir()
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

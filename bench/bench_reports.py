"""Benchmark of a month's return (.xlsx + .pdf) end to end, and of 上报, on the large demo:

    .venv/bin/python bench/bench_reports.py            # builds bench/data/large-2025.sqlite once
    .venv/bin/python bench/bench_reports.py --runs 7 --no-submit

Prints medians of several runs in one process (fonts registered once, as in the app):
(a) ``export_period(xlsx=…, pdf=…)`` for 2025-09, everything the user waits for
    (build_report_data included), against the 2 s budget;
(b) the same split into its parts: data (build_report_data), .xlsx (write_return),
    .pdf (write_summary_pdf);
(c) ``submit_period`` on a throw-away copy of the database (backup, return, summary,
    data.json, manifest, zip, lock), the bench database itself is only read. The
    backup runs beside the rest: its stage is the wait for what is left of it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
DB = DATA / "large-2025.sqlite"
KEPU = [sys.executable, "-m", "desktop.cli"]
BUDGET = 2.0
MONTH = "2025-09"
STAGES = {  # the first characters of submit_period's progress messages → stage
    "正在检查能否": "check", "正在备份数据": "backup", "正在统计20": "data",
    "正在写入汇总": ".xlsx", "正在生成工作": ".pdf", "正在写入数据": "data.json+manifest",
    "正在打包上报": "zip", "正在完成数据": "backup (rest)", "正在锁定本月": "lock",
}

from db.database import backup_file, open_database  # noqa: E402
from db.offices import get_office  # noqa: E402
from db.periods import Period  # noqa: E402
from db.reporting import reopen_month  # noqa: E402
from reports.bundle import submit_period, verify_bundle  # noqa: E402
from reports.excel import write_return  # noqa: E402
from reports.exports import export_period  # noqa: E402
from reports.pdf_summary import write_summary_pdf  # noqa: E402
from reports.report_data import build_report_data  # noqa: E402


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def spread(times: list[float]) -> str:
    return f"min {min(times):.2f}, max {max(times):.2f}"


def ensure_db() -> None:
    if not DB.exists():
        print(f"creating {DB} (kepu demo --year 2025 --scale large) …", flush=True)
        DB.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*KEPU, "--db", str(DB), "demo", "--year", "2025", "--scale", "large"],
                       cwd=ROOT, check=True, stderr=subprocess.DEVNULL)


def bench_export(folder: Path, runs: int) -> None:
    db = open_database(DB)
    try:
        with db.session() as s:
            office = get_office(s)
        period = Period.parse(MONTH)
        xlsx, pdf = folder / "return.xlsx", folder / "summary.pdf"

        def export() -> Any:
            return export_period(db, office, period, xlsx=xlsx, pdf=pdf)

        t0 = time.perf_counter()
        first = export()  # the first of the process: fonts load, caches fill
        first_s = time.perf_counter() - t0
        seconds, times, result = timed(export, runs)
        pages = next(f.pages for f in result.files if f.kind == "pdf")
        data_s, data_t, data = timed(lambda: build_report_data(db, office, period), runs)
        xlsx_s, xlsx_t, _ = timed(lambda: write_return(data, xlsx), runs)
        pdf_s, pdf_t, _ = timed(lambda: write_summary_pdf(data, pdf), runs)
    finally:
        db.close()
    del first
    print(f"month {MONTH}: {len(data.activities):,} activities, {len(data.roster):,} roster rows; "
          f".xlsx {xlsx.stat().st_size / 1e6:.2f} MB, .pdf {pages} pages "
          f"{pdf.stat().st_size / 1e6:.2f} MB")
    print(f"(a) export_period(.xlsx + .pdf), end to end: median {seconds:.2f} s over {runs} runs "
          f"({spread(times)}); budget {BUDGET:.0f} s, ratio {seconds / BUDGET:.2f}"
          f"{'  — OVER BUDGET' if seconds > BUDGET else ''}")
    print(f"    first run in the process (font loading): {first_s:.2f} s")
    parts = data_s + xlsx_s + pdf_s
    print(f"(b) parts (medians): data {data_s:.2f} s ({spread(data_t)}) + "
          f".xlsx {xlsx_s:.2f} s ({spread(xlsx_t)}) + .pdf {pdf_s:.2f} s ({spread(pdf_t)}) "
          f"= {parts:.2f} s; shares {data_s / parts:.0%} / {xlsx_s / parts:.0%} / "
          f"{pdf_s / parts:.0%}")


def bench_submit(folder: Path, runs: int) -> None:
    copy = backup_file(DB, folder / "copy.sqlite", reason="bench")
    db = open_database(copy)
    try:
        with db.session() as s:
            office = get_office(s)
        times = []
        out = folder / "bundle.zip"
        stages: dict[str, list[float]] = {}
        for i in range(runs):
            if i:
                reopen_month(db, office, MONTH, "基准测试：再次上报")
            marks: list[tuple[float, str]] = []

            def progress(_percent: int, message: str, marks: list[tuple[float, str]] = marks
                         ) -> None:
                stage = STAGES.get(message[:6])
                if stage and (not marks or marks[-1][1] != stage):
                    marks.append((time.perf_counter(), stage))

            t0 = time.perf_counter()
            result = submit_period(db, office, MONTH, out, progress=progress)
            end = time.perf_counter()
            times.append(end - t0)
            for (t, stage), (t_next, _s) in zip(marks, [*marks[1:], (end, "")], strict=True):
                stages.setdefault(stage, []).append(t_next - t)
        problems = verify_bundle(out)
    finally:
        db.close()
    sizes = ", ".join(f"{f.name} {f.size / 1e6:.2f} MB" for f in result.files)
    print(f"(c) submit_period {MONTH} on a copy ({copy.stat().st_size / 1e6:.0f} MB database): "
          f"median {statistics.median(times):.2f} s over {runs} runs ({spread(times)}); "
          f"bundle {result.size / 1e6:.2f} MB ({sizes}); verify_bundle: "
          f"{problems or 'ok'}")
    print("    stages (medians): " + ", ".join(f"{stage} {statistics.median(t):.2f} s"
                                               for stage, t in stages.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    ap.add_argument("--no-submit", action="store_true", help="skip (c)")
    args = ap.parse_args()
    ensure_db()
    with tempfile.TemporaryDirectory(prefix="kepu-bench-reports-") as tmp:
        bench_export(Path(tmp), args.runs)
        if not args.no_submit:
            bench_submit(Path(tmp), max(args.runs // 2, 1) + 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmarks of issue 2 (foundation), runnable with one command:

    .venv/bin/python bench/bench_foundation.py            # builds bench/data/large-2025.sqlite once
    .venv/bin/python bench/bench_foundation.py --fresh    # rebuild the large demo first

Prints:
1. ``kepu demo --scale large`` wall time (budget 60 s), as a whole process.
2. The indicator computation for 2025 on that file (``compute_figures``, i.e. what
   ``kepu figures 2025 --json`` runs) against a hand-written raw-SQL query of the
   same month-by-month 次数/人次/培训人次/人数 figures on the same file, medians of
   several runs in this process, and their ratio (budget 1.5×).
3. The whole ``kepu figures 2025 --json`` command (process start to exit) for reference.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
DB = DATA / "large-2025.sqlite"
KEPU = [sys.executable, "-m", "desktop.cli"]

# The baseline: what a careful person would write by hand for the same monthly figures.
RAW_MONTHLY = """
WITH roster AS (
    SELECT activity_id, COUNT(*) AS n FROM attendance GROUP BY activity_id
)
SELECT substr(a.start_date, 6, 2) AS month,
       COUNT(*) AS acts,
       SUM(CASE WHEN a.online OR f.code = '线上' THEN 0 ELSE COALESCE(r.n, a.attend) END),
       SUM(CASE WHEN f.code = '培训' THEN COALESCE(r.n, a.attend) ELSE 0 END)
FROM activity a
JOIN catalog_entry f ON f.id = a.form_id
LEFT JOIN roster r ON r.activity_id = a.id
WHERE a.office_id = ? AND a.start_date BETWEEN ? AND ?
GROUP BY month
"""
RAW_PEOPLE_MONTHLY = """
SELECT substr(a.start_date, 6, 2) AS month, COUNT(DISTINCT t.trainee_id)
FROM attendance t JOIN activity a ON a.id = t.activity_id
JOIN catalog_entry f ON f.id = a.form_id
WHERE a.office_id = ? AND a.start_date BETWEEN ? AND ? AND f.code = '培训'
GROUP BY month
"""
RAW_PEOPLE_YEAR = """
SELECT COUNT(DISTINCT t.trainee_id)
FROM attendance t JOIN activity a ON a.id = t.activity_id
JOIN catalog_entry f ON f.id = a.form_id
WHERE a.office_id = ? AND a.start_date BETWEEN ? AND ? AND f.code = '培训'
"""


def raw_sql(path: Path, office_id: str) -> dict[str, object]:
    con = sqlite3.connect(path)
    try:
        args = (office_id, "2025-01-01", "2025-12-31")
        monthly = con.execute(RAW_MONTHLY, args).fetchall()
        people = con.execute(RAW_PEOPLE_MONTHLY, args).fetchall()
        year = con.execute(RAW_PEOPLE_YEAR, args).fetchone()[0]
    finally:
        con.close()
    return {"monthly": monthly, "people": people, "year_people": year}


def median_time(fn, runs: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    fn()  # warm-up (page cache, statement cache)
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fresh", action="store_true", help="rebuild the large demo database")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    if args.fresh or not DB.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(DB) + suffix).unlink(missing_ok=True)
        t0 = time.perf_counter()
        subprocess.run([*KEPU, "--db", str(DB), "demo", "--year", "2025", "--scale", "large"],
                       cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
        demo_s = time.perf_counter() - t0
        print(f"kepu demo --scale large: {demo_s:.1f} s (budget 60 s, ratio {demo_s / 60:.2f})")
    else:
        print(f"(reusing {DB}; pass --fresh to time kepu demo --scale large)")

    from db.database import open_database
    from db.indicators import compute_figures
    from db.offices import get_office
    from db.periods import Period

    db = open_database(DB)
    with db.session() as s:
        office = get_office(s)
    period = Period.parse("2025")

    from db import indicators

    def ours() -> object:
        indicators._ROSTER_CACHE.clear()  # measure the full computation, not the cache
        with db.session() as s:
            return compute_figures(s, office, period)

    def ours_cached() -> object:
        with db.session() as s:
            return compute_figures(s, office, period)

    ours_s, figs = median_time(ours, args.runs)
    cached_s, _ = median_time(ours_cached, args.runs)
    raw_s, raw = median_time(lambda: raw_sql(DB, office.id), args.runs)

    # The two must agree, or the comparison means nothing.
    raw_by_month = {int(m): (c, a, t) for m, c, a, t in raw["monthly"]}  # type: ignore[index]
    people = {int(m): n for m, n in raw["people"]}  # type: ignore[index]
    for mf in figs.monthly:  # type: ignore[attr-defined]
        assert raw_by_month.get(mf.month, (0, 0, 0)) == (mf.count, mf.attend, mf.train_attend), mf
        assert people.get(mf.month, 0) == mf.train_people, mf
    assert figs["train.people"].ytd == raw["year_people"]  # type: ignore[index]

    print(f"indicator computation 2025 (every code + monthly series): median {ours_s * 1000:.0f} ms")
    print(f"hand-written raw SQL, same monthly figures:              median {raw_s * 1000:.0f} ms")
    print(f"ratio computation / raw SQL: {ours_s / raw_s:.2f}x (budget 1.5x)")
    print(f"same, rosters unchanged since the last computation (cached): "
          f"median {cached_s * 1000:.0f} ms")
    db.close()

    t0 = time.perf_counter()
    subprocess.run([*KEPU, "--db", str(DB), "figures", "2025", "--json"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    print(f"whole command kepu figures 2025 --json: {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark of backups on the large demo database with photos, runnable with one command:

    .venv/bin/python bench/bench_backup.py            # sets up bench/data/backup-bench once
    .venv/bin/python bench/bench_backup.py --fresh    # build the setup again
    .venv/bin/python bench/bench_backup.py --runs 7

Setup (once, then reused): a copy of ``bench/data/large-2025.sqlite`` (built with
``kepu demo --year 2025 --scale large`` if missing) in ``bench/data/backup-bench/``, with
:data:`PHOTOS` photos of about 1 MB each (noise and shapes, JPEG, made with Pillow)
attached through ``add_attachments`` to the most recent activities.

Prints medians of several runs and the ratio to each budget:

(a) ``make_backup`` — online backup API copy, ``PRAGMA integrity_check`` of the copy,
    then the attachment files the backup refers to — budget 3 s. Twice per run: the
    first backup (``backups/`` emptied: every photo is copied) and a second one right
    after (the photos are already in ``backups/files``). Split into the database part
    (copy + check) and the attachment part. The file cache is warm: a clerk's PC with a
    cold cache and a slow disk takes longer.
(b) Start-up with the day's backup due vs not due: process start → 活动台账 painted with
    rows (``python -m desktop.cli --db …`` with ``QT_QPA_PLATFORM=offscreen`` and
    ``KEPU_BENCH_PAINTED=1``; the child gets a fresh HOME whose settings reopen 活动台账,
    as in bench_ledger.py). "Due": today's ``*-daily.sqlite`` deleted first, so
    ``start_daily_backup`` copies and checks the database in its background thread
    while the window opens. Budget: at most 0.5 s slower than "not due". The whole
    process time (start to exit, which waits for the backup thread) is shown too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from _common import DATA, ensure_large_demo, ledger_command, ratio, start_once
from _common import LARGE_DB as SOURCE

SETUP = DATA / "backup-bench"
DB = SETUP / "large-2025.sqlite"
READY = SETUP / "READY"
START_TIMEOUT = 60

PHOTOS = 200
PHOTO_SIZE = (1600, 1200)  # about 1 MB as a JPEG of noise and shapes, stored as is
PER_ACTIVITY = 4
BUDGET_BACKUP = 3.0
BUDGET_STARTUP_EXTRA = 0.5


# -- setup ------------------------------------------------------------------------------------


def make_photo(path: Path, rng: random.Random) -> None:
    from PIL import Image, ImageDraw

    w, h = PHOTO_SIZE
    photo = Image.merge("RGB", tuple(Image.effect_noise((w, h), 45) for _ in range(3)))
    draw = ImageDraw.Draw(photo)
    for _ in range(12):
        x, y = rng.randrange(w), rng.randrange(h)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + rng.randrange(50, 300), y + rng.randrange(50, 300)),
                           fill=colour)
        else:
            draw.ellipse((x, y, x + rng.randrange(50, 300), y + rng.randrange(50, 300)),
                         fill=colour)
    photo.save(path, "JPEG", quality=85)


def set_up(fresh: bool) -> None:
    """The database copy with its photos, made once and reused."""
    if READY.exists() and not fresh:
        return
    from db.attachments import add_attachments
    from db.database import open_database

    ensure_large_demo()
    if SETUP.exists():
        shutil.rmtree(SETUP)
    SETUP.mkdir(parents=True)
    print(f"setting up {SETUP}: a copy of {SOURCE.name} with {PHOTOS} photos …", flush=True)
    t0 = time.perf_counter()
    src = sqlite3.connect(f"{SOURCE.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(DB)
    src.backup(dst)
    dst.close()
    src.close()
    rng = random.Random(20250916)
    db = open_database(DB)
    try:
        with db.session() as s:
            activities = [r[0] for r in s.connection().exec_driver_sql(
                "SELECT id FROM activity ORDER BY start_date DESC, id LIMIT ?",
                (PHOTOS // PER_ACTIVITY,))]
        with tempfile.TemporaryDirectory(prefix="kepu-photos-") as tmp:
            for n, activity in enumerate(activities):
                files = []
                for k in range(PER_ACTIVITY):
                    path = Path(tmp) / f"活动照片{n * PER_ACTIVITY + k + 1:03d}.jpg"
                    make_photo(path, rng)
                    files.append(path)
                add_attachments(db, activity_id=activity, files=files)
                for path in files:
                    path.unlink()
    finally:
        db.close()
    READY.write_text(f"{PHOTOS} photos\n", encoding="utf-8")
    print(f"  done in {time.perf_counter() - t0:.1f} s", flush=True)


def store_summary() -> tuple[int, int]:
    store = DB.with_name(DB.name + ".files")
    sizes = [p.stat().st_size for p in store.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)


# -- (a) make_backup ----------------------------------------------------------------------------


def one_backup() -> tuple[float, float]:
    """(database copy + check, attachment files) seconds of one make_backup."""
    from db.backups import make_backup

    marks: dict[int, float] = {}
    t0 = time.perf_counter()
    make_backup(DB, "manual", progress=lambda pct, _msg: marks.setdefault(pct, time.perf_counter()))
    end = time.perf_counter()
    return marks[60] - t0, end - marks[60]


def bench_make_backup(runs: int) -> None:
    from db.paths import backup_dir_for

    folder = backup_dir_for(DB)
    first: list[tuple[float, float]] = []
    second: list[tuple[float, float]] = []
    for _ in range(runs):
        shutil.rmtree(folder, ignore_errors=True)
        first.append(one_backup())
        time.sleep(1.1)  # a backup's name has the second in it: the next one is another file
        second.append(one_backup())
    shutil.rmtree(folder, ignore_errors=True)
    files, size = store_summary()
    print(f"(a) verified backup (make_backup) of {DB.stat().st_size / 1e6:.0f} MB database + "
          f"{files} attachment files ({size / 1e6:.0f} MB), medians of {runs} runs "
          f"(budget {BUDGET_BACKUP:.0f} s):")
    for label, results in (("first backup (every photo copied)", first),
                           ("second backup (photos already in backups/files)", second)):
        db_part = statistics.median(r[0] for r in results)
        files_part = statistics.median(r[1] for r in results)
        total = statistics.median(r[0] + r[1] for r in results)
        print(f"    {label:<50} {total:6.2f} s ({ratio(total, BUDGET_BACKUP)}): "
              f"database copy + integrity_check {db_part:.2f} s, attachments {files_part:.2f} s")


# -- (b) start-up with the day's backup due or not ------------------------------------------------


def todays_daily_backups() -> list[Path]:
    from db.paths import backup_dir_for

    folder = backup_dir_for(DB)
    stamp = dt.date.today().strftime("%Y%m%d")
    return sorted(folder.glob(f"*-{stamp}-*-daily.sqlite")) if folder.is_dir() else []


def make_due(due: bool) -> None:
    from db.backups import daily_backup_due, ensure_daily_backup

    if due:
        for path in todays_daily_backups():
            path.unlink()
    else:
        ensure_daily_backup(DB)
    assert daily_backup_due(DB) == due


def bench_startup(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="kepu-bench-") as tmp:
        home = Path(tmp)
        make_due(False)
        found = ledger_command(DB, home, first_timeout=START_TIMEOUT, timeout=START_TIMEOUT)
        if found is None:
            print("(b) FAILED: the ledger page never reported painting")
            return
        cmd, patched = found
        how = "python -m desktop.cli --db …"
        if patched:
            how += " with the ledger page added to desktop.main_window.PAGES"
        results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(runs):
            for due in (True, False):  # interleaved, so drift affects both alike
                make_due(due)
                painted, wall = start_once(cmd, home, START_TIMEOUT)
                if painted is not None:
                    results[due].append((painted, wall))
                if due:
                    assert todays_daily_backups(), "the daily backup was not made"
    print()
    print(f"(b) start-up, process start → 活动台账 painted, medians of {runs} runs each "
          f"(budget: ≤ {BUDGET_STARTUP_EXTRA} s slower with the backup due):")
    medians = {}
    for due, label in ((False, "not due"), (True, "backup due")):
        paints = [r[0] for r in results[due]]
        walls = [r[1] for r in results[due]]
        medians[due] = statistics.median(paints)
        print(f"    {label:<12} painted {medians[due]:.3f} s   whole process (start to exit) "
              f"{statistics.median(walls):.3f} s   ({len(paints)} runs)")
    extra = medians[True] - medians[False]
    share = ratio(max(extra, 0.0), BUDGET_STARTUP_EXTRA)
    print(f"    slower with the backup due: {extra:+.3f} s ({share}), "
          f"ratio due/not due {medians[True] / medians[False]:.2f}")
    print(f"    command: {how}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per figure")
    ap.add_argument("--fresh", action="store_true", help="build the setup again")
    ap.add_argument("--skip-startup", action="store_true", help="skip (b)")
    args = ap.parse_args()
    set_up(args.fresh)
    print(f"database: {DB}")
    bench_make_backup(args.runs)
    if not args.skip_startup:
        bench_startup(args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Nothing committed is lost when the program is killed (power cut, task manager, crash).

A worker process (``crash_child.py``) imports rosters, saves activities and attaches
files in a loop on one database; it is killed with SIGKILL (TerminateProcess on
Windows) at a random moment, again and again on the same file, each run continuing
from the state the previous kill left. After every kill the file must pass SQLite's
integrity check, hold everything the worker reported as committed, hold each roster
import completely or not at all, have a file for every attachment row, open with
``open_database`` and take a new write.

The moment of each kill is drawn from a generator seeded per run
(``KEPU_CRASH_SEED``, default 20250916; ``KEPU_CRASH_RUNS`` runs, default 60), so a
failure can be replayed; the message names the run and the seed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from db.activities import ActivityInput, create_activity
from db.attachments import (
    GC_GRACE_S,
    TEMP_MAX_AGE_S,
    TEMP_PREFIX,
    TRASH_DIR,
    collect_garbage,
    store_dir,
)
from db.catalogs import find_entry
from db.database import check_file, open_database
from db.offices import create_office, get_office
from db.paths import backup_dir_for
from tests.reliability import crash_child
from tests.reliability.crash_child import PHASES, ROSTER_ROWS, batch_note

CHILD = Path(crash_child.__file__)
ROOT = CHILD.parents[2]
SEED = int(os.environ.get("KEPU_CRASH_SEED", "20250916"))
RUNS = int(os.environ.get("KEPU_CRASH_RUNS", "60"))
STARTUP_EVERY = 10  # every 10th run is killed while the worker starts (open_database …)


@dataclass
class Committed:
    """Everything the workers have reported as committed, over all runs so far."""

    activities: set[str] = field(default_factory=set)
    attachments: dict[str, str] = field(default_factory=dict)  # id → store path
    cohorts: set[int] = field(default_factory=set)


@dataclass
class Outcome:
    """What one run's progress file says."""

    phase: str  # where the worker was when it was killed
    events: list[dict[str, object]]


def read_progress(path: Path) -> list[dict[str, object]]:
    """The complete lines of a progress file (a kill may cut the last one short)."""
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n"):
            events.append(json.loads(line))
    return events


def phase_at_kill(events: list[dict[str, object]]) -> str:
    """Where the worker was when the progress file ends."""
    where = "startup"
    for e in events:
        ev, phase = e["ev"], e.get("phase")
        if ev == "ready":
            where = "between steps"
        elif ev == "begin":
            where = f"{phase}: prepare"
        elif ev == "step":
            where = f"{phase}: {e['step']}"
        elif ev == "commit" and phase == "activities":
            where = "activities: between saves"
        elif ev == "commit" or ev in ("end", "took"):
            where = "between steps"
    return where


def start_child(db: Path, training: str, progress: Path, work: Path, start: str,
                cycles: int = 0) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, str(CHILD), "--db", str(db), "--training", training,
         "--progress", str(progress), "--work", str(work), "--start", start,
         "--cycles", str(cycles)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_ready(progress: Path, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited before it was ready:\n{proc.stderr.read()}")
        if progress.exists() and b'"ready"' in progress.read_bytes():
            return
        time.sleep(0.001)
    raise AssertionError("the worker did not get ready in time")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.kill()  # SIGKILL on POSIX: no cleanup, no atexit, no finally
    proc.wait(timeout=30)
    if proc.stderr is not None:
        proc.stderr.close()


def new_database(folder: Path) -> tuple[Path, str]:
    """A database with an office, its catalogs and one training to import rosters into."""
    path = folder / "kepu.sqlite"
    db = open_database(path, create=True)
    try:
        with db.write() as s:
            office = create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
            form = find_entry(s, "form", "培训")
            assert form is not None
        day = dt.date(2025, 9, 10)
        training = create_activity(db, office, ActivityInput(
            title="茶叶病虫害绿色防控培训", start_date=day, end_date=day, form_id=form.id,
            train_hours_x10=20))
    finally:
        db.close()
    return path, training


def check_after_kill(path: Path, training: str, done: Committed, seen_backups: set[str],
                     context: str) -> dict[str, int]:
    """Every check of one killed run; returns a few numbers for the report."""
    result = check_file(path)  # read-only: integrity, foreign keys, version, search index
    assert result.integrity == "ok", f"{context}: integrity_check: {result.integrity}"
    assert result.ok, f"{context}: {result}"

    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        activities = {r[0] for r in con.execute("SELECT id FROM activity")}
        lost = done.activities - activities
        assert not lost, f"{context}: committed activities lost: {sorted(lost)[:5]}"

        rows = dict(con.execute("SELECT id, path FROM attachment"))
        lost_att = {a for a in done.attachments if a not in rows}
        assert not lost_att, f"{context}: committed attachments lost: {sorted(lost_att)}"
        per_activity = con.execute(
            "SELECT activity_id, COUNT(*) FROM attachment GROUP BY activity_id").fetchall()
        assert all(n % 3 == 0 for _a, n in per_activity), \
            f"{context}: an attachment batch was saved in part: {per_activity}"

        # the roster: each import completely or not at all
        on_roster = con.execute("SELECT COUNT(*) FROM attendance WHERE activity_id = ?",
                                (training,)).fetchone()[0]
        assert on_roster % ROSTER_ROWS == 0, f"{context}: half an import: {on_roster} on roster"
        batches = dict(con.execute(
            "SELECT t.note, COUNT(*) FROM trainee t JOIN attendance a ON a.trainee_id = t.id"
            " AND a.activity_id = ? GROUP BY t.note", (training,)).fetchall())
        people = dict(con.execute("SELECT note, COUNT(*) FROM trainee GROUP BY note").fetchall())
        assert batches == people, f"{context}: people without their roster entry: {people}"
        assert all(n == ROSTER_ROWS for n in batches.values()), f"{context}: {batches}"
        assert len(batches) == on_roster // ROSTER_ROWS
        for cohort in done.cohorts:
            assert batches.get(batch_note(cohort)) == ROSTER_ROWS, \
                f"{context}: committed import {batch_note(cohort)} lost"
        imports = con.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'import'"
                              ).fetchone()[0]
        assert imports == len(batches), f"{context}: {imports} import audit rows"
    finally:
        con.close()

    # the store: no row without its file; a file without a row only while an import
    # may still be under way (younger than the grace period collect_garbage keeps)
    store = path.with_name(path.name + ".files")
    referenced = set(rows.values())
    orphans = temps = 0
    if store.is_dir():
        now = time.time()
        for file in store.rglob("*"):
            rel = file.relative_to(store)
            if not file.is_file() or rel.parts[0] == TRASH_DIR:
                continue
            if file.name.startswith(TEMP_PREFIX):
                temps += 1
            elif rel.as_posix() not in referenced:
                orphans += 1
                assert now - file.stat().st_mtime < GC_GRACE_S, f"{context}: old orphan {rel}"
    for att_id, rel in done.attachments.items():
        assert rows[att_id] == rel

    # it opens, collect_garbage finds every file, and a write works
    db = open_database(path)
    try:
        report = collect_garbage(db)
        assert report.missing == [], f"{context}: rows without a file: {report.missing}"
        assert report.moved == 0  # everything unreferenced is younger than the grace period
        assert store_dir(db) == store
        with db.session() as s:
            office = get_office(s)
            lecture = find_entry(s, "form", "讲座")
            assert lecture is not None
        day = dt.date(2025, 9, 17)
        after = create_activity(db, office, ActivityInput(
            title="崩溃后写入检查", start_date=day, end_date=day, form_id=lecture.id, attend=1))
        with db.session() as s:
            assert s.connection().exec_driver_sql(
                "SELECT title FROM activity WHERE id = ?", (after,)).scalar() == "崩溃后写入检查"
    finally:
        db.close()

    # a backup that exists is a good one (a kill while copying leaves only a .part);
    # checked once, then removed so the folder does not fill up over the runs
    partial = 0
    folder = backup_dir_for(path)
    if folder.is_dir():
        for backup in sorted(folder.iterdir()):
            if backup.suffix == ".sqlite" and backup.name not in seen_backups:
                con = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
                try:
                    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", backup
                finally:
                    con.close()
                seen_backups.add(backup.name)
            elif backup.name.endswith((".part", ".part-journal")):
                partial += 1
            if backup.is_file():
                backup.unlink()
    return {"orphans": orphans, "temps": temps, "partial_backups": partial}


@pytest.mark.slow
def test_nothing_committed_is_lost_when_killed(tmp_path: Path) -> None:
    path, training = new_database(tmp_path)
    done = Committed()
    seen_backups: set[str] = set()
    work = tmp_path / "work"

    def absorb(events: list[dict[str, object]]) -> None:
        for e in events:
            if e["ev"] != "commit":
                continue
            if e["phase"] == "activities":
                done.activities.add(str(e["activity"]))
            elif e["phase"] == "attachments":
                done.attachments.update(zip(e["ids"], e["paths"], strict=True))  # type: ignore[arg-type]
            else:
                assert e["imported"] == ROSTER_ROWS and e["attendances"] == ROSTER_ROWS
                done.cohorts.add(int(e["cohort"]))  # type: ignore[arg-type]

    # First one run per phase that is not killed: the work must succeed, and the run
    # times the start-up and its first phase (in a fresh process, as in a killed run).
    duration: dict[str, float] = {}
    startups = []
    for start in PHASES:
        progress = tmp_path / f"progress-calibrate-{start}.jsonl"
        t0 = time.perf_counter()
        proc = start_child(path, training, progress, work, start, cycles=1)
        wait_for_ready(progress, proc)
        startups.append(time.perf_counter() - t0)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        events = read_progress(progress)
        absorb(events)
        duration[start] = next(float(e["seconds"]) for e in events  # type: ignore[arg-type]
                               if e["ev"] == "took")
        check_after_kill(path, training, done, seen_backups, f"calibration run {start}")
    startup = statistics.median(startups)

    phases: Counter[str] = Counter()
    partial_backups = 0
    numbers: dict[str, int] = {}
    started = time.perf_counter()
    for run in range(RUNS):
        seed = f"{SEED}-{run}"
        rng = random.Random(seed)
        start = PHASES[run % len(PHASES)]
        progress = tmp_path / f"progress-{run:03d}.jsonl"
        watchdog = None
        if run % STARTUP_EVERY == STARTUP_EVERY - 1:
            delay = rng.uniform(0.0, startup)
            proc = start_child(path, training, progress, work, start)
            time.sleep(delay)
            where = f"{delay * 1000:.0f} ms after launch"
        else:
            # within the phase it starts with and into the next one
            delay = rng.uniform(0.0, 1.5 * duration[start])
            proc = start_child(path, training, progress, work, start)
            watchdog = threading.Timer(60, proc.kill)
            watchdog.start()
            wait_for_ready(progress, proc)
            time.sleep(delay)
            where = f"{delay * 1000:.1f} ms after ready"
        if proc.poll() is not None:
            pytest.fail(f"run {run}: the worker exited on its own: {proc.stderr.read()}")
        kill(proc)
        if watchdog is not None:
            watchdog.cancel()
        events = read_progress(progress)
        hit = phase_at_kill(events)
        phases[hit] += 1
        absorb(events)
        context = f"run {run} (seed {seed!r}, started with {start}, killed {where}, in {hit})"
        numbers = check_after_kill(path, training, done, seen_backups, context)
        partial_backups += numbers["partial_backups"]
    elapsed = time.perf_counter() - started

    by_phase = Counter(p.split(":")[0] for p in phases)
    lines = [f"{RUNS} kills in {elapsed:.1f} s (start-up {startup * 1000:.0f} ms; phases "
             + ", ".join(f"{p} {duration[p] * 1000:.0f} ms" for p in PHASES) + "):"]
    lines += [f"  {name:<28}{count:>4}" for name, count in sorted(phases.items())]
    lines.append(f"  committed in total: {len(done.cohorts)} imports of {ROSTER_ROWS}, "
                 f"{len(done.activities)} activities, {len(done.attachments)} attachments")
    lines.append(f"  left behind (allowed): {numbers.get('orphans', 0)} unreferenced files and "
                 f"{numbers.get('temps', 0)} temporary files in the store (younger than the "
                 f"grace period), {partial_backups} unfinished backup copies (.part)")
    report = "\n".join(lines)
    print(report)
    (tmp_path / "crash-report.txt").write_text(report, encoding="utf-8")
    # every kind of work was interrupted at least once, or the test proves little
    for name in (*PHASES, "startup"):
        assert by_phase[name] > 0, report

    # a day later collect_garbage takes the files no row wanted (and only those) to the
    # trash and deletes the temporary files of the killed imports
    store = path.with_name(path.name + ".files")
    long_ago = time.time() - max(GC_GRACE_S, TEMP_MAX_AGE_S) - 60
    for file in store.rglob("*"):
        if file.is_file():
            os.utime(file, (long_ago, long_ago))
    db = open_database(path)
    try:
        collected = collect_garbage(db)
    finally:
        db.close()
    assert collected.moved == numbers["orphans"] and collected.missing == []
    kept = {f.relative_to(store).as_posix() for f in store.rglob("*")
            if f.is_file() and f.relative_to(store).parts[0] != TRASH_DIR}
    con = sqlite3.connect(path)
    try:
        assert kept == {r[0] for r in con.execute("SELECT path FROM attachment")}
    finally:
        con.close()


def test_copies_left_by_a_killed_backup_are_removed(tmp_path: Path) -> None:
    """A backup killed half-way leaves a .part as large as the database; the next day's goes."""
    from db.backups import FILES_DIR, LEFTOVER_AGE_S, ensure_daily_backup, list_backups

    path, _training = new_database(tmp_path)
    folder = backup_dir_for(path)
    (folder / FILES_DIR / "ab").mkdir(parents=True)
    old = [folder / "kepu-20250915-083000-daily.sqlite.part",
           folder / "kepu-20250915-083000-daily.sqlite.part-journal",
           folder / FILES_DIR / "ab" / "ab12.jpg.part"]
    fresh = folder / "kepu-20250916-083000-manual.sqlite.part"  # a backup under way
    for leftover in (*old, fresh):
        leftover.write_bytes(b"\0" * 4096)
    stale = time.time() - LEFTOVER_AGE_S - 60
    for leftover in old:
        os.utime(leftover, (stale, stale))
    assert ensure_daily_backup(path) is not None
    assert [b.reason for b in list_backups(path)] == ["daily"]
    assert not any(p.exists() for p in old)
    assert fresh.exists()

"""The worker that tests/reliability/test_crash.py kills with SIGKILL at a random moment.

Run as ``python crash_child.py --db … --training … --progress … --work … --start import``.
It loops over three kinds of committed work, starting with ``--start``:

- ``import``: writes a roster workbook of :data:`ROSTER_ROWS` new people (batch marker
  ``批次<k>`` in 备注), reads it with ``read_workbook``/``best_sheet``, plans it and applies
  it into the training, all or nothing (with the import's verified backup, as the GUI does);
- ``activities``: :data:`ACTIVITIES` × ``create_activity``, each its own transaction;
- ``attachments``: ``add_attachments`` of 3 small files (a plain JPEG stored as is, a JPEG
  with EXIF that is re-encoded, a PDF) to one activity.

Each line of the progress file is JSON. ``begin``/``step`` lines say where the worker is
(flushed only); a ``commit`` line is written after a transaction has committed and is
flushed and fsynced before the worker goes on, so everything it names must survive a kill.
It imports only the modules it needs so that it starts quickly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from db.activities import ActivityInput, create_activity  # noqa: E402
from db.attachments import add_attachments  # noqa: E402
from db.catalogs import find_entry  # noqa: E402
from db.database import open_database  # noqa: E402
from db.idcard import make_id_number  # noqa: E402
from db.imports import (  # noqa: E402
    TRAINEE_FIELDS,
    apply_trainee_import,
    best_sheet,
    plan_trainee_import,
    read_workbook,
)
from db.offices import get_office  # noqa: E402

ROSTER_ROWS = 300
ACTIVITIES = 20
ACTIVITY_TITLE = "崩溃测试活动"
PHASES = ("import", "activities", "attachments")
DAY = dt.date(2025, 9, 16)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "秀英明华建国志强丽娟文军平红玉兰海燕小龙春梅桂芳德"


def batch_note(cohort: int) -> str:
    return f"批次{cohort}"


def cohort_numbers(cohort: int) -> list[str]:
    """The 身份证号 of the people of one roster: new people for every cohort."""
    born = dt.date(1940, 1, 1) + dt.timedelta(days=cohort)
    return [make_id_number("350582", born, seq) for seq in range(ROSTER_ROWS)]


class Progress:
    """The progress file: one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as we do

    def note(self, **event: object) -> None:
        """Where the worker is: flushed to the OS (a kill cannot lose it), not fsynced."""
        self._fh.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._fh.flush()

    def committed(self, **event: object) -> None:
        """What was just committed: flushed and fsynced before the worker goes on."""
        self.note(ev="commit", **event)
        os.fsync(self._fh.fileno())


def write_roster(path: Path, cohort: int) -> Path:
    import openpyxl  # already loaded by db.imports (error workbooks)

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append([f"培训签到表（{batch_note(cohort)}）"])
    ws.append(["序号", "姓名", "身份证号", "联系电话", "所在村（社区）", "备注"])
    for i, number in enumerate(cohort_numbers(cohort)):
        given = _GIVEN[(i // 20) % len(_GIVEN)] + _GIVEN[(i * 7 + cohort) % len(_GIVEN)]
        name = _SURNAMES[i % len(_SURNAMES)] + given
        ws.append([i + 1, name, number, f"138{cohort % 10000:04d}{i:04d}", "坑口村",
                   batch_note(cohort)])
    wb.save(path)
    return path


def do_import(db, office, training_id: str, work: Path, progress: Progress) -> None:  # noqa: ANN001
    with db.session() as s:
        on_roster = s.connection().exec_driver_sql(
            "SELECT COUNT(*) FROM attendance WHERE activity_id = ?", (training_id,)).scalar()
    cohort = on_roster // ROSTER_ROWS
    progress.note(ev="begin", phase="import", cohort=cohort)
    sheets = read_workbook(write_roster(work / "花名册.xlsx", cohort))
    index, _guess = best_sheet(sheets, TRAINEE_FIELDS)
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheets[index], training_id=training_id)
    assert plan.new == ROSTER_ROWS and plan.invalid == 0, (plan.new, plan.invalid)
    last = [""]

    def report(_percent: int, message: str) -> None:
        step = "backup" if "备份" in message else "write" if "写入" in message else ""
        if step and step != last[0]:
            last[0] = step
            progress.note(ev="step", phase="import", step=step)

    result = apply_trainee_import(db, office, plan, progress=report)
    progress.committed(phase="import", cohort=cohort, training=training_id,
                       imported=result.imported, attendances=result.attendances)


def do_activities(db, office, lecture_id: str, progress: Progress) -> None:  # noqa: ANN001
    progress.note(ev="begin", phase="activities")
    for i in range(ACTIVITIES):
        aid = create_activity(db, office, ActivityInput(
            title=f"{ACTIVITY_TITLE}{time.time_ns()}", start_date=DAY, end_date=DAY,
            form_id=lecture_id, attend=30 + i, village="坑口村", address="村委会",
            description="防范电信诈骗科普讲座。" * 20))
        progress.committed(phase="activities", activity=aid)
    progress.note(ev="end", phase="activities")


def make_files(work: Path) -> list[Path]:
    from PIL import Image  # already loaded by db.attachments

    r, g, b = os.urandom(3)  # new bytes every time: the store writes new files
    plain = work / "现场照片.jpg"
    Image.new("RGB", (320, 240), (r, g, b)).save(plain, "JPEG", quality=85)
    with_exif = work / "签到表.jpg"
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make: metadata, so the photo is re-encoded without it
    Image.new("RGB", (480, 360), (b, r, g)).save(with_exif, "JPEG", quality=90, exif=exif)
    pdf = work / "活动方案.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%" + os.urandom(16) + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return [plain, with_exif, pdf]


def do_attachments(db, work: Path, progress: Progress) -> None:  # noqa: ANN001
    with db.session() as s:
        aid = s.connection().exec_driver_sql(
            "SELECT id FROM activity WHERE title LIKE ? ORDER BY created_at DESC, id LIMIT 1",
            (ACTIVITY_TITLE + "%",)).scalar()
    if aid is None:
        return
    progress.note(ev="begin", phase="attachments", activity=aid)
    files = make_files(work)
    progress.note(ev="step", phase="attachments", step="files")
    infos = add_attachments(db, activity_id=aid, files=files)
    progress.committed(phase="attachments", activity=aid, ids=[i.id for i in infos],
                       paths=[i.path for i in infos])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--training", required=True)
    ap.add_argument("--progress", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True, help="a folder for the files it makes")
    ap.add_argument("--start", choices=PHASES, default="import")
    ap.add_argument("--cycles", type=int, default=0, help="0: until killed")
    args = ap.parse_args()
    progress = Progress(args.progress)
    args.work.mkdir(parents=True, exist_ok=True)
    db = open_database(args.db)
    with db.session() as s:
        office = get_office(s)
        lecture = find_entry(s, "form", "讲座")
        assert lecture is not None
    progress.note(ev="ready")
    first = PHASES.index(args.start)
    step = 0
    while not args.cycles or step < args.cycles * len(PHASES):
        phase = PHASES[(first + step) % len(PHASES)]
        started = time.perf_counter()
        if phase == "import":
            do_import(db, office, args.training, args.work, progress)
        elif phase == "activities":
            do_activities(db, office, lecture.id, progress)
        else:
            do_attachments(db, args.work, progress)
        progress.note(ev="took", phase=phase, seconds=round(time.perf_counter() - started, 4))
        step += 1
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

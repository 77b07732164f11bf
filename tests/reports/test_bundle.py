"""上报: the submission bundle (zip with return, summary, data.json, manifest) and the lock."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from db.database import Database
from db.demo import generate_demo
from db.errors import KepuError, PeriodLockedError, ValidationError
from db.idcard import is_valid_id_number
from db.indicators import compute_figures
from db.models import Activity, AuditLog
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import month_state, reopen_month
from reports import bundle, pdf_summary
from reports.bundle import read_bundle, submit_period, verify_bundle
from reports.figures import figures_to_dict

TODAY = dt.date(2025, 10, 20)
SEPT = "2025-09"
NAMES = {"2025-09_350582103_return.xlsx", "2025-09_350582103_summary.pdf", "data.json",
         "manifest.json"}
ID_RE = re.compile(r"\b\d{17}[\dX]\b")


@pytest.fixture
def demo(db: Database, office: OfficeInfo) -> Database:
    generate_demo(db, office, year=2025, scale="small")
    return db


def submit(db: Database, office: OfficeInfo, out: Path, **kwargs: object):  # noqa: ANN201
    return submit_period(db, office, SEPT, out, today=TODAY, **kwargs)  # type: ignore[arg-type]


def state(db: Database, office: OfficeInfo, month: str = SEPT):  # noqa: ANN201
    with db.session() as s:
        return month_state(s, office, month)


def sept_activity(db: Database) -> str:
    with db.session() as s:
        return s.scalars(select(Activity.id).where(Activity.start_date >= dt.date(2025, 9, 1),
                                                   Activity.start_date <= dt.date(2025, 9, 30))
                         ).first()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


def rewrite(path: Path, name: str, content: bytes) -> None:
    """Replace one member of a zip (what a careless or dishonest hand would do)."""
    files = members(path)
    files[name] = content
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in files.items():
            zf.writestr(n, data)


def test_submit_writes_a_verified_bundle_and_locks_the_month(demo: Database, office: OfficeInfo,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "2025-09_金井镇.zip"
    result = submit(demo, office, out, user="张文书")

    assert result.path == out and out.is_file()
    files = members(out)
    assert set(files) == NAMES
    assert all(n.isascii() for n in files)
    assert verify_bundle(out) == []
    with zipfile.ZipFile(out) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}

    # the manifest lists every other file with its real size and hash
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "kepu-taizhang.submission" and manifest["format_version"] == 1
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == NAMES - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["size"] == len(files[name])
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()

    # locked: the data layer refuses a change to September
    st = state(demo, office)
    assert st.locked and st.label == "已上报" and result.state.locked
    aid = sept_activity(demo)
    with pytest.raises(PeriodLockedError), demo.write() as s:
        s.get(Activity, aid).attend = 1

    # data.json: the same figures as `kepu figures --json`, records, masked numbers
    doc = json.loads(files["data.json"])
    with demo.session() as s:
        expected = figures_to_dict(compute_figures(s, office, Period.parse(SEPT)))
    assert doc["figures"] == json.loads(json.dumps(expected))
    assert doc["period"] == SEPT and doc["revision"] == 0 and doc["revision_label"] == ""
    assert doc["title"] == "金井镇2025年9月科普工作月报表"
    assert doc["office"]["code"] == "350582103" and doc["office"]["name"] == "金井镇"
    assert doc["files"] == {"return": "2025-09_350582103_return.xlsx",
                            "summary": "2025-09_350582103_summary.pdf"}
    assert len(doc["activities"]) == doc["figures"]["figures"]["act.count"]["period"]
    assert doc["roster"], "the small demo has September trainings"
    assert len(doc["roster"]) == sum(a["roster_size"] for a in doc["activities"]
                                     if a["form_code"] == "培训")
    assert all("*" in r["id_number"] for r in doc["roster"] if r["id_number"])
    assert not [m for m in ID_RE.findall(files["data.json"].decode()) if is_valid_id_number(m)]
    assert doc["full_ids"] is False

    # the return and the summary in the bundle are real files of the month
    xlsx = tmp_path / "r.xlsx"
    xlsx.write_bytes(files["2025-09_350582103_return.xlsx"])
    wb = load_workbook(xlsx, read_only=True)
    assert wb["汇总表"]["A1"].value == "金井镇2025年9月科普工作月报表"
    wb.close()
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(files["2025-09_350582103_summary.pdf"])
    assert "金井镇2025年9月科普工作情况汇总" in PdfReader(pdf).pages[0].extract_text()

    # a verified backup was taken first
    assert result.backup.is_file() and "submit" in result.backup.name
    assert read_bundle(out)["period"] == SEPT


def test_full_ids_are_in_the_bundle_and_audited(demo: Database, office: OfficeInfo,
                                                tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    submit(demo, office, out, full_ids=True)
    doc = read_bundle(out)
    assert doc["full_ids"] is True
    numbers = [r["id_number"] for r in doc["roster"] if r["id_number"]]
    assert numbers and all(is_valid_id_number(n) for n in numbers)
    with demo.session() as s:
        notes = s.scalars(select(AuditLog.note).where(AuditLog.action == "export_full_ids")).all()
    assert len(notes) == 1 and "完整身份证号" in notes[0] and "2025年9月" in notes[0]


def test_a_tampered_bundle_is_reported(demo: Database, office: OfficeInfo,
                                       tmp_path: Path) -> None:
    out = tmp_path / "b.zip"
    submit(demo, office, out)
    doc = json.loads(members(out)["data.json"])
    doc["figures"]["figures"]["act.count"]["period"] += 100
    rewrite(out, "data.json", json.dumps(doc, ensure_ascii=False).encode())
    problems = verify_bundle(out)
    assert any("data.json" in p and "校验值" in p for p in problems), problems
    with pytest.raises(KepuError, match="校验未通过"):
        read_bundle(out)

    rewrite(out, "extra.txt", b"hello")
    assert any("extra.txt" in p and "不在清单中" in p for p in verify_bundle(out))

    files = members(out)
    del files["manifest.json"]
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in files.items():
            zf.writestr(n, data)
    assert verify_bundle(out) == ["缺少清单文件 manifest.json，无法校验"]

    out.write_bytes(b"not a zip")
    assert "不是有效的 zip" in verify_bundle(out)[0]


def test_a_failure_midway_locks_nothing_and_leaves_no_bundle(demo: Database, office: OfficeInfo,
                                                             tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KepuError("磁盘已满")

    monkeypatch.setattr(pdf_summary, "write_summary_pdf", broken)
    out = tmp_path / "out" / "b.zip"
    out.parent.mkdir()
    with pytest.raises(KepuError, match="磁盘已满"):
        submit(demo, office, out)
    assert not state(demo, office).locked
    assert list(out.parent.iterdir()) == []  # no bundle, no temporary file

    # an existing bundle at the target is left as it was
    out.write_bytes(b"previous bundle")
    with pytest.raises(KepuError):
        submit(demo, office, out)
    assert out.read_bytes() == b"previous bundle"
    assert [p.name for p in out.parent.iterdir()] == ["b.zip"]


def test_a_failed_backup_locks_nothing_and_places_no_bundle(demo: Database, office: OfficeInfo,
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """The backup runs beside the bundle's files; the bundle waits for it."""
    def failing_backup(*_args: object, **_kwargs: object) -> Path:
        time.sleep(0.5)  # ends after the files are made
        raise KepuError("备份失败：磁盘已满")

    monkeypatch.setattr(Database, "backup", failing_backup)
    out = tmp_path / "out" / "b.zip"
    out.parent.mkdir()
    out.write_bytes(b"previous bundle")
    with pytest.raises(KepuError, match="备份失败"):
        submit(demo, office, out)
    assert not state(demo, office).locked
    assert out.read_bytes() == b"previous bundle"
    assert [p.name for p in out.parent.iterdir()] == ["b.zip"]


def test_a_failing_lock_removes_the_new_bundle(demo: Database, office: OfficeInfo,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise ValidationError("2025-09 已上报")  # another window submitted meanwhile

    monkeypatch.setattr(bundle, "submit_month", refuse)
    out = tmp_path / "out" / "b.zip"
    out.parent.mkdir()
    out.write_bytes(b"previous bundle")
    with pytest.raises(ValidationError):
        submit(demo, office, out)
    assert out.read_bytes() == b"previous bundle"
    assert [p.name for p in out.parent.iterdir()] == ["b.zip"]


def test_resubmitting_after_reopening_is_revision_1(demo: Database, office: OfficeInfo,
                                                    tmp_path: Path) -> None:
    submit(demo, office, tmp_path / "first.zip")
    reopen_month(demo, office, SEPT, "漏报一场讲座")
    aid = sept_activity(demo)
    with demo.write() as s:
        s.get(Activity, aid).media_reports += 1  # reopened: changes are allowed again
    result = submit(demo, office, tmp_path / "second.zip")
    assert result.revision_label == "第1次修订" and result.state.locked

    doc = read_bundle(tmp_path / "second.zip")
    assert doc["revision"] == 1 and doc["revision_label"] == "第1次修订"
    assert doc["title"] == "金井镇2025年9月科普工作月报表（第1次修订）"
    xlsx = tmp_path / "r.xlsx"
    xlsx.write_bytes(members(tmp_path / "second.zip")["2025-09_350582103_return.xlsx"])
    wb = load_workbook(xlsx, read_only=True)
    assert "第1次修订" in wb["汇总表"]["A1"].value
    wb.close()
    assert read_bundle(tmp_path / "first.zip")["revision"] == 0


@pytest.mark.parametrize(("month", "message"), [
    ("2025-10", "还没有结束"),
    ("2025-Q3", "只能按月上报"),
    ("2025-13", "格式不对"),
])
def test_months_that_cannot_be_submitted(db: Database, office: OfficeInfo, tmp_path: Path,
                                         month: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        submit_period(db, office, month, tmp_path / "b.zip", today=TODAY)
    assert not (tmp_path / "b.zip").exists()
    assert not (db.path.parent / "backups").exists()  # refused before the backup


def test_an_already_submitted_month_is_refused(db: Database, office: OfficeInfo,
                                               tmp_path: Path) -> None:
    submit(db, office, tmp_path / "a.zip")  # an empty month can be submitted too
    assert read_bundle(tmp_path / "a.zip")["activities"] == []
    with pytest.raises(ValidationError, match="已上报"):
        submit(db, office, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()

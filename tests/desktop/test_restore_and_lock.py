"""Restoring a backup from the GUI; a database held by another program; bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from db.backups import make_backup
from db.catalogs import find_entry
from db.database import Database
from db.lock import DatabaseLock
from db.models import Activity
from db.offices import OfficeInfo
from desktop import app as app_module
from desktop.main_window import MainWindow
from desktop.restore_dialog import RestoreDialog


def _add(db: Database, office: OfficeInfo, title: str) -> None:
    with db.write() as s:
        day = dt.date(2025, 9, 3)
        s.add(Activity(office_id=office.id, title=title, start_date=day, end_date=day,
                       form_id=find_entry(s, "form", "讲座").id, attend=10))


def test_restore_from_the_file_menu(qtbot: Any, db: Database, office: OfficeInfo,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _add(db, office, "备份里有")
    make_backup(db.path, "manual")
    _add(db, office, "备份之后")
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    monkeypatch.setattr(RestoreDialog, "confirm", lambda self, backup: True)
    monkeypatch.setattr(RestoreDialog, "exec", lambda self: (self.accept(), self.result())[1])
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    window.restore_from_backup()
    with db.session() as s:
        assert [a.title for a in s.query(Activity)] == ["备份里有"]
    ledger = window.pages["活动台账"]
    window.show_page("活动台账")
    qtbot.waitUntil(lambda: ledger.model.total == 1)


def test_gui_open_of_a_held_database_offers_read_only(qtbot: Any, db: Database,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db.close()
    asked: list[str] = []

    def answer(err: Any, parent: Any = None, **kw: Any) -> str:
        asked.append(str(err))
        assert kw["offer_read_only"]
        return app_module.READ_ONLY

    monkeypatch.setattr(app_module, "ask_after_open_error", answer)
    with DatabaseLock(db.path, "kepu import 命令"):
        opened, code = app_module.open_or_set_up(db.path)
    assert code == 0 and opened is not None and opened.read_only
    assert "kepu import 命令" in asked[0]
    opened.close()


def test_gui_open_of_a_corrupt_file_can_restore_a_backup(qtbot: Any, db: Database,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    make_backup(db.path, "manual")
    db.close()
    db.path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100 + b"garbage" * 500)
    for suffix in ("-wal", "-shm"):
        Path(str(db.path) + suffix).unlink(missing_ok=True)
    answers = iter([app_module.RESTORED])

    def answer(err: Any, parent: Any = None, **kw: Any) -> Any:
        assert "损坏" in str(err) or "不是" in str(err)
        from db.backups import list_backups, restore_backup

        restore_backup(db.path, list_backups(db.path)[0].path)
        return next(answers)

    monkeypatch.setattr(app_module, "ask_after_open_error", answer)
    opened, code = app_module.open_or_set_up(db.path)
    assert code == 0 and opened is not None and not opened.read_only
    app_module.release_lock(opened)
    opened.close()


def test_dashboard_requests_open_the_filtered_ledger(qtbot: Any, db: Database,
                                                     office: OfficeInfo) -> None:
    _add(db, office, "讲座一")
    with db.write() as s:
        day = dt.date(2025, 8, 3)
        training = find_entry(s, "form", "培训").id
        s.add(Activity(office_id=office.id, title="培训一", start_date=day, end_date=day,
                       form_id=training, train_hours_x10=20, attend=5))
    window = MainWindow(db)
    qtbot.addWidget(window)
    window.show()
    window.pages["首页"].open_ledger.emit(
        {"form_id": training, "date_from": dt.date(2025, 1, 1),
         "date_to": dt.date(2025, 12, 31), "label": "首页：2025年 培训"})
    ledger = window.pages["活动台账"]
    assert window.stack.currentWidget().widget() is ledger
    qtbot.waitUntil(lambda: ledger.model.rowCount() == 1)
    assert ledger.model.row_at(0).title == "培训一"
    assert ledger.note_label.text() == "首页：2025年 培训"


def test_scheduled_backup_runs_in_the_background_at_start(qtbot: Any, db: Database) -> None:
    from db.backups import list_backups

    thread = app_module.start_daily_backup(db)
    assert thread is not None
    thread.join(timeout=30)
    assert [b.reason for b in list_backups(db.path)] == ["daily"]
    again = app_module.start_daily_backup(db)  # once a day only
    assert again is not None
    again.join(timeout=30)
    assert len(list_backups(db.path)) == 1


def test_gui_uses_the_data_location_chosen_in_settings(qtbot: Any, db: Database, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.settings_page import DB_PATH_SETTING, next_start_setting

    opened: list[Path] = []
    monkeypatch.setattr(app_module, "open_or_set_up",
                        lambda path, parent=None: (opened.append(path), (None, 0))[1])
    monkeypatch.setattr(app_module, "setup_logging", lambda: None)
    monkeypatch.setattr(app_module, "_install_excepthook", lambda: None)
    next_start_setting().setValue(DB_PATH_SETTING, str(db.path))
    try:
        assert app_module.run_gui(tmp_path / "default.sqlite", explicit=False) == 0
        assert app_module.run_gui(tmp_path / "given.sqlite", explicit=True) == 0
    finally:
        next_start_setting().remove(DB_PATH_SETTING)
    assert opened == [db.path, tmp_path / "given.sqlite"]

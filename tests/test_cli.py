"""The ``kepu`` command line: Chinese messages, exit codes, nothing changed on error."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from db.database import Database, check_file
from db.indicators import compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from desktop import cli

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


INIT = ["init", "--office", "金井镇", "--code", "350582103", "--level", "镇",
        "--region", "福建省泉州市晋江市", "--population", "58000"]


def test_init_creates_database_with_office(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "new" / "kepu.sqlite"
    code, out, err = run(capsys, "--db", str(path), *INIT)
    assert code == 0, err
    assert "已创建数据库" in out and "金井镇" in out
    assert check_file(path).ok
    code, _out, err = run(capsys, "--db", str(path), *INIT)
    assert code == 2
    assert "已设置填报单位" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--code", "12345"], "行政区划代码应为6位、9位或12位数字"),
        (["--population", "0"], "常住人口应为正整数"),
        (["--population", "很多"], "参数 --population 应为整数"),
        (["--level", "县"], "参数 --level 的取值“县”无效"),
    ],
)
def test_init_with_bad_input_says_why_and_creates_nothing(capsys, tmp_path: Path,  # noqa: ANN001
                                                         args: list[str], message: str) -> None:
    path = tmp_path / "kepu.sqlite"
    argv = list(INIT)
    flag, value = args
    argv[argv.index(flag) + 1] = value
    code, out, err = run(capsys, "--db", str(path), *argv)
    assert code == 2
    assert message in err
    assert err.startswith("错误：") and "Traceback" not in err
    assert not path.exists()


def test_missing_required_argument_is_reported_in_chinese(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, _out, err = run(capsys, "--db", str(tmp_path / "x.sqlite"), "init", "--office", "金井镇")
    assert code == 2
    assert "缺少必填参数" in err
    assert not (tmp_path / "x.sqlite").exists()


def test_figures_json_has_every_code_and_matches_the_computation(
        capsys, db: Database, office: OfficeInfo) -> None:  # noqa: ANN001
    from db.catalogs import find_entry
    import datetime as dt
    from db.models import Activity

    with db.write() as s:
        s.add(Activity(office_id=office.id, title="科普讲座", start_date=dt.date(2025, 9, 3),
                       end_date=dt.date(2025, 9, 3), form_id=find_entry(s, "form", "讲座").id,
                       attend=88, spending_fen=12345))
    db.close()
    code, out, err = run(capsys, "--db", str(db.path), "figures", "2025-09", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["office"] == {"name": "金井镇", "code": "350582103", "level": "镇",
                             "region": "福建省泉州市晋江市", "population": 58000}
    assert doc["period"] == "2025-09"
    with db.session() as s:
        figs = compute_figures(s, office, Period.parse("2025-09"))
    assert list(doc["figures"]) == list(figs.items)
    assert doc["figures"]["act.count"] == {"period": 1, "ytd": 1, "target": None, "rate": None}
    assert doc["figures"]["act.attend"]["period"] == 88
    assert doc["figures"]["fund.spent"]["period"] == 123.45
    assert doc["figures"]["form.线上.attend"]["period"] is None
    assert [m["month"] for m in doc["monthly"]] == [f"2025-{m:02d}" for m in range(1, 10)]


def test_figures_text_is_a_chinese_table(capsys, db: Database) -> None:  # noqa: ANN001
    code, out, _err = run(capsys, "--db", str(db.path), "figures", "2025-Q3")
    assert code == 0
    assert "报表期：2025年第三季度" in out
    assert "科普活动次数" in out and "本年累计" in out and "完成率" in out


def test_figures_on_missing_database_or_bad_period(capsys, tmp_path: Path,  # noqa: ANN001
                                                   db: Database) -> None:
    missing = tmp_path / "missing.sqlite"
    code, _out, err = run(capsys, "--db", str(missing), "figures", "2025")
    assert code == 2 and "数据库文件不存在" in err
    assert not missing.exists()
    code, _out, err = run(capsys, "--db", str(db.path), "figures", "2025-13")
    assert code == 2 and "报表期“2025-13”格式不对" in err


def test_kepu_db_environment_variable_and_db_flag(capsys, tmp_path: Path,  # noqa: ANN001
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    env_path = tmp_path / "env.sqlite"
    flag_path = tmp_path / "flag.sqlite"
    monkeypatch.setenv("KEPU_DB", str(env_path))
    assert run(capsys, *INIT)[0] == 0
    assert env_path.exists()
    assert run(capsys, "--db", str(flag_path), *INIT)[0] == 0
    assert flag_path.exists()


def test_default_database_lives_in_the_user_data_folder(capsys) -> None:  # noqa: ANN001
    assert run(capsys, *INIT)[0] == 0
    default = Path(os.environ["XDG_DATA_HOME"]) / "kepu" / "kepu.sqlite"
    assert default.exists()


def test_backup_and_check(capsys, db: Database, tmp_path: Path) -> None:  # noqa: ANN001
    code, out, err = run(capsys, "--db", str(db.path), "backup", "--to", str(tmp_path / "bk"))
    assert code == 0, err
    copy = Path(out.strip().split("：", 1)[1])
    assert copy.exists() and check_file(copy).ok
    code, out, _err = run(capsys, "--db", str(db.path), "check")
    assert code == 0 and "检查通过" in out and "金井镇" in out


def test_check_fails_on_a_corrupt_file(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database at all" * 50)
    code, _out, err = run(capsys, "--db", str(bad), "check")
    assert code == 2 and "不是科普台账数据库文件" in err


def test_a_bug_is_logged_not_shown_as_a_traceback(capsys, db: Database,  # noqa: ANN001
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> int:
        raise ValueError("internal detail")

    monkeypatch.setitem(cli.COMMANDS, "check", broken)
    code, _out, err = run(capsys, "--db", str(db.path), "check")
    assert code == 3
    assert "程序错误，已记录日志" in err and "Traceback" not in err
    from desktop.logs import log_file

    path = log_file()  # the log file of this process
    assert path is not None and str(path) in err
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "internal detail" in path.read_text(encoding="utf-8")


def test_the_log_never_keeps_identity_or_phone_numbers(capsys, db: Database,  # noqa: ANN001
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug whose message carries personal numbers is logged with them masked."""
    number, old, phone = "35058219900101123X", "350582900101123", "13812345678"

    def broken(*_args: object) -> int:
        raise ValueError(f"bad row {number} / {old} / tel {phone}; row id 2025091612345678901")

    monkeypatch.setitem(cli.COMMANDS, "check", broken)
    code, _out, _err = run(capsys, "--db", str(db.path), "check")
    assert code == 3
    from desktop.logs import log_file

    path = log_file()
    assert path is not None
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert "Traceback" in text and "bad row" in text  # the bug itself is there
    for secret in (number, old, phone, "19900101"):
        assert secret not in text
    assert "350582********123X" in text and "350582******123" in text and "138****5678" in text
    assert "2025091612345678901" in text  # a longer digit run is not a personal number


def test_cli_never_imports_qt_and_runs_without_display(tmp_path: Path) -> None:
    path = tmp_path / "kepu.sqlite"
    script = (
        "import sys\n"
        "from desktop.cli import main\n"
        f"assert main(['--db', {str(path)!r}, *{INIT!r}]) == 0\n"
        f"assert main(['--db', {str(path)!r}, 'figures', '2025', '--json']) == 0\n"
        f"assert main(['--db', {str(path)!r}, 'check']) == 0\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')))\n"
        "assert not qt, qt\n"
        "import db, reports\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                            "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert '"act.count"' in proc.stdout


def test_db_and_reports_packages_never_import_qt() -> None:
    offenders = []
    for package in ("db", "reports"):
        for file in (ROOT / package).rglob("*.py"):
            text = file.read_text(encoding="utf-8")
            if "PySide6" in text or "shiboken6" in text:
                offenders.append(str(file.relative_to(ROOT)))
    assert not offenders


def test_check_detects_and_repairs_a_stale_search_index(capsys, db: Database,  # noqa: ANN001
                                                        office: OfficeInfo) -> None:
    import datetime as dt
    import sqlite3

    from db.catalogs import find_entry
    from db.models import Activity

    with db.write() as s:
        s.add(Activity(office_id=office.id, title="防范电信诈骗讲座", start_date=dt.date(2025, 9, 3),
                       end_date=dt.date(2025, 9, 3), form_id=find_entry(s, "form", "讲座").id))
    db.close()
    # An outside tool changes a title behind the index's back.
    with sqlite3.connect(db.path) as con:
        trigger = con.execute("SELECT sql FROM sqlite_master WHERE name ="
                              " 'trg_activity_fts_update'").fetchone()[0]
        con.execute("DROP TRIGGER trg_activity_fts_update")
        con.execute("UPDATE activity SET title = '完全不同的标题'")
        con.execute(trigger)
    con.close()
    code, out, _err = run(capsys, "--db", str(db.path), "check")
    assert code == 1 and "全文检索索引" in out
    code, out, _err = run(capsys, "--db", str(db.path), "check", "--repair")
    assert code == 0 and "已重建全文检索索引" in out and "检查通过" in out


def test_cli_start_creates_no_files_until_needed(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    missing = tmp_path / "none.sqlite"
    code, _out, _err = run(capsys, "--db", str(missing), "figures", "2025")
    assert code == 2
    assert not (Path(os.environ["XDG_DATA_HOME"]) / "kepu").exists()


def test_demo_fills_an_empty_database_once(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    import sqlite3

    path = tmp_path / "demo.sqlite"
    code, out, err = run(capsys, "--db", str(path), "demo", "--year", "2025", "--seed", "7")
    assert code == 0, err
    assert "已写入演示数据" in out and "[100%]" in err
    with sqlite3.connect(path) as con:
        before = con.execute("SELECT COUNT(*) FROM activity").fetchone()[0]
    con.close()
    assert 250 <= before <= 350
    code, _out, err = run(capsys, "--db", str(path), "demo", "--year", "2025")
    assert code == 2 and "只能写入空数据库" in err
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT COUNT(*) FROM activity").fetchone()[0] == before
    con.close()
    code, out, _err = run(capsys, "--db", str(path), "figures", "2025", "--json")
    assert json.loads(out)["figures"]["act.count"]["period"] == before


def test_demo_with_a_bad_year_creates_nothing(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "demo.sqlite"
    code, _out, err = run(capsys, "--db", str(path), "demo", "--year", "1850")
    assert code == 2 and err.startswith("错误：")
    assert not path.exists()


def test_backups_list_and_restore(capsys, db: Database, office: OfficeInfo) -> None:  # noqa: ANN001
    import datetime as dt

    from db.catalogs import find_entry
    from db.models import Activity

    code, out, _err = run(capsys, "--db", str(db.path), "backup")
    assert code == 0
    backup = Path(out.strip().split("：", 1)[1])
    with db.write() as s:
        s.add(Activity(office_id=office.id, title="备份后新增", start_date=dt.date(2025, 9, 3),
                       end_date=dt.date(2025, 9, 3), form_id=find_entry(s, "form", "讲座").id))
    db.close()
    code, out, _err = run(capsys, "--db", str(db.path), "backups")
    assert code == 0 and "手动备份" in out and str(backup) in out
    code, out, err = run(capsys, "--db", str(db.path), "restore", str(backup))
    assert code == 0, err
    assert "恢复前的数据库已另存为" in out
    import sqlite3

    with sqlite3.connect(db.path) as con:
        assert con.execute("SELECT COUNT(*) FROM activity").fetchone()[0] == 0
    con.close()


def test_a_write_command_is_refused_while_the_gui_holds_the_database(
        capsys, db: Database, tmp_path: Path) -> None:  # noqa: ANN001
    from db.lock import DatabaseLock

    sheet = tmp_path / "花名册.xlsx"
    code, _out, _err = run(capsys, "template", "trainees", str(sheet))
    assert code == 0
    with DatabaseLock(db.path, "科普台账图形界面"):
        code, _out, err = run(capsys, "--db", str(db.path), "import", "trainees", str(sheet))
        assert code == 2 and "正被" in err and "科普台账图形界面" in err
        code, _out, _err = run(capsys, "--db", str(db.path), "figures", "2025")
        assert code == 0  # readers are fine

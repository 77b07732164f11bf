"""``kepu report / submit / reopen / placeholders``: files read back, exit codes, Chinese errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from db.database import Database
from db.demo import generate_demo
from db.errors import KepuError
from db.idcard import is_valid_id_number
from db.models import AuditLog
from db.offices import OfficeInfo
from db.reporting import month_state
from desktop import cli, cli_reports
from desktop.logs import setup_logging
from reports.bundle import verify_bundle

# --- running kepu -------------------------------------------------------------------------


def _main_with_reports(argv: list[str]) -> int:
    """``desktop.cli.main`` as it runs once cli.py includes cli_reports (until it does)."""
    from db.paths import resolve_db_path

    setup_logging()
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cli_reports.register(sub)
    try:
        args = parser.parse_args(argv)
        handler = {**cli.COMMANDS, **cli_reports.COMMANDS}[args.command]
        return handler(args, resolve_db_path(args.db))
    except KepuError as err:
        cli._err(str(err))
        return 2


def kepu(*argv: str) -> int:
    if "report" in cli.COMMANDS:  # desktop/cli.py includes the report commands
        return cli.main(list(argv))
    return _main_with_reports(list(argv))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = kepu(*argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder for the files kepu writes (the test database is elsewhere)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture
def demo(db: Database, office: OfficeInfo) -> Database:
    generate_demo(db, office, year=2025, scale="small")
    return db


def summary_values(path: Path) -> dict[str, object]:
    """代码 → 本期 on the 汇总表 of a return."""
    wb = load_workbook(path, read_only=True)
    try:
        return {row[2]: row[4] for row in wb["汇总表"].iter_rows(min_row=5, values_only=True)
                if isinstance(row[2], str) and "." in row[2]}
    finally:
        wb.close()


def county_template(path: Path, *cells: str) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "月报"
    ws["A1"] = "{{office.name}}科普工作月报表（{{period}}）"
    ws["A2"], ws["B2"] = "科普活动次数", "{{act.count}}"
    ws["A3"], ws["B3"] = "本年累计", "{{act.count:ytd}}"
    for i, text in enumerate(cells, 4):
        ws[f"B{i}"] = text
    wb.save(path)
    return path


# --- report -------------------------------------------------------------------------------


def test_report_writes_every_requested_file(capsys, demo: Database, work: Path) -> None:  # noqa: ANN001
    db_arg = ("--db", str(demo.path))
    code, out, err = run(capsys, *db_arg, "figures", "2025-09", "--json")
    assert code == 0, err
    figures = json.loads(out)["figures"]

    template = county_template(work / "县模板.xlsx")
    files = {name: work / name for name in ("月报.xlsx", "汇总.pdf", "佐证.pdf", "县报.xlsx")}
    code, out, err = run(capsys, *db_arg, "report", "2025-09", "--reporter", "张三",
                         "--xlsx", str(files["月报.xlsx"]), "--pdf", str(files["汇总.pdf"]),
                         "--evidence", str(files["佐证.pdf"]),
                         "--template", str(template), "--out", str(files["县报.xlsx"]))
    assert code == 0, err
    for path in files.values():
        assert path.is_file()
        assert str(path) in out
    assert "已生成月报表（Excel）" in out and "已生成工作汇总（PDF）" in out
    assert "已生成佐证材料汇编（PDF）" in out and "已生成县级模板报表（Excel）" in out
    assert "完整身份证号" not in out

    values = summary_values(files["月报.xlsx"])
    assert values["act.count"] == figures["act.count"]["period"]
    assert values["train.attend"] == figures["train.attend"]["period"]
    pages = len(PdfReader(files["汇总.pdf"]).pages)
    assert f"{pages} 页" in out
    assert "张三" in PdfReader(files["汇总.pdf"]).pages[0].extract_text()
    wb = load_workbook(files["县报.xlsx"])
    assert wb["月报"]["A1"].value == "金井镇科普工作月报表（2025年9月）"
    assert wb["月报"]["B2"].value == figures["act.count"]["period"]
    assert wb["月报"]["B3"].value == figures["act.count"]["ytd"]
    # nothing left behind but the files asked for
    assert sorted(p.name for p in work.iterdir()) == sorted([*files, "县模板.xlsx"])
    with demo.session() as s:
        assert not s.scalars(select(AuditLog).where(AuditLog.action == "export_full_ids")).all()


@pytest.mark.parametrize(("period", "title"), [("2025-Q3", "2025年第三季度科普工作季度报表"),
                                               ("2025", "2025年科普工作年度报表")])
def test_report_for_a_quarter_or_a_year(capsys, demo: Database, work: Path,  # noqa: ANN001
                                        period: str, title: str) -> None:
    out_file = work / "r.xlsx"
    code, _out, err = run(capsys, "--db", str(demo.path), "report", period, "--xlsx", str(out_file))
    assert code == 0, err
    wb = load_workbook(out_file, read_only=True)
    assert wb["汇总表"]["A1"].value == f"金井镇{title}"
    wb.close()


def test_full_ids_are_written_and_audited(capsys, demo: Database, work: Path) -> None:  # noqa: ANN001
    out_file = work / "r.xlsx"
    code, out, err = run(capsys, "--db", str(demo.path), "report", "2025-09", "--xlsx",
                         str(out_file), "--full-ids")
    assert code == 0, err
    assert "敏感个人信息" in out
    wb = load_workbook(out_file, read_only=True)
    ids = [row[5] for row in wb["培训花名册"].iter_rows(min_row=3, values_only=True) if row[5]]
    wb.close()
    assert ids and all(is_valid_id_number(i) for i in ids)
    with demo.session() as s:
        entries = s.scalars(select(AuditLog).where(AuditLog.action == "export_full_ids")).all()
    assert len(entries) == 1
    assert entries[0].table_name == "period" and entries[0].record_id.endswith("/2025-09")
    assert "完整身份证号" in entries[0].note and "月报表" in entries[0].note


def test_report_prints_warnings_about_unprintable_characters(capsys, db: Database,  # noqa: ANN001
                                                              office: OfficeInfo,
                                                              work: Path) -> None:
    import datetime as dt

    from db.catalogs import find_entry
    from db.models import Activity

    with db.write() as s:
        form = find_entry(s, "form", "讲座")
        s.add(Activity(office_id=office.id, title="科普讲座\ue000", form_id=form.id,
                       start_date=dt.date(2025, 9, 3), end_date=dt.date(2025, 9, 3), attend=40))
    code, out, err = run(capsys, "--db", str(db.path), "report", "2025-09",
                         "--pdf", str(work / "汇总.pdf"))
    assert code == 0, err
    assert "提示：以下记录含有无法打印的字" in out and "U+E000" in out


@pytest.mark.parametrize(("args", "message"), [
    ([], "请至少指定一种要生成的文件"),
    (["--template", "t.xlsx"], "还要用 --out 指定"),
    (["--out", "o.xlsx"], "需要同时用 --template"),
    (["--xlsx", "r.xlsx", "--date", "10月5日"], "报送日期“10月5日”格式不对"),
    (["--xlsx", "no/such/folder/r.xlsx"], "不存在"),
    (["--xlsx", "r.xlsx", "--pdf", "r.xlsx"], "不能写到同一个文件"),
])
def test_report_usage_errors_are_chinese(capsys, demo: Database, work: Path,  # noqa: ANN001
                                         monkeypatch: pytest.MonkeyPatch, args: list[str],
                                         message: str) -> None:
    monkeypatch.chdir(work)
    code, out, err = run(capsys, "--db", str(demo.path), "report", "2025-09", *args)
    assert code == 2
    assert err.startswith("错误：") and message in err and "Traceback" not in err
    assert out == ""
    assert list(work.iterdir()) == []


def test_bad_period_and_missing_database(capsys, work: Path) -> None:  # noqa: ANN001
    code, _out, err = run(capsys, "--db", str(work / "none.sqlite"), "report", "2025-09",
                          "--xlsx", str(work / "r.xlsx"))
    assert code == 2 and "数据库文件不存在" in err
    assert not (work / "none.sqlite").exists()
    code, _out, err = run(capsys, "--db", str(work / "none.sqlite"), "report", "2025年9月",
                          "--xlsx", str(work / "r.xlsx"))
    assert code == 2 and "报表期“2025年9月”格式不对" in err


def test_a_bad_template_lists_every_problem_and_writes_nothing(capsys, demo: Database,  # noqa: ANN001
                                                               work: Path) -> None:
    template = county_template(work / "模板.xlsx", "{{act.cont}}", "{{no.such.thing}}")
    code, out, err = run(capsys, "--db", str(demo.path), "report", "2025-09",
                         "--xlsx", str(work / "r.xlsx"),
                         "--template", str(template), "--out", str(work / "填好.xlsx"))
    assert code == 2 and out == ""
    assert "2 处占位符无法填写" in err
    assert "B4：{{act.cont}}" in err and "B5：{{no.such.thing}}" in err
    assert sorted(p.name for p in work.iterdir()) == ["模板.xlsx"]


# --- submit / reopen ----------------------------------------------------------------------


def test_submit_and_reopen(capsys, demo: Database, office: OfficeInfo, work: Path) -> None:  # noqa: ANN001
    db_arg = ("--db", str(demo.path))
    bundle = work / "2025-09_金井镇.zip"
    code, out, err = run(capsys, *db_arg, "submit", "2025-09", "--out", str(bundle))
    assert code == 0, err
    assert "已上报 金井镇2025年9月，该月数据已锁定" in out and str(bundle) in out
    assert "SHA-256：" in out and "上报前已备份数据库" in out
    assert verify_bundle(bundle) == []
    with demo.session() as s:
        assert month_state(s, office, "2025-09").locked

    code, out, err = run(capsys, *db_arg, "submit", "2025-09", "--out", str(work / "b.zip"))
    assert code == 2 and "已上报" in err and out == ""
    assert not (work / "b.zip").exists()

    code, _out, err = run(capsys, *db_arg, "reopen", "2025-09")
    assert code == 2 and "缺少必填参数：--reason" in err
    code, _out, err = run(capsys, *db_arg, "reopen", "2025-09", "--reason", " ")
    assert code == 2 and "必须填写原因" in err
    code, out, err = run(capsys, *db_arg, "reopen", "2025-09", "--reason", "漏报一场讲座")
    assert code == 0, err
    assert "已重新打开 金井镇2025年9月" in out and "第1次修订" in out
    code, _out, err = run(capsys, *db_arg, "reopen", "2025-09", "--reason", "再开一次")
    assert code == 2 and "尚未上报" in err

    code, out, err = run(capsys, *db_arg, "report", "2025-09", "--xlsx", str(work / "r.xlsx"))
    assert code == 0 and "（第1次修订）" in out
    code, out, err = run(capsys, *db_arg, "submit", "2025-09", "--out", str(bundle))
    assert code == 0, err
    assert "（第1次修订）" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["submit", "2025-Q3", "--out", "b.zip"], "只能按月上报"),
    (["submit", "2025-09", "--out", "b.rar"], "应为 .zip 文件"),
    (["submit", "2025-09"], "缺少必填参数：--out"),
    (["reopen", "2025", "--reason", "原因"], "不是月份"),
    (["submit", "2099-01", "--out", "b.zip"], "还没有结束"),
])
def test_submit_errors(capsys, demo: Database, office: OfficeInfo, work: Path,  # noqa: ANN001
                       monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str) -> None:
    monkeypatch.chdir(work)
    code, out, err = run(capsys, "--db", str(demo.path), *argv)
    assert code == 2 and out == ""
    assert err.startswith("错误：") and message in err
    assert list(work.iterdir()) == []
    with demo.session() as s:
        assert not month_state(s, office, "2025-09").locked


# --- placeholders -------------------------------------------------------------------------


def test_placeholders_without_a_database(capsys, work: Path) -> None:  # noqa: ANN001
    code, out, err = run(capsys, "--db", str(work / "none.sqlite"), "placeholders")
    assert code == 0, err
    assert "{{act.count}}" in out and "{{office.name}}" in out
    assert "{{camp.全国科普日.count}}" in out and "{{train.农民.attend}}" in out
    assert not (work / "none.sqlite").exists()


def test_placeholders_include_the_offices_own_catalog_entries(capsys, db: Database) -> None:  # noqa: ANN001
    from db.catalogs import add_entry

    with db.write() as s:
        add_entry(s, "campaign", "刺桐科学传播学者巡讲")
    code, out, err = run(capsys, "--db", str(db.path), "placeholders")
    assert code == 0, err
    assert "{{camp.刺桐科学传播学者巡讲.count}}" in out and "{{act.count}}" in out

"""Benchmark of issue 4 (import), runnable with one command:

    .venv/bin/python bench/bench_import.py               # builds bench/data/roster-10000.xlsx once
    .venv/bin/python bench/bench_import.py --fresh       # rebuild the workbook first
    .venv/bin/python bench/bench_import.py --no-install  # never pip-install pandas

Prints, as medians of a few runs in this process, on fresh copies of one empty database:

1. The whole roster import of a 10 000-row .xlsx: ``read_workbook`` → ``best_sheet`` →
   ``plan_trainee_import`` (validate every row, dedupe against the file and the register)
   → ``apply_trainee_import`` (verified backup, one transaction, audit row).
2. The baseline: calamine reading the same file plus a raw ``sqlite3`` ``executemany`` of
   the same rows into the ``trainee`` table (same schema, indexes and PRAGMAs).
3. ``pandas.read_excel(engine="openpyxl")`` of the same file, reading only.

Budgets: (1) ≤ 3 × (2), and (3) ≥ 5 × (1). pandas is not a project dependency: if it
is missing the bench installs it into this virtualenv with pip (and says so), or skips
that comparison with a message when that is not possible.

With two processor cores or more, (1) reads a big sheet as two halves in two threads and
makes its backup in a thread of its own, so its CPU time (all threads of the process, in
brackets) can be more than its wall-clock time; the budgets are checked on wall-clock time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余"
GIVEN = "秀英华明国建军文平志伟丽红芳玉兰海金春荣桂林德永成晓燕慧敏静婷强磊洋勇涛超"
VILLAGES = ("金井社区", "坑口村", "塘东村", "围头村", "溜江村", "南沙岗村", "石圳村", "钞岱村")
CATEGORIES = ("农民", "村民", "老年人", "社区居民", "居民", "妇女", "产业工人", "职工", "")


def build_workbook(path: Path, rows: int, seed: int = 1) -> None:
    """A realistic roster: merged title, header on row 3, IDs as text, phones as numbers."""
    from openpyxl import Workbook

    from db.idcard import make_id_number

    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws["A1"] = "金井镇2025年农民实用技术培训学员花名册"
    ws.merge_cells("A1:I1")
    ws["A2"] = "填报单位：金井镇科协"
    ws.merge_cells("A2:I2")
    ws.append(["序号", "姓名", "性别", "身份证号码", "联系电话", "人员类别", "所在村（社区）",
               "工作单位", "备注"])
    numbers: list[str] = []
    for i in range(rows):
        if numbers and rng.random() < 0.005:  # the same person twice, now and then
            number = rng.choice(numbers)
        else:
            born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
            number = make_id_number("350582", born, rng.randrange(1000))
            numbers.append(number)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        if rng.random() < 0.05:
            name = " ".join(name)  # “王 秀 英”
        shown = number.lower() if rng.random() < 0.3 else number
        gender = "男" if int(number[16]) % 2 else "女"
        ws.append([i + 1, name, gender, shown, float(13800000000 + rng.randrange(10**8)),
                   rng.choice(CATEGORIES), rng.choice(VILLAGES), "", ""])
    ws.append(["合计", f"{rows}人"])
    ws.append(["制表人：张文书", "", "", "审核人：李主任"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def empty_database(folder: Path) -> tuple[Path, object]:
    """A fresh database with the office, made once; runs work on copies of it."""
    from db.database import open_database
    from db.offices import create_office

    path = folder / "template.sqlite"
    db = open_database(path, create=True)
    with db.write() as s:
        office = create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
    db.close()
    return path, office


def fresh_copy(template: Path, folder: Path, name: str) -> Path:
    target = folder / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, target)
    backups = folder / "backups"
    if backups.exists():
        shutil.rmtree(backups)
    return target


def run_pipeline(workbook: Path, db_path: Path) -> tuple[float, float, int]:
    """The whole import: (seconds, CPU seconds, people registered); opening the database is not
    timed."""
    from db.database import open_database
    from db.imports import (
        TRAINEE_FIELDS,
        apply_trainee_import,
        best_sheet,
        plan_trainee_import,
        read_workbook,
    )
    from db.offices import get_office

    db = open_database(db_path)
    with db.session() as s:
        office = get_office(s)
    started, cpu = time.perf_counter(), time.process_time()
    sheets = read_workbook(workbook)
    index, guess = best_sheet(sheets, TRAINEE_FIELDS)
    with db.session() as s:
        plan = plan_trainee_import(s, office, sheets[index], guess.mapping,
                                   header_index=guess.row_index)
    result = apply_trainee_import(db, office, plan)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result.written and result.backup, result
    db.close()
    return seconds, cpu, result.imported


def run_baseline(workbook: Path, db_path: Path, office_id: str) -> tuple[float, float, int]:
    """calamine read + raw sqlite3 executemany of the same rows, with the app's PRAGMAs."""
    import python_calamine

    started, cpu = time.perf_counter(), time.process_time()
    book = python_calamine.CalamineWorkbook.from_path(str(workbook))
    rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    book.close()
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    blob = os.urandom(16 * len(rows)).hex()  # the same cheap keys as the pipeline's
    data = []
    seen = set()
    for row in rows[3:]:
        if not isinstance(row[0], float):
            continue
        number = str(row[3]).upper()
        if number in seen:
            continue
        seen.add(number)
        data.append((blob[32 * len(data):32 * len(data) + 32], office_id, row[1], number, row[2],
                     None,
                     str(int(row[4])), None, row[6], "", "", now))
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("BEGIN")
    con.executemany("INSERT INTO trainee (id, office_id, name, id_number, gender, birth_date,"
                    " phone, category_id, village, employer, note, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", data)
    con.execute("COMMIT")
    con.close()
    return time.perf_counter() - started, time.process_time() - cpu, len(data)


def ensure_pandas(allow_install: bool) -> object | None:
    try:
        return importlib.import_module("pandas")
    except ImportError:
        pass
    if not allow_install:
        print("pandas 未安装（--no-install）：跳过与 pandas.read_excel 的比较。")
        return None
    print("pandas 未安装：正在用 pip 安装到本虚拟环境（仅供本基准比较使用，不是项目依赖）…",
          flush=True)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pandas"],
                          check=False)
    if done.returncode != 0:
        print("pandas 安装失败：跳过与 pandas.read_excel 的比较。")
        return None
    importlib.invalidate_caches()
    try:
        return importlib.import_module("pandas")
    except ImportError:
        print("pandas 安装后仍无法导入：跳过与 pandas.read_excel 的比较。")
        return None


def run_pandas(pandas: object, workbook: Path) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    frame = pandas.read_excel(workbook, engine="openpyxl", header=2,  # type: ignore[attr-defined]
                              dtype={"身份证号码": str})
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(frame) >= 10_000
    return seconds, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="rebuild the workbook")
    parser.add_argument("--no-install", action="store_true", help="never pip-install pandas")
    args = parser.parse_args()

    workbook = DATA / f"roster-{args.rows}.xlsx"
    if args.fresh or not workbook.exists():
        print(f"生成 {workbook.relative_to(ROOT)}（{args.rows} 行）…", flush=True)
        build_workbook(workbook, args.rows)
    pandas = ensure_pandas(not args.no_install)
    pipeline: list[tuple[float, float]] = []
    baseline: list[tuple[float, float]] = []
    pandas_times: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="kepu-bench-") as tmp:
        folder = Path(tmp)
        template, office = empty_database(folder)
        run_pipeline(workbook, fresh_copy(template, folder, "warm.sqlite"))  # warm caches
        for _ in range(args.runs):  # interleaved, so that a busy machine slows all three alike
            *timing, imported = run_pipeline(workbook, fresh_copy(template, folder, "run.sqlite"))
            pipeline.append((timing[0], timing[1]))
            *timing, written = run_baseline(workbook, fresh_copy(template, folder, "raw.sqlite"),
                                            office.id)  # type: ignore[attr-defined]
            baseline.append((timing[0], timing[1]))
            assert written == imported, (written, imported)
            if pandas is not None:
                pandas_times.append(run_pandas(pandas, workbook))

    def median(values: list[tuple[float, float]], which: int) -> float:
        return statistics.median(v[which] for v in values)

    a, b = median(pipeline, 0), median(baseline, 0)
    print(f"文件：{workbook.relative_to(ROOT)}，{args.rows} 行；"
          f"登记 {imported} 人（表内重复已去除）；每项取 {args.runs} 次的中位数"
          "（墙钟时间；括号内为本进程CPU时间，供机器繁忙时参考）")
    print(f"1. 完整导入（读取、校验、去重、备份、写入）：{a:.3f} 秒"
          f"（CPU {median(pipeline, 1):.3f}）")
    print(f"2. 基准（calamine 读取 + sqlite3 executemany）：{b:.3f} 秒"
          f"（CPU {median(baseline, 1):.3f}）")
    ok = a <= 3 * b
    print(f"   比值 1÷2 = {a / b:.2f}（要求 ≤ 3）{'通过' if ok else '未通过'}"
          f"；CPU 比值 {median(pipeline, 1) / median(baseline, 1):.2f}")
    if pandas_times:
        c = median(pandas_times, 0)
        print(f"3. pandas.read_excel(engine=\"openpyxl\") 仅读取：{c:.3f} 秒"
              f"（CPU {median(pandas_times, 1):.3f}）")
        fast = c >= 5 * a
        print(f"   比值 3÷1 = {c / a:.1f}（要求 ≥ 5）{'通过' if fast else '未通过'}"
              f"；CPU 比值 {median(pandas_times, 1) / median(pipeline, 1):.1f}")
        ok = ok and fast
    else:
        print("3. pandas.read_excel：已跳过（见上文）")
    return 0 if ok else 1

if __name__ == "__main__":
    raise SystemExit(main())

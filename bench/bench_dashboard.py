"""Benchmark of the dashboard (首页) on the large demo, runnable with one command:

    .venv/bin/python bench/bench_dashboard.py [--runs 7]

Uses bench/data/large-2025.sqlite (created with ``kepu demo --scale large`` when
missing) through a private copy, since the refresh benchmark saves activities.
The page works as if today were 2025-09-20 (the demo is of 2025).

Prints medians of:
1. Opening: from creating the DashboardPage (shown offscreen, 1366×768) to its first
   paint, and to its first complete paint with figures (budget 1 s).
2. Refresh: from ``data_changed()`` after saving one activity to the repaint showing
   the new numbers (budget 300 ms).
3. For reference, the two computations behind it: compute_figures (this month)
   and todo_list.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer  # noqa: E402
import shiboken6  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from db.activities import ActivityInput, create_activity  # noqa: E402
from db.catalogs import find_entry  # noqa: E402
from db.database import Database, open_database  # noqa: E402
from db.indicators import compute_figures  # noqa: E402
from db.offices import OfficeInfo, get_office  # noqa: E402
from db.periods import Period  # noqa: E402
from db.todo import todo_list  # noqa: E402
from desktop.app import create_application  # noqa: E402
from desktop.dashboard_page import DashboardPage  # noqa: E402

DATA = ROOT / "bench" / "data"
DB = DATA / "large-2025.sqlite"
TODAY = dt.date(2025, 9, 20)
OPEN_BUDGET = 1.0
REFRESH_BUDGET = 0.3
TIMEOUT_MS = 30_000


def ensure_large_demo() -> None:
    if DB.exists():
        return
    DATA.mkdir(parents=True, exist_ok=True)
    print(f"正在生成 {DB}（大规模演示数据）…", flush=True)
    subprocess.run([sys.executable, "-m", "desktop.cli", "--db", str(DB), "demo", "--year",
                    "2025", "--scale", "large"], cwd=ROOT, check=True)


def private_copy(folder: Path) -> Path:
    """A consistent copy of the large demo (the SQLite backup API, WAL included)."""
    dest = folder / "large-2025.sqlite"
    with sqlite3.connect(DB) as src, sqlite3.connect(dest) as dst:
        src.backup(dst)
    return dest


class PaintProbe(QObject):
    """Records when a widget is first painted in a given state (``ready()`` true)."""

    def __init__(self, widget: QWidget, ready: Callable[[], bool]) -> None:
        super().__init__(widget)
        self.widget = widget
        self.ready = ready
        self.painted_at: float | None = None
        self.loop: QEventLoop | None = None
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.painted_at is None and event.type() == QEvent.Type.Paint and self.ready():
            self.painted_at = time.perf_counter()
            watched.removeEventFilter(self)
            if self.loop is not None:
                QTimer.singleShot(0, self.loop.quit)  # after this paint is done
        return False

    def wait(self) -> float:
        if self.painted_at is None:
            self.loop = QEventLoop()
            QTimer.singleShot(TIMEOUT_MS, self.loop.quit)
            self.loop.exec()
            self.loop = None
        if self.painted_at is None:
            raise RuntimeError("no paint within the timeout")
        return self.painted_at


def wait_idle(page: DashboardPage) -> None:
    deadline = time.perf_counter() + TIMEOUT_MS / 1000
    while page.is_loading() and time.perf_counter() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)


def wait_signal(signal: object) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)  # type: ignore[attr-defined]


def bench_open(db: Database, office: OfficeInfo) -> tuple[float, float]:
    """(first paint, first complete paint with figures) in seconds."""
    t0 = time.perf_counter()
    page = DashboardPage(db, office, today=TODAY)
    page.resize(1366, 768)
    first = PaintProbe(page.cards["act.count"], lambda: True)
    # complete: the last widget filled (the month chart) painted with the figures
    done = PaintProbe(page.monthly_chart, lambda: bool(page.monthly_chart.data))
    page.show()
    t_first = first.wait() - t0
    t_done = done.wait() - t0
    assert page.data is not None and page.cards["act.count"].value_button.text() != "…"
    page.close()
    shiboken6.delete(page)
    return t_first, t_done


def bench_refresh(db: Database, office: OfficeInfo, page: DashboardPage, form_id: str,
                  n: int) -> float:
    """Save one activity, then time data_changed() → repaint with the new 次数."""
    before = page.cards["act.count"].value_button.text()
    create_activity(db, office, ActivityInput(
        title=f"基准测试活动 {n}", start_date=TODAY, end_date=TODAY, form_id=form_id,
        attend=10))
    expected = f"{int(before.replace(',', '')) + 1:,}"
    button = page.cards["act.count"].value_button
    probe = PaintProbe(button, lambda: button.text() == expected)
    t0 = time.perf_counter()
    page.data_changed()
    t1 = probe.wait()
    wait_idle(page)  # let the run finish before the next one
    return t1 - t0


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.0f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ensure_large_demo()
    app = create_application(["bench"])
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(private_copy(Path(tmp)))
        with db.session() as s:
            office = get_office(s)
            form = find_entry(s, "form", "讲座")
        assert form is not None

        compute, todo = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            with db.session() as s:
                compute_figures(s, office, Period.month_of(TODAY))
            compute.append(time.perf_counter() - t)
            t = time.perf_counter()
            with db.session() as s:
                todo_list(s, office, TODAY)
            todo.append(time.perf_counter() - t)

        firsts, opens = [], []
        for _ in range(args.runs):
            t_first, t_done = bench_open(db, office)
            firsts.append(t_first)
            opens.append(t_done)
            app.processEvents()

        page = DashboardPage(db, office, today=TODAY)
        page.resize(1366, 768)
        page.show()
        wait_idle(page)
        refreshes = [bench_refresh(db, office, page, form.id, n) for n in range(args.runs)]
        page.close()
        shiboken6.delete(page)
        db.close()

    print(f"大规模演示数据（{DB.name}），今天按 {TODAY} 计，{args.runs} 次的中位数：")
    print(f"  compute_figures（本月，含本年累计与各月）   {median_ms(compute)}")
    print(f"  todo_list                                   {median_ms(todo)}")
    print(f"  打开首页 → 首次绘制（数字未出）             {median_ms(firsts)}")
    open_median = statistics.median(opens)
    print(f"  打开首页 → 数字完整绘制                     {median_ms(opens)}"
          f"   预算 {OPEN_BUDGET * 1000:.0f} ms，比值 {open_median / OPEN_BUDGET:.2f}"
          f"（首次冷启动 {opens[0] * 1000:.0f} ms）")
    refresh_median = statistics.median(refreshes)
    print(f"  保存一项活动后 data_changed → 新数字绘制     {median_ms(refreshes)}"
          f"   预算 {REFRESH_BUDGET * 1000:.0f} ms，比值 {refresh_median / REFRESH_BUDGET:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

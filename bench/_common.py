"""What the benchmarks that start the real program share (bench_ledger.py, bench_backup.py).

Importing this module puts the repository on ``sys.path``. It builds the large
demo database once, and starts ``python -m desktop.cli --db …`` as a clerk would
(offscreen, a fresh HOME whose settings reopen 活动台账) to time the moment the
ledger page first paints rows (``KEPU_BENCH_PAINTED``, see desktop/ledger_page.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
LARGE_DB = DATA / "large-2025.sqlite"
KEPU = [sys.executable, "-m", "desktop.cli"]
MARK = "KEPU_BENCH_PAINTED"
PAGE_TITLE = "活动台账"

# Run while the main window has no ledger page yet: add it, as the main window
# will, then run the real CLI.
LAUNCHER = """
import sys
import desktop.main_window as mw
from desktop.ledger_page import LedgerPage

if not any(title == "活动台账" for title, _factory in mw.PAGES):
    mw.PAGES.append(("活动台账", lambda db, office: LedgerPage(db, office)))
from desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""


def ratio(value: float, budget: float) -> str:
    return f"{value / budget:.2f}× budget"


def ensure_large_demo() -> None:
    """Build :data:`LARGE_DB` (``kepu demo --year 2025 --scale large``) if it is missing."""
    DATA.mkdir(parents=True, exist_ok=True)
    if LARGE_DB.exists():
        return
    print(f"creating {LARGE_DB} (kepu demo --year 2025 --scale large) …", flush=True)
    subprocess.run([*KEPU, "--db", str(LARGE_DB), "demo", "--year", "2025", "--scale", "large"],
                   cwd=ROOT, check=True, stderr=subprocess.DEVNULL)


def child_home(home: Path) -> None:
    """Settings of a clerk who last worked on the ledger (the main window reopens it)."""
    folder = home / ".config" / "kepu"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kepu.conf").write_text(f"[main_window]\npage={PAGE_TITLE}\n", encoding="utf-8")


def child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", KEPU_BENCH_PAINTED="1", HOME=str(home),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local"),
               PYTHONPATH=str(ROOT))
    env.pop("KEPU_DB", None)
    return env


def start_once(cmd: list[str], home: Path, timeout: float) -> tuple[float | None, float]:
    """(process start → ledger painted, whole process wall time); None: it never painted."""
    child_home(home)  # every run starts from the same settings
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=child_env(home), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0
    wall = time.perf_counter() - t0
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            return float(line.split()[1]), wall
    return None, wall


def ledger_command(db: Path, home: Path, *, first_timeout: float,
                   timeout: float) -> tuple[list[str], bool] | None:
    """The command whose process paints the ledger of ``db``, found by running it once.

    Tries ``python -m desktop.cli --db …`` (which also warms the file cache), then
    the same with the ledger page added by :data:`LAUNCHER`.

    Returns:
        (the command, whether the ledger page had to be added), or None when
        neither reported painting.

    """
    plain = [*KEPU, "--db", str(db)]
    if start_once(plain, home, first_timeout)[0] is not None:
        return plain, False
    patched = [sys.executable, "-c", LAUNCHER, "--db", str(db)]
    if start_once(patched, home, timeout)[0] is not None:
        return patched, True
    return None

"""The self-test, in this Python and in the PyInstaller bundle built from build.spec.

``kepu --selftest`` (desktop/selftest.py) creates a database at the first
schema, upgrades it, writes demo data, computes figures, exports the Excel
return and the PDF summary, builds the main window offscreen and renders the
PDF with pypdfium2. Run inside the built one-folder bundle with a bare
environment (no virtualenv on PATH/PYTHONPATH, no display), it proves that
everything the program needs at run time was packaged.

Building takes about half a minute on a 2-core machine; the self-test about
two seconds.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
APP = "kepu"
EXE = f"{APP}.exe" if sys.platform == "win32" else APP
BUILD_TIMEOUT_S = 360
RUN_TIMEOUT_S = 120
MAX_SIZE_MB = 200  # the aim is 150 MB; the CJK fonts alone are 45 MB, Qt + ICU about 80 MB


def test_selftest_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert main(["--selftest"]) == 0
    finally:  # main() sets up the log file of "this process": not ours to keep
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
    out, err = capsys.readouterr()
    assert "自检失败" not in err
    lines = out.splitlines()
    assert lines[-1].startswith("自检通过")
    assert all(line.startswith("自检") for line in lines)
    for step in ("升级数据库", "写入演示数据", "计算指标", "导出 Excel 月报表", "导出 PDF 汇总",
                 "图形界面", "PDF 预览"):
        assert any(line.startswith(f"自检：{step}") and line.endswith(" 秒") for line in lines), (
            step, out)


# ----------------------------------------------------------------------------- the bundle


def _bare_env(home: Path, tmp: Path) -> dict[str, str]:
    """``env -i`` with a home, UTF-8 and headless Qt: nothing of this venv or Python."""
    env = {"HOME": str(home), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
           "TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)}
    if sys.platform == "win32":  # Windows cannot start a process without these
        for name in ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR"):
            if name in os.environ:
                env[name] = os.environ[name]
        env["LOCALAPPDATA"] = str(home / "AppData" / "Local")
    return env


def _size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (symlinks counted as links, not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_symlink() or p.is_file())


def _biggest_parts(internal: Path, count: int = 12) -> list[tuple[int, str]]:
    parts = [(_size(p) if p.is_dir() and not p.is_symlink() else p.lstat().st_size, p.name)
             for p in internal.iterdir()]
    for sub in ("PySide6/Qt/lib", "resources/fonts"):  # the two biggest folders, itemised
        folder = internal / sub
        if folder.is_dir():
            parts += [(p.lstat().st_size, f"{sub}/{p.name}") for p in folder.iterdir()]
    return sorted(parts, reverse=True)[:count]


def _report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """Print to the terminal even when the test passes (CI logs keep the numbers)."""
    with capsys.disabled():
        print(text)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """Build the one-folder bundle with build.spec; returns (the app folder, seconds)."""
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed in this Python "
                    "(pip install -e '.[test]' installs it)")
    work = tmp_path_factory.mktemp("pyinstaller")
    log = work / "build.log"
    started = time.perf_counter()
    with open(log, "wb") as out:
        result = subprocess.run(
            [sys.executable, "-m", "PyInstaller", str(ROOT / "build.spec"), "--noconfirm",
             "--distpath", str(work / "dist"), "--workpath", str(work / "build")],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S,
            check=False,
        )
    seconds = time.perf_counter() - started
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:])
    assert result.returncode == 0, f"PyInstaller failed ({result.returncode}):\n{tail}"
    app = work / "dist" / APP
    assert (app / EXE).is_file(), f"no {EXE} in {app}:\n{tail}"
    return app, seconds


def _run(app: Path, *args: str, home: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(app / EXE), *args], cwd=home, env=_bare_env(home, tmp), capture_output=True,
        encoding="utf-8", errors="replace", timeout=RUN_TIMEOUT_S, check=False,
    )


def _log_text(home: Path) -> str:
    logs = sorted(home.rglob("kepu.log"))
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)


def test_built_bundle_runs_selftest(bundle: tuple[Path, float], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    app, build_seconds = bundle
    home = tmp_path / "home"
    tmp = tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()

    started = time.perf_counter()
    run = _run(app, "--selftest", home=home, tmp=tmp)
    run_seconds = time.perf_counter() - started
    details = f"exit {run.returncode}\n{run.stdout}\n{run.stderr}\n{_log_text(home)}"
    assert run.returncode == 0, details
    assert "自检通过" in run.stdout, details
    assert "打包版" in run.stdout, details  # sys.frozen: really the bundle, not this Python
    assert "自检失败" not in run.stderr, details
    assert "跳过" not in run.stdout, details  # every step applies in the bundle
    assert list(tmp.iterdir()) == [], "the self-test left files in the temporary folder"

    size = _size(app)
    du = shutil.which("du")
    du_text = (subprocess.run([du, "-sh", str(app)], capture_output=True, text=True,
                              check=False).stdout.split("\t")[0] if du else "")
    parts = "\n".join(f"  {n / 1_048_576:7.1f} MB  {name}"
                      for n, name in _biggest_parts(app / "_internal"))
    _report(capsys, (
        f"\n[bundle] {app} built in {build_seconds:.0f} s; `{EXE} --selftest` "
        f"ran in {run_seconds:.1f} s\n"
        f"[bundle] size {size / 1_048_576:.1f} MB (du -sh: {du_text or 'n/a'}), "
        f"aim 150 MB, limit {MAX_SIZE_MB} MB; biggest parts:\n{parts}\n"
        f"[bundle] self-test output:\n{run.stdout}"
    ))
    assert size < MAX_SIZE_MB * 1_048_576, f"bundle is {size / 1_048_576:.1f} MB:\n{parts}"


def test_built_bundle_version(bundle: tuple[Path, float], tmp_path: Path) -> None:
    from desktop.version import version_text

    app, _seconds = bundle
    run = _run(app, "--version", home=tmp_path, tmp=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == version_text()  # the installed version, the head schema

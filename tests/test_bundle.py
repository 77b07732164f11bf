"""The self-test, in this Python and in the PyInstaller bundle built from build.spec.

``kepu --selftest`` (desktop/selftest.py) creates a database at the first
schema, upgrades it, writes demo data, computes figures, exports the Excel
return and the PDF summary, builds the main window offscreen and renders the
PDF with pypdfium2. Run inside the built one-folder bundle with a bare
environment (no virtualenv on PATH/PYTHONPATH, no display), it proves that
everything the program needs at run time was packaged.

Building takes about half a minute on a 2-core machine; the self-test about
two seconds. The other tests check what the self-test cannot see from inside:
the size, the fonts the PDF fallback needs, and (Linux) that the ICU data
build.spec trims still answers what Qt asks ICU for.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
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
# MiB, as `du -sh` counts. Linux, PySide6 6.11: about 140 - Qt libraries 42 (of
# which ICU 14 after build.spec trims its data), PySide6/shiboken bindings 16,
# Python + modules 20, fonts 21 (HanaMinB.ttf.xz 12), system libraries 22
# (X11, CUPS/GnuTLS, D-Bus, glib...), pdfium 7, Pillow 7.
MAX_SIZE_MB = 150


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
        f"limit {MAX_SIZE_MB} MB; biggest parts:\n{parts}\n"
        f"[bundle] self-test output:\n{run.stdout}"
    ))
    assert size < MAX_SIZE_MB * 1_048_576, f"bundle is {size / 1_048_576:.1f} MB:\n{parts}"


def test_built_bundle_version(bundle: tuple[Path, float], tmp_path: Path) -> None:
    from desktop.version import version_text

    app, _seconds = bundle
    run = _run(app, "--version", home=tmp_path, tmp=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == version_text()  # the installed version, the head schema


def test_built_bundle_has_the_pdf_fonts(bundle: tuple[Path, float]) -> None:
    """The fonts (and their licences) are in the bundle as in the source tree, and
    the compressed fallback faces load from there with the rare characters.

    The self-test's PDF step loads the two text faces in the bundle (the 宋体 one
    from gbsn00lp.ttf.xz, so lzma works there) but not the fallbacks, which are
    only loaded for characters such as 𡉃.
    """
    from reportlab.pdfbase import ttfonts

    import resources
    from reports import pdf_fonts

    app, _seconds = bundle
    fonts = app / "_internal" / "resources" / "fonts"
    source = resources.path("fonts")
    assert sorted(p.name for p in fonts.iterdir()) == sorted(p.name for p in source.iterdir())
    for file in source.iterdir():
        assert (fonts / file.name).read_bytes() == file.read_bytes(), file.name
    assert any(p.name.endswith("COPYRIGHT.txt") for p in fonts.iterdir())

    for face, char in ((pdf_fonts.EXT_B, "𡉃"), (pdf_fonts.EXT_A, "䶮"), (pdf_fonts.SONG, "宋"),
                       (pdf_fonts.SANS, "科")):
        file, index = pdf_fonts.FONT_FILES[face]
        bundled = fonts / file.name
        font = ttfonts.TTFont(f"Bundled{face}", pdf_fonts.font_source(bundled),
                              subfontIndex=index)
        assert ord(char) in font.face.charToGlyph, (face, char)


# A probe of the ICU functions Qt imports (build.spec: ICU_QT_API), run with the
# ICU libraries of one folder: collation keys, time-zone names, converters, case
# mapping. Prints JSON.
ICU_PROBE = r"""
import ctypes, json, sys
from pathlib import Path

folder, version = Path(sys.argv[1]), sys.argv[2]
libs = {stem: ctypes.CDLL(str(folder / f"lib{stem}.so.{version}"), mode=ctypes.RTLD_GLOBAL)
        for stem in ("icudata", "icuuc", "icui18n")}  # in link order: found by soname


def fn(lib, name, restype, *argtypes):
    f = getattr(libs[lib], f"{name}_{version}")
    f.restype, f.argtypes = restype, list(argtypes)
    return f


P, I32, STR = ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p
ERR = ctypes.POINTER(ctypes.c_int)


def call(f, *args):
    err = ctypes.c_int(0)
    result = f(*args, ctypes.byref(err))
    return result, err.value


def ustr(text):
    data = text.encode("utf-16-le")
    return ctypes.create_string_buffer(data, len(data) + 2), len(data) // 2


out = {}
ucol_open = fn("icui18n", "ucol_open", P, STR, ERR)
sort_key = fn("icui18n", "ucol_getSortKey", I32, P, STR, I32, STR, I32)
ucol_close = fn("icui18n", "ucol_close", None, P)
words = ["张三", "李四", "王五", "欧阳娜娜", "𡉃", "䶮", "阿", "Zebra", "apple", "Äpfel",
         "file10", "file9", "ñu", "ひらがな", "한국", "ё"]
for loc in ("zh_CN", "zh_TW", "en_US", "root", "de_DE"):
    coll, status = call(ucol_open, loc.encode())
    keys = {}
    for w in words:
        buf, n = ustr(w)
        res = ctypes.create_string_buffer(1024)
        keys[w] = res.raw[:sort_key(coll, buf, n, res, 1024)].hex()
    ucol_close(coll)
    out[f"collation {loc}"] = [status > 0, sorted(words, key=keys.get), keys]

ucal_open = fn("icui18n", "ucal_open", P, STR, I32, STR, ctypes.c_int, ERR)
zone_name = fn("icui18n", "ucal_getTimeZoneDisplayName", I32, P, ctypes.c_int, STR, STR, I32,
               ERR)
canonical = fn("icui18n", "ucal_getCanonicalTimeZoneID", I32, STR, I32, STR, I32,
               ctypes.POINTER(ctypes.c_int8), ERR)
ucal_close = fn("icui18n", "ucal_close", None, P)
for zone in ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "PRC", "America/New_York",
             "Europe/Berlin", "UTC"):
    zbuf, zn = ustr(zone)
    res = ctypes.create_string_buffer(512)
    system = ctypes.c_int8(0)
    length, status = call(canonical, zbuf, zn, res, 256, ctypes.byref(system))
    out[f"canonical {zone}"] = [status, res.raw[:2 * length].decode("utf-16-le"), system.value]
    for loc in ("zh_CN", "en_US", "de_DE"):
        cal, status = call(ucal_open, zbuf, zn, loc.encode(), 0)
        names = []
        for kind in range(4):  # UCAL_STANDARD, UCAL_SHORT_STANDARD, UCAL_DST, UCAL_SHORT_DST
            length, st = call(zone_name, cal, kind, loc.encode(), res, 256)
            names.append([st, res.raw[:2 * length].decode("utf-16-le")])
        ucal_close(cal)
        out[f"zone {zone} {loc}"] = [status, names]

count = fn("icuuc", "ucnv_countAvailable", I32)
available = fn("icuuc", "ucnv_getAvailableName", STR, I32)
ucnv_open = fn("icuuc", "ucnv_open", P, STR, ERR)
from_unicode = fn("icuuc", "ucnv_fromUChars", I32, P, STR, I32, STR, I32, ERR)
ucnv_close = fn("icuuc", "ucnv_close", None, P)
out["converters"] = [available(i).decode() for i in range(count())]
for name in ("GB18030", "GBK", "GB2312", "Big5", "Big5-HKSCS", "Shift_JIS", "EUC-KR",
             "windows-1252", "ISO-8859-1", "IBM037"):
    cnv, status = call(ucnv_open, name.encode())
    buf, n = ustr("科普台账 𡉃䶮 Äé")
    res = ctypes.create_string_buffer(256)
    length, st = call(from_unicode, cnv, res, 256, buf, n)
    ucnv_close(cnv)
    out[f"converter {name}"] = [status, st, res.raw[:length].hex()]

upper = fn("icuuc", "u_strToUpper", I32, STR, I32, STR, I32, STR, ERR)
for loc in ("tr", "en", "zh_CN"):
    buf, n = ustr("istanbul ß ǆ")
    res = ctypes.create_string_buffer(256)
    length, st = call(upper, res, 128, buf, n, loc.encode())
    out[f"upper {loc}"] = [st, res.raw[:2 * length].decode("utf-16-le")]
print(json.dumps(out, ensure_ascii=False, sort_keys=True))
"""


def _icu_probe(folder: Path, version: str, tmp: Path) -> dict[str, object]:
    env = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC", "HOME": str(tmp),
           "PATH": os.environ.get("PATH", "")}
    run = subprocess.run([sys.executable, "-c", ICU_PROBE, str(folder), version], env=env,
                         capture_output=True, encoding="utf-8", timeout=RUN_TIMEOUT_S,
                         check=False)
    assert run.returncode == 0, f"ICU probe of {folder} failed:\n{run.stderr}"
    return json.loads(run.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt bundles ICU on Linux only")
def test_built_bundle_icu_data_serves_qt(bundle: tuple[Path, float], tmp_path: Path) -> None:
    """build.spec rebuilds libicudata without what Qt never asks ICU for and with
    only the root, Chinese and English locale data: for those locales collation,
    time-zone names, converters and case mapping answer exactly as with the
    wheel's full data; other locales fall back instead of failing.
    """
    app, _seconds = bundle
    spec = importlib.util.find_spec("PySide6")
    assert spec is not None and spec.submodule_search_locations
    wheel = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "lib"
    full = next(wheel.glob("libicudata.so.*"), None)
    if full is None:
        pytest.skip("this PySide6 has no bundled ICU")
    version = re.fullmatch(r"libicudata\.so\.(\d+)", full.name)
    assert version, full.name
    trimmed = app / "_internal" / "PySide6" / "Qt" / "lib" / full.name
    assert trimmed.is_file()
    assert trimmed.stat().st_size < full.stat().st_size / 2, (
        "ICU data not trimmed: see \"[build.spec] WARNING: ICU data\" in the build log")

    expected = _icu_probe(wheel, version.group(1), tmp_path)
    got = _icu_probe(trimmed.parent, version.group(1), tmp_path)
    assert got.keys() == expected.keys()
    for key in expected:
        if "de_DE" in key:  # a locale whose data is dropped: root's answers, no failure
            if key.startswith("zone"):
                status, names = got[key]
                assert status <= 0, (key, got[key])  # no ICU error, maybe a fallback warning
                assert all(st <= 0 and name for st, name in names), (key, got[key])
            else:
                assert got[key][1] == expected[key][1], key  # same order for these words
            continue
        assert got[key] == expected[key], key
    assert "gb18030" in {name.lower() for name in got["converters"]}

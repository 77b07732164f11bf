"""Benchmarks of the PDF outputs, runnable with one command:

    .venv/bin/python bench/bench_pdf.py            # builds bench/data/large-2025.sqlite once
    .venv/bin/python bench/bench_pdf.py --runs 5 --photos 200

Prints medians of several runs in one process (fonts registered once, as in the app):
(a) the summary PDF sized to about 50 pages of activity list (budget 2 s);
(b) the summary PDF of 2025-09 on the large demo (2 420 activities), and its share
    of the 2 s budget of the month return (.xlsx + .pdf; the .xlsx is timed too when
    reports.excel is there);
(c) the 佐证材料汇编 of a month with ``--photos`` photos (2400×1800 JPEGs made up of
    gradients, shapes and noise, imported through db.attachments): seconds and MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "bench" / "data"
DB = DATA / "large-2025.sqlite"
KEPU = [sys.executable, "-m", "desktop.cli"]

from PIL import Image, ImageChops, ImageDraw, ImageFilter  # noqa: E402

from db.attachments import add_attachments  # noqa: E402
from db.database import open_database  # noqa: E402
from db.demo import generate_demo  # noqa: E402
from db.offices import create_office, get_office  # noqa: E402
from db.periods import Period  # noqa: E402
from reports.pdf_evidence import write_evidence_pdf  # noqa: E402
from reports.pdf_summary import write_summary_pdf  # noqa: E402
from reports.report_data import ReportData, build_report_data  # noqa: E402


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# ------------------------------------------------------------------ photos


def base_photo(seed: int, size: tuple[int, int] = (2400, 1800)) -> Image.Image:
    """A photo-like picture: gradients, large and small shapes, noise at several scales
    (detail that survives downscaling, as in a real photo of people and banners)."""
    rng = random.Random(seed)
    w, h = size
    g1 = Image.linear_gradient("L").resize(size)
    g2 = Image.linear_gradient("L").rotate(90).resize(size)
    img = Image.merge("RGB", [Image.blend(g1, g2, rng.uniform(0.2, 0.8)) for _ in range(3)])
    d = ImageDraw.Draw(img)
    for _ in range(40):
        x, y, r = rng.randrange(w), rng.randrange(h), rng.randrange(20, 400)
        shape = d.ellipse if rng.random() < 0.5 else d.rectangle
        shape([x - r, y - r // 2, x + r, y + r], fill=tuple(rng.randrange(256) for _ in "rgb"))
    for _ in range(1500):
        x, y = rng.randrange(w), rng.randrange(h)
        d.rectangle([x, y, x + rng.randrange(3, 25), y + rng.randrange(3, 25)],
                    fill=tuple(rng.randrange(256) for _ in "rgb"))
    img = img.filter(ImageFilter.GaussianBlur(2))
    for scale, sigma in ((4, 14), (16, 10)):
        small = (w // scale, h // scale)
        noise = Image.merge("RGB", [Image.effect_noise(small, sigma) for _ in range(3)])
        img = ImageChops.add(img, noise.resize(size, Image.Resampling.BICUBIC), 1.0, -128)
    return img


def make_photos(folder: Path, count: int, bases: int = 8) -> list[Path]:
    """``count`` distinct 2400×1800 JPEGs (quality 85, 1.5–2 MB each, like a phone's)."""
    folder.mkdir(parents=True, exist_ok=True)
    pics = [base_photo(s) for s in range(bases)]
    out = []
    for i in range(count):
        rng = random.Random(1000 + i)
        img = ImageChops.offset(pics[i % bases], rng.randrange(2400), rng.randrange(1800))
        grain = Image.merge("RGB", [Image.effect_noise(img.size, 18) for _ in range(3)])
        img = ImageChops.add(img, grain, 1.0, -128)  # fine grain: every file differs
        path = folder / f"IMG_{20250900 + i}.jpg"
        img.save(path, "JPEG", quality=85)
        out.append(path)
    return out


# ------------------------------------------------------------------ benches


def large_data() -> ReportData:
    if not DB.exists():
        print(f"creating {DB} (kepu demo --scale large) …")
        DB.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*KEPU, "--db", str(DB), "demo", "--year", "2025", "--scale", "large"],
                       cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    db = open_database(DB)
    try:
        with db.session() as s:
            office = get_office(s)
        t0 = time.perf_counter()
        data = build_report_data(db, office, Period.parse("2025-09"))
        print(f"build_report_data 2025-09: {time.perf_counter() - t0:.2f} s "
              f"({len(data.activities)} activities) — not part of the PDF figures below")
        return data
    finally:
        db.close()


def bench_fifty_pages(data: ReportData, out: Path, runs: int) -> None:
    full = write_summary_pdf(data, out).pages
    n = round(len(data.activities) * 50 / full)
    for _ in range(4):  # settle on the number of activities that gives 50 pages
        part = dataclasses.replace(data, activities=data.activities[:n])
        pages = write_summary_pdf(part, out).pages
        if pages == 50:
            break
        n = max(1, n + round((50 - pages) * len(data.activities) / full))
    seconds, result = median_time(lambda: write_summary_pdf(part, out), runs)
    print(f"(a) summary with {n} activities: {result.pages} pages in {seconds:.2f} s "
          f"(budget 2 s, ratio {seconds / 2:.2f}; {seconds / result.pages * 1000:.0f} ms/page)")


def bench_month(data: ReportData, out: Path, runs: int) -> None:
    t0 = time.perf_counter()
    write_summary_pdf(data, out)  # the first PDF of the process: fonts load, caches fill
    first = time.perf_counter() - t0
    seconds, result = median_time(lambda: write_summary_pdf(data, out), runs)
    print(f"(b) summary 2025-09 ({len(data.activities)} activities): {result.pages} pages, "
          f"{result.size_bytes / 1e6:.2f} MB in {seconds:.2f} s "
          f"(first in the process, with font loading: {first:.2f} s)")
    try:
        from reports.excel import write_return
    except ImportError:
        print(f"    PDF share of the 2 s month-return budget: {seconds / 2:.0%} "
              f"(leaves {2 - seconds:.2f} s for the .xlsx)")
        return
    xlsx = out.with_suffix(".xlsx")
    xlsx_s, _ = median_time(lambda: write_return(data, xlsx), runs)
    total = xlsx_s + seconds
    print(f"    .xlsx {xlsx_s:.2f} s + .pdf {seconds:.2f} s = {total:.2f} s "
          f"(budget 2 s, ratio {total / 2:.2f}; PDF share {seconds / total:.0%})")


def bench_evidence(folder: Path, photos: int, runs: int) -> None:
    t0 = time.perf_counter()
    files = make_photos(folder / "photos", photos) if photos else []
    db = open_database(folder / "kepu.sqlite", create=True)
    try:
        with db.write() as s:
            create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
        with db.session() as s:
            office = get_office(s)
        generate_demo(db, office, year=2025, scale="small")
        period = Period.parse("2025-09")
        acts = build_report_data(db, office, period).activities
        per = -(-len(files) // len(acts))
        for i, a in enumerate(acts):
            chunk = files[i * per:(i + 1) * per]
            if chunk:
                add_attachments(db, activity_id=a.id, files=chunk,
                                captions=[f"{a.title}现场照片{k + 1}" for k in range(len(chunk))])
        data = build_report_data(db, office, period)
        source_mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"    (setup: {photos} photos, {source_mb:.0f} MB of JPEG, imported into "
              f"{len(acts)} activities in {time.perf_counter() - t0:.0f} s)")
        out = folder / "evidence.pdf"
        seconds, result = median_time(lambda: write_evidence_pdf(db, data, out), runs)
    finally:
        db.close()
    print(f"(c) 佐证材料汇编 with {photos} photos: {result.pages} pages, "
          f"{result.size_bytes / 1e6:.1f} MB in {seconds:.2f} s "
          f"({result.size_bytes / max(photos, 1) / 1e3:.0f} kB per photo)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    ap.add_argument("--photos", type=int, default=200)
    args = ap.parse_args()
    data = large_data()
    with tempfile.TemporaryDirectory(prefix="kepu-bench-pdf-") as tmp:
        folder = Path(tmp)
        bench_month(data, folder / "month.pdf", args.runs)
        bench_fifty_pages(data, folder / "fifty.pdf", args.runs)
        bench_evidence(folder, args.photos, max(args.runs // 2, 1) + 1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The PDF summary and the 佐证材料汇编, read back with pypdf."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from db.attachments import absolute_path, add_attachments, list_attachments
from db.catalogs import find_entry
from db.database import Database
from db.demo import generate_demo
from db.errors import KepuError
from db.models import Activity
from db.offices import OfficeInfo
from db.periods import Period
from reports import pdf_summary
from reports.figures import format_value
from reports.pdf_evidence import write_evidence_pdf
from reports.pdf_fonts import EXT_A, EXT_B, SANS, SONG, MissingChars, split_runs, wrap_lines
from reports.pdf_summary import write_summary_pdf
from reports.report_data import ReportData, build_report_data

SEPT = Period.parse("2025-09")
A4 = (595.2756, 841.8898)
RARE_TITLE = "王𡉃与李䶮的科普讲座"  # 𡉃 U+21243 (Ext B), 䶮 U+4DAE (Ext A)
NO_FONT = "\ue000"  # private use: no bundled face has it
EXT_I = "\U0002ebf0"  # CJK Ext I (Unicode 15.1): newer than every bundled face


# ---------------------------------------------------------------- helpers


@pytest.fixture
def demo(db: Database, office: OfficeInfo) -> ReportData:
    generate_demo(db, office, year=2025, scale="small")
    return build_report_data(db, office, SEPT, reporter="张喆", reviewer="李堃",
                             phone="0595-85671234", report_date=dt.date(2025, 10, 8))


def texts(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def fonts(path: Path) -> list[dict[str, object]]:
    """Every font dictionary used by any page."""
    out = []
    for page in PdfReader(path).pages:
        for ref in page["/Resources"]["/Font"].values():
            out.append(ref.get_object())
    return out


def with_title(data: ReportData, index: int, title: str) -> ReportData:
    acts = list(data.activities)
    acts[index] = dataclasses.replace(acts[index], title=title)
    return dataclasses.replace(data, activities=tuple(acts))


def photo(path: Path, seed: int, size: tuple[int, int] = (1600, 1200)) -> Path:
    """A photo-like JPEG: gradients, shapes and noise (flat colour would compress away)."""
    img = Image.merge("RGB", [Image.linear_gradient("L").resize(size).rotate(90 * (seed + i))
                              for i in range(3)])
    draw = ImageDraw.Draw(img)
    for i in range(12):
        x, y = (seed * 97 + i * 131) % size[0], (seed * 53 + i * 71) % size[1]
        draw.ellipse([x, y, x + 300, y + 200], fill=((i * 40) % 256, (seed * 60) % 256, 120))
    noise = Image.merge("RGB", [Image.effect_noise(size, 30) for _ in range(3)])
    Image.blend(img, noise, 0.25).save(path, "JPEG", quality=85)
    return path


def add_activity(db: Database, office: OfficeInfo, title: str, day: int) -> str:
    with db.write() as s:
        form = find_entry(s, "form", "讲座")
        assert form is not None
        activity = Activity(office_id=office.id, title=title, start_date=dt.date(2025, 9, day),
                            end_date=dt.date(2025, 9, day), form_id=form.id, attend=60,
                            description="9月，镇科协在文化活动中心开展科普讲座，群众踊跃参与。")
        s.add(activity)
        s.flush()
        return activity.id


def page_of(pages: list[str], needle: str) -> int:
    hits = [i for i, t in enumerate(pages) if needle in t]
    assert hits, f"{needle!r} not in the PDF"
    return hits[0]


def images_per_page(path: Path) -> list[list[dict[str, object]]]:
    out = []
    for page in PdfReader(path).pages:
        xobjects = page["/Resources"].get("/XObject", {})
        found = []
        for ref in xobjects.values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                found.append(obj)
            elif obj.get("/Subtype") == "/Form":  # reportlab wraps images in forms
                for inner in obj.get("/Resources", {}).get("/XObject", {}).values():
                    if inner.get_object().get("/Subtype") == "/Image":
                        found.append(inner.get_object())
        out.append(found)
    return out


# ---------------------------------------------------------------- fonts


def test_runs_pick_the_face_that_has_the_glyph() -> None:
    assert split_runs("金井镇", SANS)[0].font == SANS
    runs = split_runs("王𡉃李䶮堃", SONG)
    assert [(r.font, r.text) for r in runs] == [
        (SONG, "王"), (EXT_B, "𡉃"), (SONG, "李"), (EXT_A, "䶮"), (SANS, "堃"),
    ]
    missing = MissingChars()
    runs = split_runs(f"张{NO_FONT}", SANS, missing.collector("姓名：张某"))
    assert "".join(r.text for r in runs) == "张〓"
    assert missing.warnings() == [
        "以下记录含有无法打印的字：“\ue000”(U+E000)（姓名：张某），已印作“〓”，请核对后手写补正"
    ]


def test_wrapped_cells_keep_chinese_punctuation_off_the_line_start() -> None:
    text = ("9月1日，金井镇科协联合镇卫生院、晋江市科协在福全村科普画廊开展科普宣传集市，"
            "参与群众167人次。")
    for width in range(40, 200, 7):
        lines = wrap_lines(text, SANS, 8.5, width)
        assert "".join(lines) == text
        assert not any(line[:1] in "，。、）”" for line in lines[1:]), (width, lines)


# ---------------------------------------------------------------- summary


def test_summary_has_header_figures_and_page_numbers(demo: ReportData, tmp_path: Path) -> None:
    out = tmp_path / "summary.pdf"
    result = write_summary_pdf(demo, out)

    assert result.path == out and out.is_file()
    assert result.warnings == ()
    assert result.size_bytes == out.stat().st_size
    pages = texts(out)
    assert len(pages) == result.pages >= 2
    first = pages[0]
    assert "金井镇2025年9月科普工作情况汇总" in first
    assert "金井镇（行政区划代码：350582103）" in first
    assert "报表期：2025年9月" in first
    assert "填报人：张喆" in first and "审核人：李堃" in first  # 喆/堃 from the fallback chain
    assert "报送日期：2025年10月8日" in first
    f = demo.figures
    count, attend = f["act.count"], f["act.attend"]
    flat = re.sub(r"\s+", " ", first)
    assert (f"科普活动次数（次） {format_value(count.period)} {format_value(count.ytd)}"
            in flat)
    assert f"参与人次 {format_value(attend.period)} {format_value(attend.ytd)}" in flat
    spent = f["fund.spent"]
    assert f"经费支出（元） {format_value(spent.period, spent.kind)}" in flat
    for n, text in enumerate(pages, 1):
        assert f"第 {n} 页 共 {result.pages} 页" in text
    everything = "\n".join(pages)
    for code in (c for c, fig in f.items.items() if fig.target is not None):
        assert f[code].name in everything  # every indicator with a target
    assert "单位负责人签字" in pages[-1] and "（盖章）" in pages[-1]
    assert re.search(rf"合计\s*共 {count.period} 项活动\s*{attend.period}", pages[-1])


def test_summary_is_a4_portrait_with_embedded_subset_fonts(demo: ReportData,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "summary.pdf"
    write_summary_pdf(demo, out)
    for page in PdfReader(out).pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (width, height) == pytest.approx(A4, abs=0.01)
    used = fonts(out)
    assert used
    for font in used:
        assert re.fullmatch(r"/[A-Z]{6}\+.+", str(font["/BaseFont"])), font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"]  # TrueType outlines embedded
        assert "/ToUnicode" in font


def test_rare_characters_print_from_the_fallback_faces(demo: ReportData,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "rare.pdf"
    result = write_summary_pdf(with_title(demo, 2, RARE_TITLE), out)

    assert result.warnings == ()
    assert RARE_TITLE in "\n".join(texts(out))  # extracts through the ToUnicode map
    names = {str(f["/BaseFont"]).split("+", 1)[1] for f in fonts(out)}
    assert {"HanaMinA", "HanaMinB"} <= names


def test_a_character_no_font_has_is_reported(demo: ReportData, tmp_path: Path) -> None:
    out = tmp_path / "missing.pdf"
    title = f"科普讲座{NO_FONT}与{EXT_I}"
    day = demo.activities[2].start_date.isoformat()
    result = write_summary_pdf(with_title(demo, 2, title), out)

    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert warning.startswith("以下记录含有无法打印的字：")
    assert "U+E000" in warning and "U+2EBF0" in warning
    assert f"活动：{day} {title}" in warning
    assert "科普讲座〓与〓" in "\n".join(texts(out))  # a visible mark, not a silent box


def test_long_activity_list_repeats_its_header_row(demo: ReportData, tmp_path: Path) -> None:
    many = dataclasses.replace(demo, activities=demo.activities * 5)  # 195 rows
    out = tmp_path / "long.pdf"
    result = write_summary_pdf(many, out)

    pages = texts(out)
    start = page_of(pages, "五、活动明细")
    assert result.pages >= start + 4
    header = re.compile(r"序号\s*日期\s*活动名称\s*形式\s*地点\s*人次")
    for text in pages[start:]:
        assert header.search(text), text[:200]
    # the last row, with the signature
    assert re.search(rf"(?m)^{len(many.activities)} 2025-09-", pages[-1]), pages[-1][:300]
    assert "单位负责人签字" in pages[-1]


def test_long_activity_list_splits_between_rows(demo: ReportData, tmp_path: Path) -> None:
    """Every row of a 13-page list is printed once, in order, and none is cut at a page
    break: each 序号 sits inside the grid on its page."""
    many = dataclasses.replace(demo, activities=demo.activities * 10)
    out = tmp_path / "long.pdf"
    write_summary_pdf(many, out)

    numbers: list[int] = []
    started = False
    for page in PdfReader(out).pages:
        found: list[tuple[float, float, str]] = []  # (x, y) on the page, text

        def visit(text: str, cm: list[float], tm: list[float], *_: object,
                  found: list[tuple[float, float, str]] = found) -> None:
            found.append((cm[4] + tm[4], cm[5] + tm[5], text.strip()))  # no scaling here

        page.extract_text(visitor_text=visit)
        lines: dict[float, str] = {}  # pieces of text (one per font subset) joined by line
        for _x, y, t in found:
            lines[round(y, 1)] = lines.get(round(y, 1), "") + t
        top = next((y for y, line in lines.items() if line.startswith("五、活动明细")), None)
        started = started or top is not None
        cells = [(y, t) for x, y, t in found if started and t.isdigit()
                 and x < pdf_summary.MARGIN_LEFT + 24 and (top is None or y < top)]  # 序号
        assert all(y > pdf_summary.MARGIN_BOTTOM for y, _t in cells), cells
        numbers += [int(t) for _y, t in sorted(cells, key=lambda c: -c[0])]
    assert numbers == list(range(1, len(many.activities) + 1))


def test_failed_write_leaves_no_file(demo: ReportData, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    real = pdf_summary.build_document

    def crash(path: Path, *args: object, **kwargs: object) -> int:
        real(path, *args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk gone")

    monkeypatch.setattr(pdf_summary, "build_document", crash)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "summary.pdf"
    with pytest.raises(RuntimeError):
        write_summary_pdf(demo, out)
    assert list(folder.iterdir()) == []

    out.write_bytes(b"old")  # an earlier version stays as it was
    with pytest.raises(RuntimeError):
        write_summary_pdf(demo, out)
    assert out.read_bytes() == b"old"
    assert [p.name for p in folder.iterdir()] == ["summary.pdf"]


def test_missing_folder_is_a_user_error(demo: ReportData, tmp_path: Path) -> None:
    with pytest.raises(KepuError, match="不存在"):
        write_summary_pdf(demo, tmp_path / "nowhere" / "summary.pdf")


# ---------------------------------------------------------------- evidence


def test_evidence_lays_out_photos_with_captions(db: Database, office: OfficeInfo,
                                                tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    three = add_activity(db, office, "防范电信诈骗科普讲座", 10)
    add_activity(db, office, "垃圾分类宣传（无照片的活动）", 11)
    five = add_activity(db, office, "应急救护培训", 12)
    add_attachments(db, activity_id=three,
                    files=[photo(src / f"讲座{i}.jpg", i) for i in range(3)],
                    captions=["讲座现场", "", "群众咨询"])
    sign_in = src / "签到表.pdf"
    sign_in.write_bytes(b"%PDF-1.4\n%%EOF\n")
    add_attachments(db, activity_id=three, files=[sign_in])
    add_attachments(db, activity_id=five,
                    files=[photo(src / f"救护{i}.jpg", 10 + i) for i in range(5)],
                    captions=[f"救护演练{i + 1}" for i in range(5)])
    data = build_report_data(db, office, SEPT)
    seen: list[int] = []
    out = tmp_path / "evidence.pdf"

    result = write_evidence_pdf(db, data, out, progress=lambda p, _m: seen.append(p))

    assert result.warnings == ()
    assert seen[-1] == 100
    pages = texts(out)
    assert len(pages) == result.pages == 4
    cover = pages[0]
    assert "金井镇2025年9月科普活动佐证材料汇编" in cover
    assert "3 项" in cover and "8 张" in cover
    # 3 photos: one page, captions (or the file name) under them; the PDF by name.
    p3 = page_of(pages, "防范电信诈骗科普讲座")
    for caption in ("讲座现场", "讲座1.jpg", "群众咨询", "签到表.pdf"):
        assert caption in pages[p3]
    assert "（无照片）" in pages[page_of(pages, "垃圾分类宣传")]
    # 5 photos: four on the activity's page, the fifth on the next.
    p5 = page_of(pages, "应急救护培训")
    assert all(f"救护演练{i}" in pages[p5] for i in range(1, 5))
    assert "救护演练5" in pages[p5 + 1]
    counts = [len(images) for images in images_per_page(out)]
    assert counts == [0, 3, 4, 1]
    for images in images_per_page(out):
        for image in images:
            filters = image["/Filter"]
            filters = list(filters) if isinstance(filters, list) else [filters]
            assert filters == ["/DCTDecode"]  # re-encoded JPEG, embedded as is (no ASCII85)
            assert int(image["/Width"]) <= 600  # ~160 dpi at 80 mm, not 1600 px
    assert result.size_bytes == out.stat().st_size < 1_500_000
    for page in PdfReader(out).pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            A4, abs=0.01)
    for n, text in enumerate(pages, 1):
        assert f"第 {n} 页 共 {result.pages} 页" in text


def test_evidence_warns_about_a_missing_photo_file(db: Database, office: OfficeInfo,
                                                   tmp_path: Path) -> None:
    activity = add_activity(db, office, "节水科普展", 15)
    add_attachments(db, activity_id=activity, files=[photo(tmp_path / "展板.jpg", 3)])
    with db.session() as s:
        info = list_attachments(s, activity_id=activity)[0]
    absolute_path(db, info).unlink()
    out = tmp_path / "evidence.pdf"

    result = write_evidence_pdf(db, build_report_data(db, office, SEPT), out)

    assert result.warnings == ("照片文件缺失：展板.jpg（活动：2025-09-15 节水科普展）",)
    assert "（照片文件缺失）" in "\n".join(texts(out))


def test_evidence_can_be_cancelled_without_leaving_a_file(db: Database, office: OfficeInfo,
                                                         tmp_path: Path) -> None:
    activity = add_activity(db, office, "节水科普展", 15)
    add_attachments(db, activity_id=activity, files=[photo(tmp_path / "a.jpg", 1)])
    out = tmp_path / "out" / "evidence.pdf"
    out.parent.mkdir()
    with pytest.raises(KepuError, match="已取消"):
        write_evidence_pdf(db, build_report_data(db, office, SEPT), out,
                           is_cancelled=lambda: True)
    assert list(out.parent.iterdir()) == []

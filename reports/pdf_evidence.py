"""佐证材料汇编: every activity of a period with its photos, for the year-end assessment.

A cover page (office, period, number of activities and photos), then per activity
(by date): title, date, place, form, 人次, description, and its photos two per
row, at most two rows per page (2–4 photos a page), each with its caption (or
file name). Other attachments (签到表 as PDF, 通讯稿 …) are listed by file name;
an activity without photos says "（无照片）".

Photos are stored at up to 2400 px; printed in a cell of about 80 × 88 mm they
need far less. Each is decoded at reduced size (JPEG draft mode), fitted to
:data:`PHOTO_DPI` at its printed size and re-encoded at :data:`JPEG_QUALITY`,
so a month with 200 photos stays a file that can be e-mailed. Photos are
prepared in a small thread pool (Pillow releases the GIL while decoding and
encoding) before the layout runs.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import ImageOps
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from db.attachments import AttachmentInfo, absolute_path, list_attachments
from db.database import Database
from db.errors import KepuError
from db.exports import ActivityRecord
from reports.pdf_fonts import SANS, SONG, markup, register_fonts
from reports.pdf_summary import (
    FRAME_WIDTH,
    HEAD_BG,
    LINE,
    PdfResult,
    Typesetter,
    make_style,
    table_style,
    activity_label,
    build_document,
    write_atomically,
)
from reports.report_data import ReportData

PHOTO_DPI = 160  # at the printed size: sharp on paper, small in the file
JPEG_QUALITY = 70
COLUMN_GAP = 5 * mm
CELL_WIDTH = (FRAME_WIDTH - COLUMN_GAP) / 2
PHOTO_BOX = (CELL_WIDTH, 88 * mm)  # two rows of these and an activity header fit a page
WORKERS = 2

Progress = Callable[[int, str], None]

COVER_TITLE = make_style("cover_title", SONG, 26, 36, alignment=TA_CENTER)
COVER_INFO = make_style("cover_info", SONG, 14, 26)
ACT_TITLE = make_style("act_title", SANS, 12.5, 17, spaceBefore=4, spaceAfter=4)
INFO = make_style("ev_info", SANS, 9, 12)
BODY = make_style("ev_body", SANS, 10, 15.5, firstLineIndent=20, spaceBefore=4, spaceAfter=4)
CAPTION = make_style("caption", SANS, 8.5, 11, alignment=TA_CENTER)
NOTE = make_style("ev_note", SANS, 9, 13, textColor=colors.HexColor("#444444"))
NO_PHOTO = make_style("no_photo", SANS, 10, 14, textColor=colors.HexColor("#666666"))


@dataclass(frozen=True)
class _Photo:
    """A photo ready to embed (JPEG bytes and printed size), or why it cannot be."""

    info: AttachmentInfo
    data: bytes | None
    width: float  # points
    height: float
    problem: str = ""


def prepare_photo(file: Path, box: tuple[float, float] = PHOTO_BOX, dpi: int = PHOTO_DPI,
                  quality: int = JPEG_QUALITY) -> tuple[bytes, float, float]:
    """Fit a photo into ``box`` (points) at ``dpi`` and re-encode it as JPEG.

    Returns:
        The JPEG bytes and the printed width and height in points.

    """
    with PILImage.open(file) as im:
        w, h = im.size
        scale = min(box[0] / w, box[1] / h)  # points per source pixel
        out_w, out_h = w * scale, h * scale
        px = (max(1, round(out_w / 72 * dpi)), max(1, round(out_h / 72 * dpi)))
        if im.format == "JPEG":
            im.draft("RGB", px)  # decode at 1/2, 1/4 or 1/8 size: much faster
        img = ImageOps.exif_transpose(im)
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGBA")
            flat = PILImage.new("RGB", img.size, "white")
            flat.paste(img, mask=img.getchannel("A"))
            img = flat
        if img.size[0] > px[0] or img.size[1] > px[1]:
            img = img.resize(px, PILImage.Resampling.LANCZOS, reducing_gap=2.0)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue(), out_w, out_h


def _load_photo(db: Database, info: AttachmentInfo) -> _Photo:
    try:
        file = absolute_path(db, info)
    except KepuError:
        return _Photo(info, None, 0, 0, "路径无效")
    if not file.is_file():
        return _Photo(info, None, 0, 0, "文件缺失")
    try:
        data, w, h = prepare_photo(file)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return _Photo(info, None, 0, 0, "无法读取")
    return _Photo(info, data, w, h)


def _cover(data: ReportData, ts: Typesetter, n_acts: int, n_photos: int, n_docs: int,
           n_with: int) -> list[Flowable]:
    h = data.header
    title = f"{h.office_name}{h.period_label}科普活动佐证材料汇编"
    lines = [
        ("填报单位", f"{h.office_name}"),
        ("行政区划代码", h.office_code),
        ("报表期", h.period_label),
        ("活动", f"{n_acts} 项（其中有照片的 {n_with} 项）"),
        ("照片", f"{n_photos} 张"),
    ]
    if n_docs:
        lines.append(("其他材料", f"{n_docs} 份（签到表、通讯稿等，列出文件名）"))
    lines.append(("编制日期", f"{h.report_date.year}年{h.report_date.month}月"
                              f"{h.report_date.day}日"))
    rows = [[Paragraph(f"{k}：", COVER_INFO), ts.para(v, COVER_INFO)] for k, v in lines]
    table = Table(rows, colWidths=[45 * mm, 95 * mm], hAlign="CENTER")
    table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story: list[Flowable] = [Spacer(1, 60 * mm), ts.para(title, COVER_TITLE)]
    if h.revision:
        story.append(ts.para(f"（{h.revision_label}）", make_style("cover_rev", SONG, 14, 22,
                                                               alignment=TA_CENTER)))
    story += [Spacer(1, 35 * mm), table, PageBreak()]
    return story


def _info_table(a: ActivityRecord, ts: Typesetter, n_photos: int) -> Table:
    record = activity_label(a)
    date = f"{a.start_date.year}年{a.start_date.month}月{a.start_date.day}日"
    if a.end_date and a.end_date != a.start_date:
        date += f"至{a.end_date.month}月{a.end_date.day}日"
    place = a.address or a.site or a.village
    if a.village and a.village not in place:
        place = f"{a.village} {place}".strip()
    people = f"线上，浏览量 {a.views}" if a.online else f"{a.attend} 人次"
    pairs = [
        ("日期", date), ("形式", a.form),
        ("地点", ("线上 " if a.online else "") + place), ("参与", people),
        ("主办", a.organizer + (f"；协办：{a.co_organizers}" if a.co_organizers else "")),
        ("主题活动", a.campaign or "—"),
        ("面向人群", a.groups or "—"), ("照片", f"{n_photos} 张"),
    ]
    cells = [[Paragraph(k, INFO), ts.para(v, INFO, record)] for k, v in pairs]
    rows = [cells[i] + cells[i + 1] for i in range(0, len(cells), 2)]
    label_w = 19 * mm
    value_w = FRAME_WIDTH / 2 - label_w
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(table_style([
        ("GRID", (0, 0), (-1, -1), 0.4, LINE),
        ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
        ("BACKGROUND", (2, 0), (2, -1), HEAD_BG),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _photo_cell(p: _Photo, ts: Typesetter, record: str) -> list[Flowable]:
    caption = p.info.caption or p.info.filename
    if p.data is None:
        box = Table([[Paragraph(f"（照片{p.problem}）", NO_PHOTO)]],
                    colWidths=[PHOTO_BOX[0] - 4], rowHeights=[40 * mm])
        box.setStyle(table_style([("BOX", (0, 0), (-1, -1), 0.5, colors.grey),
                                 ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return [box, ts.para(caption, CAPTION, record)]
    img = Image(io.BytesIO(p.data), width=p.width, height=p.height)
    return [img, Spacer(1, 2), ts.para(caption, CAPTION, record)]


def _photo_rows(photos: Sequence[_Photo], ts: Typesetter, record: str) -> list[Flowable]:
    rows: list[Flowable] = []
    for i in range(0, len(photos), 2):
        pair = [_photo_cell(p, ts, record) for p in photos[i:i + 2]]
        while len(pair) < 2:
            pair.append([])
        row = Table([pair], colWidths=[CELL_WIDTH + COLUMN_GAP / 2] * 2)
        row.setStyle(table_style([
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 4),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]))
        if i and i % 4 == 0:
            rows.append(PageBreak())  # at most two rows, four photos, on a page
        rows.append(row)
    return rows


def _activity_block(n: int, a: ActivityRecord, photos: Sequence[_Photo],
                    others: Sequence[AttachmentInfo], ts: Typesetter) -> list[Flowable]:
    record = activity_label(a)
    # The header with the first row of photos (or the "no photos" line) on one page.
    first_row = max((p.height if p.data else 40 * mm for p in photos[:2]), default=0.0)
    story: list[Flowable] = [CondPageBreak(first_row + (70 if photos else 45) * mm)]
    title = Paragraph(f"{n}．" + markup(a.title, SANS, ts.missing.collector(record)), ACT_TITLE)
    story += [title, _info_table(a, ts, len(photos))]
    if a.description.strip():
        story.append(ts.para(a.description.strip(), BODY, record))
    if others:
        names = "、".join(o.caption or o.filename for o in others)
        story.append(ts.para(f"其他佐证材料（{len(others)} 份）：{names}", NOTE, record))
    if photos:
        story += _photo_rows(photos, ts, record)
    else:
        story.append(Paragraph("（无照片）", NO_PHOTO))
    story.append(Spacer(1, 8))
    return story


def write_evidence_pdf(db: Database, data: ReportData, path: Path, *,
                       progress: Progress | None = None,
                       is_cancelled: Callable[[], bool] | None = None) -> PdfResult:
    """Write the 佐证材料汇编 of ``data``'s period to ``path``.

    Args:
        db: the database the attachments belong to.
        data: the period's report data (its activities, in date order).
        path: the PDF to write (replaced atomically).
        progress: ``progress(percent, message)`` now and then.
        is_cancelled: polled between photos; when it returns True the work stops
            with ``KepuError("已取消")`` and no file is written.

    Returns:
        The path, page count, warnings (missing photo files, unprintable
        characters) and the file size in bytes.

    """
    register_fonts()
    report: Progress = progress or (lambda _p, _m: None)
    ts = Typesetter()
    warnings: list[str] = []
    report(0, "正在读取佐证材料…")
    acts = sorted(data.activities, key=lambda a: (a.start_date, a.title, a.id))
    attachments: dict[str, list[AttachmentInfo]] = {}
    with db.session() as s:
        for a in acts:
            attachments[a.id] = list_attachments(s, activity_id=a.id) if a.evidence else []
    images = [i for a in acts for i in attachments[a.id] if i.is_image]
    total = len(images)

    prepared: dict[str, _Photo] = {}
    if images:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            futures = [pool.submit(_load_photo, db, info) for info in images]
            try:
                for done, (info, future) in enumerate(zip(images, futures, strict=True), 1):
                    if is_cancelled is not None and is_cancelled():
                        raise KepuError("已取消")
                    prepared[info.id] = future.result()
                    report(5 + 80 * done // total, f"正在处理照片（{done}/{total}）…")
            except BaseException:
                for f in futures:
                    f.cancel()
                raise

    story: list[Flowable] = []
    n_with = 0
    n_docs = 0
    for n, a in enumerate(acts, 1):
        files = attachments[a.id]
        photos = [prepared[i.id] for i in files if i.is_image]
        others = [i for i in files if not i.is_image]
        n_with += bool(photos)
        n_docs += len(others)
        for p in photos:
            if p.data is None:
                warnings.append(f"照片{p.problem}：{p.info.filename}（{activity_label(a)}）")
        story += _activity_block(n, a, photos, others, ts)
    if not acts:
        story.append(Paragraph("本期无活动记录。", NOTE))
    story = _cover(data, ts, len(acts), total, n_docs, n_with) + story

    h = data.header
    title = f"{h.office_name}{h.period_label}科普活动佐证材料汇编"
    pages: list[int] = []

    def build(tmp: Path) -> None:
        report(88, "正在排版…")
        pages.append(build_document(tmp, story, title=title, author=h.office_name,
                                    subject=f"报表期 {h.period_label}", footer_left=title))

    size = write_atomically(Path(path), build)
    report(100, "完成")
    return PdfResult(Path(path), pages[-1], tuple(warnings) + ts.warnings(), size)

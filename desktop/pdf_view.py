"""Showing and printing a PDF: pages rendered with pypdfium2 into QImages.

:class:`PdfView` shows every page of a document one under the other in a
scroll area, rendered at screen resolution when they come into view (a year's
summary can run to hundreds of pages; only the visible ones are rendered, and
a few are kept). Zoom: 适合宽度 (follows the window), 100% (true size on the
screen), 放大/缩小; the page under the top third of the view is "第 i / N 页".

:func:`print_pdf` draws each page, rendered at the printer's resolution (at
most :data:`MAX_PRINT_DPI`), at its true size on the paper: a form printed here
measures what the PDF says, ready for the stamp.

PDFium is not thread-safe; everything here runs on the GUI thread.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QShortcut,
)
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from db.errors import KepuError

POINTS_PER_INCH = 72
PAGE_GAP = 12  # pixels between pages and around them
MIN_ZOOM, MAX_ZOOM = 0.25, 4.0
ZOOM_STEP = 1.25
CACHED_PAGES = 12
MAX_PRINT_DPI = 300  # sharper gains nothing on paper; an A4 page at 1200 dpi is 560 MB
BACKGROUND = QColor("#e4e7eb")
SHADOW = QColor(0, 0, 0, 40)


def open_document(source: Path | bytes) -> pdfium.PdfDocument:
    """A PDF from a file (read into memory: the file can go at once) or bytes.

    Raises:
        KepuError: not a readable PDF.

    """
    try:
        data = Path(source).read_bytes() if isinstance(source, Path | str) else source
        return pdfium.PdfDocument(data)
    except (OSError, pdfium.PdfiumError) as err:
        raise KepuError(f"无法打开 PDF 文件：{err}") from err


def render_page(doc: pdfium.PdfDocument, index: int, scale: float, *,
                for_print: bool = False) -> QImage:
    """Page ``index`` as an image, ``scale`` pixels per point."""
    page = doc[index]
    try:
        bitmap = page.render(scale=scale, rev_byteorder=True, prefer_bgrx=True,
                             may_draw_forms=False, optimize_mode="print" if for_print else None)
        try:
            image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                           QImage.Format.Format_RGBX8888).copy()  # own the pixels
        finally:
            bitmap.close()
    finally:
        page.close()
    return image


def print_pdf(doc: pdfium.PdfDocument, printer: QPrinter, *,
              progress: Callable[[int, int], bool] | None = None) -> int:
    """Print ``doc`` on ``printer`` (honouring a page range chosen in the print dialog).

    Each page is rendered at the printer's resolution (at most
    :data:`MAX_PRINT_DPI`) and drawn at its true size from the paper's corner,
    scaled down only if the paper is smaller than the page.

    Args:
        doc: the document.
        printer: a printer set up by the caller (QPrintDialog or a PDF file).
        progress: ``progress(done, total)`` after each page; returning False stops.

    Returns:
        The number of pages printed.

    Raises:
        KepuError: the printer cannot be used.

    """
    total = len(doc)
    first, last = 1, total
    if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
        first, last = max(printer.fromPage(), 1), min(printer.toPage() or total, total)
    if first > last:
        raise KepuError(f"所选页码范围超出文档页数（共 {total} 页）")
    printer.setFullPage(True)  # coordinates from the paper's corner: true-size pages
    painter = QPainter()
    if not painter.begin(printer):
        raise KepuError("无法开始打印：打印机不可用或无法写入输出文件")
    printed = 0
    try:
        dpi = min(printer.resolution(), MAX_PRINT_DPI)
        to_device = printer.resolution() / POINTS_PER_INCH
        paper = printer.paperRect(QPrinter.Unit.DevicePixel)
        for number in range(first, last + 1):
            if printed:
                printer.newPage()
            width, height = doc.get_page_size(number - 1)
            image = render_page(doc, number - 1, dpi / POINTS_PER_INCH, for_print=True)
            fit = min(1.0, paper.width() / (width * to_device),
                      paper.height() / (height * to_device))
            w, h = width * to_device * fit, height * to_device * fit
            target = QRectF(paper.x() + (paper.width() - w) / 2, paper.y(), w, h)
            painter.drawImage(target, image)
            printed += 1
            if progress is not None and not progress(printed, last - first + 1):
                break
    finally:
        painter.end()
    return printed


class _PageCanvas(QWidget):
    """The pages, laid out one under the other; paints only what is exposed."""

    def __init__(self, view: PdfView) -> None:
        super().__init__()
        self.view = view
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        exposed = event.rect()
        painter.fillRect(exposed, BACKGROUND)
        for index, rect in enumerate(self.view.page_rects):
            if rect.top() > exposed.bottom():
                break
            if not rect.intersects(exposed):
                continue
            painter.fillRect(rect.translated(2, 2), SHADOW)
            image = self.view.page_image(index, rect.size())
            if image is None:
                painter.fillRect(rect, Qt.GlobalColor.white)
            else:
                painter.drawImage(rect, image)
        painter.end()


class PdfView(QWidget):
    """A scrollable, zoomable view of a PDF's pages.

    Signals:
        page_changed(int, int): the current page (1-based) and the page count.

    """

    page_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: pdfium.PdfDocument | None = None
        # Closed with the widget (not at interpreter exit, after Qt has gone): the
        # callback holds the list, not the view.
        open_docs: list[pdfium.PdfDocument] = []
        self._open_docs = open_docs
        def close_all(*_args: object) -> None:
            while open_docs:
                open_docs.pop().close()

        self.destroyed.connect(close_all)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(close_all)
        self._sizes: list[tuple[float, float]] = []  # points
        self._cache: OrderedDict[tuple[int, int, int], QImage] = OrderedDict()
        self._zoom = 1.0  # 1.0 = true size on the screen
        self._fit_width = True
        self._current = 0
        self.page_rects: list[QRect] = []

        self.fit_button = QPushButton("适合宽度")
        self.fit_button.setCheckable(True)
        self.fit_button.setChecked(True)
        self.fit_button.setToolTip("页面宽度随窗口变化")
        self.actual_button = QPushButton("100%")
        self.actual_button.setToolTip("按实际大小显示（Ctrl+0）")
        self.zoom_out_button = QPushButton("缩小")
        self.zoom_out_button.setToolTip("缩小（Ctrl+-）")
        self.zoom_in_button = QPushButton("放大")
        self.zoom_in_button.setToolTip("放大（Ctrl+=）")
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(48)
        self.page_spin = QSpinBox()
        self.page_spin.setRange(0, 0)
        self.page_spin.setToolTip("输入页码后按回车跳到该页")
        self.page_spin.setKeyboardTracking(False)
        self.page_spin.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
        self.page_spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.count_label = QLabel("/ 0 页")

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.fit_button, self.actual_button, self.zoom_out_button,
                  self.zoom_in_button, self.zoom_label):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(QLabel("第"))
        bar.addWidget(self.page_spin)
        bar.addWidget(self.count_label)

        self.canvas = _PageCanvas(self)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(False)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll.setBackgroundRole(self.scroll.backgroundRole())
        self.scroll.viewport().setStyleSheet(f"background: {BACKGROUND.name()};")
        self.scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.placeholder = QLabel(self.scroll.viewport())
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setStyleSheet("color: #67707c; font-size: 11pt;")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)

        self.fit_button.clicked.connect(self.set_fit_width)
        self.actual_button.clicked.connect(self.set_actual_size)
        self.zoom_in_button.clicked.connect(self.zoom_in)
        self.zoom_out_button.clicked.connect(self.zoom_out)
        self.page_spin.valueChanged.connect(self._spin_changed)
        self.scroll.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.scroll.viewport().installEventFilter(self)
        for keys, slot in ((QKeySequence.StandardKey.ZoomIn, self.zoom_in),
                           ("Ctrl+=", self.zoom_in),
                           (QKeySequence.StandardKey.ZoomOut, self.zoom_out),
                           ("Ctrl+0", self.set_actual_size)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.clear("")

    # -- the document ------------------------------------------------------------------

    def load(self, source: Path | bytes) -> int:
        """Show a PDF (a file is read at once and may be deleted afterwards).

        Returns:
            The page count.

        Raises:
            KepuError: not a readable PDF.

        """
        doc = open_document(source)
        self._close()
        self._doc = doc
        self._open_docs.append(doc)
        self._sizes = [doc.get_page_size(i) for i in range(len(doc))]
        self._current = 0
        self.placeholder.hide()
        self._relayout(keep_position=False)
        self.scroll.verticalScrollBar().setValue(0)
        self._update_controls()
        return len(self._sizes)

    def clear(self, message: str = "") -> None:
        """Show no document, only ``message`` in the middle."""
        self._close()
        self.placeholder.setText(message)
        self.placeholder.setVisible(bool(message))
        self._relayout(keep_position=False)
        self._update_controls()

    def _close(self) -> None:
        self._cache.clear()
        if self._doc is not None:
            self._doc.close()
        self._open_docs.clear()
        self._doc = None
        self._sizes = []
        self.page_rects = []

    @property
    def document(self) -> pdfium.PdfDocument | None:
        """The open document (for printing), or None."""
        return self._doc

    def page_count(self) -> int:
        return len(self._sizes)

    def current_page(self) -> int:
        """The page under the top third of the view, 1-based (0 without a document)."""
        return self._current + 1 if self._sizes else 0

    def zoom(self) -> float:
        """The zoom factor: 1.0 shows pages at their true size."""
        return self._zoom

    def is_fit_width(self) -> bool:
        return self._fit_width

    # -- zoom ----------------------------------------------------------------------------

    @Slot()
    def set_fit_width(self) -> None:
        """Make the widest page fill the view's width, now and when it is resized."""
        self._fit_width = True
        self._relayout()

    @Slot()
    def set_actual_size(self) -> None:
        """Show pages at their true size (100%)."""
        self._set_zoom(1.0)

    @Slot()
    def zoom_in(self) -> None:
        self._set_zoom(self._zoom * ZOOM_STEP)

    @Slot()
    def zoom_out(self) -> None:
        self._set_zoom(self._zoom / ZOOM_STEP)

    def _set_zoom(self, zoom: float) -> None:
        self._fit_width = False
        self._zoom = min(max(zoom, MIN_ZOOM), MAX_ZOOM)
        self._relayout()

    def _pixels_per_point(self) -> float:
        return self._zoom * self.logicalDpiX() / POINTS_PER_INCH

    def _fit_zoom(self) -> float:
        if not self._sizes:
            return self._zoom
        widest = max(w for w, _h in self._sizes)
        available = self.scroll.viewport().width() - 2 * PAGE_GAP
        return min(max(available / (widest * self.logicalDpiX() / POINTS_PER_INCH), MIN_ZOOM),
                   MAX_ZOOM)

    def _relayout(self, keep_position: bool = True) -> None:
        """Page rectangles for the zoom; keeps the current page at the same spot."""
        bar = self.scroll.verticalScrollBar()
        anchor = None
        if keep_position and self.page_rects:
            top = self.page_rects[self._current].top()
            anchor = (self._current, (bar.value() - top) / max(self.page_rects[self._current]
                                                               .height(), 1))
        if self._fit_width:
            self._zoom = self._fit_zoom()
        ppp = self._pixels_per_point()
        widest = max((round(w * ppp) for w, _h in self._sizes), default=0)
        rects = []
        y = PAGE_GAP
        for w, h in self._sizes:
            pw, ph = round(w * ppp), round(h * ppp)
            rects.append(QRect(PAGE_GAP + (widest - pw) // 2, y, pw, ph))
            y += ph + PAGE_GAP
        self.page_rects = rects
        size = QSize(widest + 2 * PAGE_GAP, y) if rects else QSize(0, 0)
        self.canvas.resize(size)
        self.canvas.update()
        if anchor is not None:
            index, fraction = anchor
            rect = self.page_rects[index]
            bar.setValue(rect.top() + round(fraction * rect.height()))
        self._update_controls()

    # -- pages ---------------------------------------------------------------------------

    def page_image(self, index: int, size: QSize) -> QImage | None:
        """Page ``index`` rendered to fill ``size`` (device-independent pixels), cached."""
        if self._doc is None:
            return None
        ratio = self.devicePixelRatioF()
        key = (index, size.width(), round(ratio * 100))
        image = self._cache.get(key)
        if image is not None:
            self._cache.move_to_end(key)
            return image
        width = self._sizes[index][0]
        image = render_page(self._doc, index, size.width() * ratio / width)
        image.setDevicePixelRatio(ratio)
        self._cache[key] = image
        while len(self._cache) > CACHED_PAGES:
            self._cache.popitem(last=False)
        return image

    def go_to_page(self, number: int) -> None:
        """Scroll so that page ``number`` (1-based) is at the top."""
        if not self.page_rects:
            return
        index = min(max(number, 1), len(self.page_rects)) - 1
        self.scroll.verticalScrollBar().setValue(self.page_rects[index].top() - PAGE_GAP)
        self._current = index
        self._update_controls()

    @Slot(int)
    def _spin_changed(self, number: int) -> None:
        if number and number != self.current_page():
            self.go_to_page(number)

    @Slot(int)
    def _scrolled(self, value: int) -> None:
        if not self.page_rects:
            return
        probe = value + self.scroll.viewport().height() // 3
        current = 0
        for index, rect in enumerate(self.page_rects):
            if rect.top() - PAGE_GAP > probe:
                break
            current = index
        if current != self._current:
            self._current = current
            self._update_controls()

    def _update_controls(self) -> None:
        count = len(self._sizes)
        has = count > 0
        for w in (self.fit_button, self.actual_button, self.zoom_in_button,
                  self.zoom_out_button, self.page_spin):
            w.setEnabled(has)
        self.fit_button.setChecked(self._fit_width)
        self.zoom_label.setText(f"{self._zoom * 100:.0f}%" if has else "")
        self.zoom_in_button.setEnabled(has and self._zoom < MAX_ZOOM - 1e-6)
        self.zoom_out_button.setEnabled(has and self._zoom > MIN_ZOOM + 1e-6)
        self.page_spin.blockSignals(True)
        self.page_spin.setRange(1 if has else 0, count)
        self.page_spin.setValue(self.current_page())
        self.page_spin.setFixedWidth(self.fontMetrics().horizontalAdvance(
            "0" * max(len(str(count)), 2)) + 16)
        self.page_spin.blockSignals(False)
        self.count_label.setText(f"/ {count} 页")
        self.page_changed.emit(self.current_page(), count)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the viewport's size: fit-width zoom and the centred message."""
        if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            viewport = self.scroll.viewport()
            self.placeholder.setGeometry(
                QRect(QPoint(0, 0), viewport.size()).adjusted(24, 0, -24, 0))
            if self._fit_width and self._sizes:
                zoom = self._fit_zoom()
                if not math.isclose(zoom, self._zoom, rel_tol=1e-3):
                    self._relayout()
        return super().eventFilter(watched, event)

    def print_to(self, printer: QPrinter, *,
                 progress: Callable[[int, int], bool] | None = None) -> int:
        """Print the shown document; see :func:`print_pdf`."""
        if self._doc is None:
            raise KepuError("没有可打印的内容，请先预览")
        return print_pdf(self._doc, printer, progress=progress)

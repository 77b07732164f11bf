"""概览: what the database holds, as counted by :func:`db.overview.database_overview`."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import KepuError
from db.offices import OfficeInfo
from db.overview import Overview, database_overview
from desktop import messages
from desktop.widgets import page_title

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
MAX_CONTENT_WIDTH = 960

# (Overview attribute, label, unit) in display order.
COUNTS = (
    ("activities", "科普活动", "次"),
    ("trainings", "其中培训", "期"),
    ("trainees", "学员", "人"),
    ("attendances", "培训签到（人次）", "人次"),
    ("attachments", "佐证材料", "份"),
    ("sites", "科普阵地", "个"),
    ("targets", "年度目标", "项"),
    ("audit_entries", "审计日志", "条"),
)


def format_date(day: dt.date) -> str:
    """2025年1月3日."""
    return f"{day.year}年{day.month}月{day.day}日"


def format_date_range(first: dt.date | None, last: dt.date | None) -> str:
    """The dates of the recorded activities, or 暂无活动记录."""
    if first is None or last is None:
        return "暂无活动记录"
    if first == last:
        return format_date(first)
    return f"{format_date(first)} — {format_date(last)}"


def format_size(size_bytes: int) -> str:
    """A file size in MB, e.g. 0.25 MB, 12.3 MB."""
    mb = size_bytes / (1024 * 1024)
    return f"{mb:.2f} MB" if mb < 10 else f"{mb:,.1f} MB"


def _value_label(text: str = "", alignment: Qt.AlignmentFlag = LEFT) -> QLabel:
    label = QLabel(text)
    label.setAlignment(alignment)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class OverviewPage(QWidget):
    """The office, record counts, activity dates and the data file.

    ``overview_changed`` carries the fresh :class:`Overview` after each refresh
    (the main window shows the record count from it).
    """

    overview_changed = Signal(object)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.overview: Overview | None = None

        title = page_title("数据概况")
        self.updated_label = QLabel()
        self.updated_label.setEnabled(False)  # greyed: secondary information
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.refresh_button.setToolTip("重新统计数据库中的记录（F5）")
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.updated_label)
        header.addWidget(self.refresh_button)

        # One group per office (a township database has exactly one).
        self.offices_box = QVBoxLayout()
        self.offices_box.setContentsMargins(0, 0, 0, 0)

        counts_group = QGroupBox("记录数量")
        grid = QGridLayout(counts_group)
        grid.setHorizontalSpacing(12)
        self.count_labels: dict[str, QLabel] = {}
        for row, (attr, label, unit) in enumerate(COUNTS):
            name = QLabel(f"{label}：")
            if label.startswith("其中"):
                name.setIndent(name.fontMetrics().horizontalAdvance("其"))
            grid.addWidget(name, row, 0)
            value = _value_label("", RIGHT)
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("0" * 9))
            grid.addWidget(value, row, 1)
            grid.addWidget(QLabel(unit), row, 2)
            self.count_labels[attr] = value
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        grid.addWidget(line, len(COUNTS), 0, 1, 3)
        grid.addWidget(QLabel("活动日期："), len(COUNTS) + 1, 0)
        self.date_range_label = _value_label()
        grid.addWidget(self.date_range_label, len(COUNTS) + 1, 1, 1, 3)
        grid.setColumnStretch(3, 1)

        file_group = QGroupBox("数据文件")
        file_grid = QGridLayout(file_group)
        file_grid.setHorizontalSpacing(12)
        self.path_label = _value_label()
        self.size_label = _value_label("", RIGHT)
        self.revision_label = _value_label()
        file_grid.addWidget(QLabel("文件位置："), 0, 0)
        file_grid.addWidget(self.path_label, 0, 1, 1, 3)
        file_grid.addWidget(QLabel("文件大小："), 1, 0)
        file_grid.addWidget(self.size_label, 1, 1)
        file_grid.addWidget(QLabel("数据结构版本："), 2, 0)
        file_grid.addWidget(self.revision_label, 2, 1)
        file_grid.setColumnStretch(3, 1)

        left = QVBoxLayout()
        left.addLayout(self.offices_box)
        left.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addWidget(counts_group, 1)

        # Keep the figures together on wide screens instead of spreading them out.
        content = QWidget()
        content.setMaximumWidth(MAX_CONTENT_WIDTH)
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addLayout(header)
        content_layout.addLayout(columns)
        content_layout.addWidget(file_group)
        row = QHBoxLayout()
        row.addWidget(content, 1)
        row.addStretch(0)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addStretch(1)

        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Count again and show the result."""
        try:
            overview = database_overview(self.db)
        except KepuError as err:
            messages.show_error(self, err)
            return
        self.show_overview(overview)
        self.overview_changed.emit(overview)

    def show_overview(self, overview: Overview) -> None:
        """Fill the page from an overview (no database access)."""
        self.overview = overview
        self._show_offices(overview.offices)
        for attr, label in self.count_labels.items():
            label.setText(f"{getattr(overview, attr):,}")
        self.date_range_label.setText(
            format_date_range(overview.first_date, overview.last_date)
        )
        self.path_label.setText(overview.path)
        self.size_label.setText(format_size(overview.size_bytes))
        self.revision_label.setText(overview.revision)
        self.updated_label.setText(f"统计时间 {dt.datetime.now():%H:%M:%S}")

    def _show_offices(self, offices: tuple[OfficeInfo, ...]) -> None:
        while self.offices_box.count():
            item = self.offices_box.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        if not offices:
            group = QGroupBox("填报单位")
            QVBoxLayout(group).addWidget(QLabel("尚未设置填报单位"))
            self.offices_box.addWidget(group)
        for office in offices:
            self.offices_box.addWidget(self._office_group(office))

    def _office_group(self, office: OfficeInfo) -> QGroupBox:
        group = QGroupBox("填报单位")
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(12)
        rows = (
            ("单位名称", office.name, LEFT, ""),
            ("行政区划代码", office.code, LEFT, ""),
            ("级别", office.level, LEFT, ""),
            ("所属区县", office.region or "（未填写）", LEFT, ""),
            ("常住人口", f"{office.population:,}", RIGHT, "人"),
        )
        for row, (label, value, alignment, unit) in enumerate(rows):
            grid.addWidget(QLabel(f"{label}："), row, 0)
            value_label = _value_label(value, alignment)
            value_label.setObjectName(f"office_{label}")
            grid.addWidget(value_label, row, 1)
            if unit:
                grid.addWidget(QLabel(unit), row, 2)
        grid.setColumnStretch(3, 1)
        return group

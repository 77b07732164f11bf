"""首页 (dashboard): figures from compute_figures, target progress, to-do list, charts, signals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette

from db.activities import ActivityInput, GroupShare, create_activity
from db.catalogs import find_entry, list_catalog
from db.database import Database
from db.indicators import Figures, compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from db.reporting import submit_month
from db.targets import set_targets
from desktop.charts import (
    BEHIND,
    FAR_BEHIND,
    ON_TRACK,
    RED,
    group_digits,
    nice_scale,
    progress_status,
    progress_tip,
    short_number,
)
from desktop.dashboard_page import (
    KEY_FIGURES,
    DashboardPage,
    elapsed_share,
    format_figure,
)
from reports.figures import format_rate

TODAY = dt.date(2025, 9, 20)  # 263rd day of 365: time elapsed 72.05 %
LEFT = Qt.MouseButton.LeftButton


# -- data ------------------------------------------------------------------------------


def _id(db: Database, kind: str, code: str) -> str:
    with db.session() as s:
        entry = find_entry(s, kind, code)
    assert entry is not None, code
    return entry.id


def add_activity(db: Database, office: OfficeInfo, title: str, day: dt.date, form: str,
                 **values: Any) -> str:
    groups = tuple(GroupShare(_id(db, "group", g)) for g in values.pop("groups", ()))
    campaign = values.pop("campaign", None)
    if form == "培训":
        values.setdefault("train_hours_x10", 20)
    data = ActivityInput(title=title, start_date=day, end_date=day, form_id=_id(db, "form", form),
                         campaign_id=_id(db, "campaign", campaign) if campaign else None,
                         groups=groups, **values)
    return create_activity(db, office, data)


@pytest.fixture
def dataset(db: Database, office: OfficeInfo) -> dict[str, str]:
    """Four activities of 2025 and three targets.

    act.count 4 (target 5 → 80 %, on track), act.attend 135 (target 200 → 67.5 %,
    4.6 points behind: amber), train.农民.attend 5 (target 10 → 50 %, 22.1 behind: red).
    """
    ids = {
        "lecture": add_activity(db, office, "防诈骗讲座", dt.date(2025, 9, 10), "讲座",
                                attend=30, groups=("青少年",)),
        "training": add_activity(db, office, "茶叶种植技术培训", dt.date(2025, 9, 12), "培训",
                                 attend=5, groups=("农民",)),
        "campaign": add_activity(db, office, "科技之春集市宣传", dt.date(2025, 3, 5), "宣传咨询",
                                 attend=100, spending_fen=123456, campaign="科技之春宣传月",
                                 groups=("社区居民",)),
        "online": add_activity(db, office, "防汛知识推文", dt.date(2025, 8, 1), "线上",
                               online=True, views=500),
    }
    set_targets(db, office, 2025, {"act.count": 5, "act.attend": 200, "train.农民.attend": 10})
    return ids


def figures(db: Database, office: OfficeInfo, period: str = "2025-09") -> Figures:
    with db.session() as s:
        return compute_figures(s, office, Period.parse(period))


def make_page(qtbot: Any, db: Database, office: OfficeInfo,
              today: dt.date = TODAY) -> DashboardPage:
    page = DashboardPage(db, office, today=today)
    qtbot.addWidget(page)
    page.resize(1366, 768)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.show()
    return page


def wait_loaded(qtbot: Any, page: DashboardPage, action: Any) -> None:
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        action()


def ledger_request(qtbot: Any, page: DashboardPage, widget: Any,
                   pos: QPoint | None = None) -> dict[str, Any]:
    with qtbot.waitSignal(page.open_ledger, timeout=2_000) as blocker:
        qtbot.mouseClick(widget, LEFT, pos=pos) if pos is not None else qtbot.mouseClick(
            widget, LEFT)
    (request,) = blocker.args
    assert isinstance(request, dict)
    return request


# -- pure helpers ----------------------------------------------------------------------


def test_progress_status_against_time() -> None:
    assert progress_status(Decimal("0.80"), 0.72) == (ON_TRACK, pytest.approx(8.0))
    assert progress_status(Decimal("0.65"), 0.72)[0] == BEHIND
    assert progress_status(Decimal("0.571"), 0.72)[0] == BEHIND  # 14.9 behind
    assert progress_status(Decimal("0.57"), 0.72)[0] == FAR_BEHIND  # 15 behind
    assert progress_tip(-22.05, FAR_BEHIND) == "进度落后时间 22.1 个百分点"
    assert progress_tip(3.0, ON_TRACK) == "进度超前时间 3.0 个百分点"


def test_elapsed_share_and_number_text() -> None:
    assert elapsed_share(2025, dt.date(2025, 9, 30)) == pytest.approx(273 / 365)  # ≈ 75 %
    assert elapsed_share(2024, TODAY) == 1.0
    assert elapsed_share(2024, dt.date(2024, 12, 31)) == 1.0  # leap year: 366 / 366
    assert group_digits("1234567.80") == "1,234,567.80"
    assert group_digits("-") == "-"
    assert format_figure(Decimal("1234.50"), "money") == "1,234.50"
    assert short_number(9876) == "9,876"
    assert short_number(123_456) == "12.3万"
    assert short_number(120_000) == "12万"
    assert nice_scale(1234) == (1500.0, 500.0)
    assert nice_scale(0) == (4.0, 1.0)
    assert nice_scale(3) == (3.0, 1.0)


# -- figures ----------------------------------------------------------------------------


def test_cards_show_compute_figures(qtbot: Any, db: Database, office: OfficeInfo,
                                    dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    figs = figures(db, office)
    assert figs["act.count"].ytd == 4 and figs["act.attend"].ytd == 135
    for spec in KEY_FIGURES:
        fig = figs[spec.code]
        card = page.cards[spec.code]
        assert card.value_button.text() == format_figure(fig.ytd, fig.kind), spec.code
        assert card.month_button.text() == (
            f"本月 {format_figure(fig.period, fig.kind)} {fig.unit}"), spec.code
        assert card.unit_label.text() == fig.unit
        assert card.caption_label.text() == "本年累计"
    assert page.cards["fund.spent"].value_button.text() == "1,234.56"
    assert page.cards["act.online.views"].value_button.text() == "500"


def test_progress_bar_shows_rate_and_time(qtbot: Any, db: Database, office: OfficeInfo,
                                          dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    figs = figures(db, office)
    assert list(page.target_bars) == [c for c, f in figs.items.items() if f.target is not None]
    bar = page.target_bars["train.农民.attend"]
    fig = figs["train.农民.attend"]
    assert (fig.ytd, fig.target, fig.rate) == (5, 10, Decimal("0.5"))
    assert bar.rate_text == format_rate(fig.rate) == "50.0%"
    assert (bar.ytd_text, bar.target_text) == ("5", "10")
    assert bar.figure_text == "本年累计 5 / 年度目标 10 人次"
    assert bar.status == FAR_BEHIND and bar.color == RED
    assert "进度落后时间 22.1 个百分点" in bar.toolTip()
    # the marker: day of year ÷ days in year, drawn across the bar
    assert bar.elapsed == pytest.approx(263 / 365)
    track = bar.bar_rect()
    assert bar.marker_x() == pytest.approx(track.left() + track.width() * 263 / 365)
    assert page.target_bars["act.count"].status == ON_TRACK
    assert page.target_bars["act.attend"].status == BEHIND
    assert page.target_bars["act.attend"].rate_text == "67.5%"
    assert "72%" in page.legend_label.text()


def test_clicks_open_the_ledger(qtbot: Any, db: Database, office: OfficeInfo,
                                dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    training = _id(db, "form", "培训")
    farmers = _id(db, "group", "农民")

    request = ledger_request(qtbot, page, page.target_bars["train.农民.attend"])
    assert request["date_from"] == dt.date(2025, 1, 1)
    assert request["date_to"] == dt.date(2025, 9, 30)
    assert (request["form_code"], request["form_id"]) == ("培训", training)
    assert (request["group_code"], request["group_id"]) == ("农民", farmers)

    request = ledger_request(qtbot, page, page.target_bars["act.count"])
    assert set(request) == {"date_from", "date_to", "label"}

    request = ledger_request(qtbot, page, page.cards["train.attend"].month_button)
    assert (request["date_from"], request["date_to"]) == (dt.date(2025, 9, 1),
                                                         dt.date(2025, 9, 30))
    assert request["form_code"] == "培训"

    request = ledger_request(qtbot, page, page.cards["act.count"].value_button)
    assert (request["date_from"], request["date_to"]) == (dt.date(2025, 1, 1),
                                                         dt.date(2025, 9, 30))
    assert "form_code" not in request

    request = ledger_request(qtbot, page, page.todo_rows["missing_evidence"])
    assert request["missing_evidence"] is True
    assert (request["date_from"], request["date_to"]) == (dt.date(2025, 1, 1), TODAY)
    assert page.todo_rows["missing_evidence"].right_label.text() == "4 项"

    request = ledger_request(qtbot, page, page.todo_rows["missing_roster"])
    assert request["ids"] == [dataset["training"]]
    assert page.todo_rows["missing_roster"].right_label.text() == "1 期"


def test_target_codes_map_to_ledger_filters(qtbot: Any, db: Database, office: OfficeInfo,
                                            dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    assert page.target_filters("camp.全国科普日.count") == {
        "campaign_code": "全国科普日", "campaign_id": _id(db, "campaign", "全国科普日")}
    assert page.target_filters("form.讲座.attend") == {
        "form_code": "讲座", "form_id": _id(db, "form", "讲座")}
    assert page.target_filters("group.老年人.attend") == {
        "group_code": "老年人", "group_id": _id(db, "group", "老年人")}
    assert page.target_filters("train.people")["form_code"] == "培训"
    assert "group_code" not in page.target_filters("train.people")
    assert page.target_filters("fund.per_capita") == {}


def test_overdue_month_is_red_until_submitted(qtbot: Any, db: Database, office: OfficeInfo,
                                              dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    months = [k for k in page.todo_rows if k.startswith("month:")]
    assert months == [f"month:2025-{m:02d}" for m in range(1, 9)]
    august = page.todo_rows["month:2025-08"]
    assert august.property("overdue") is True
    assert august.right_label.text() == "逾期 15 天"  # due 2025-09-05
    august.right_label.ensurePolished()  # the page's style sheet colours it
    assert august.right_label.palette().color(QPalette.ColorRole.WindowText) == RED
    assert "2025年9月5日" in august.toolTip()
    with qtbot.waitSignal(page.open_reports, timeout=2_000) as blocker:
        qtbot.mouseClick(august, LEFT)
    assert blocker.args == ["2025-08"]

    submit_month(db, office, "2025-08", today=TODAY)
    wait_loaded(qtbot, page, page.data_changed)
    assert "month:2025-08" not in page.todo_rows
    assert "month:2025-07" in page.todo_rows


def test_month_not_yet_due_is_not_red(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    page = make_page(qtbot, db, office, today=dt.date(2025, 10, 3))
    september = page.todo_rows["month:2025-09"]
    assert september.property("overdue") is False
    assert september.right_label.text() == "2025年10月5日前报送"
    september.right_label.ensurePolished()
    assert september.right_label.palette().color(QPalette.ColorRole.WindowText) != RED


def test_upcoming_campaign_button_emits_prefilled_activity(
        qtbot: Any, db: Database, office: OfficeInfo, dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    grain_day = _id(db, "campaign", "世界粮食日")
    assert grain_day in page.campaign_buttons  # 10月16日, within 30 days of 9月20日
    assert _id(db, "campaign", "全国科普日") not in page.campaign_buttons  # 9月15日, past
    with qtbot.waitSignal(page.new_activity, timeout=2_000) as blocker:
        qtbot.mouseClick(page.campaign_buttons[grain_day], LEFT)
    (data,) = blocker.args
    assert isinstance(data, ActivityInput)
    assert data.campaign_id == grain_day
    assert data.start_date == data.end_date == dt.date(2025, 10, 16)
    assert data.title == "“世界粮食日”科普活动"
    assert data.form_id


def test_data_changed_updates_numbers(qtbot: Any, db: Database, office: OfficeInfo,
                                      dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    assert page.cards["act.count"].value_button.text() == "4"
    add_activity(db, office, "科普讲座", dt.date(2025, 9, 15), "讲座", attend=20)
    wait_loaded(qtbot, page, page.data_changed)
    figs = figures(db, office)
    assert figs["act.count"].ytd == 5
    assert page.cards["act.count"].value_button.text() == "5"
    assert page.cards["act.count"].month_button.text() == "本月 3 次"
    assert page.cards["act.attend"].value_button.text() == "155"
    assert page.target_bars["act.count"].rate_text == format_rate(figs["act.count"].rate)
    assert page.monthly_chart.data == figs.monthly


def test_hidden_page_refreshes_a_moment_later(qtbot: Any, db: Database, office: OfficeInfo,
                                             dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    page.hide()
    add_activity(db, office, "科普讲座", dt.date(2025, 9, 15), "讲座", attend=20)
    page.data_changed()
    assert not page.is_loading()  # the page that saved refreshes first
    wait_loaded(qtbot, page, lambda: None)  # then in the background, still hidden
    assert page.isHidden()
    assert page.cards["act.count"].value_button.text() == "5"
    page.show()
    assert not page.is_loading()  # already fresh
    assert page.target_bars["act.count"].isVisible()
    assert page.todo_rows["month:2025-08"].isVisible()


def test_showing_a_stale_page_refreshes_at_once(qtbot: Any, db: Database, office: OfficeInfo,
                                                dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    page.hide()
    add_activity(db, office, "科普讲座", dt.date(2025, 9, 15), "讲座", attend=20)
    page.data_changed()
    page.show()
    assert page.is_loading()
    wait_loaded(qtbot, page, lambda: None)
    assert page.cards["act.count"].value_button.text() == "5"


def test_changes_during_a_refresh_are_not_lost(qtbot: Any, db: Database, office: OfficeInfo,
                                               dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    page.refresh()
    add_activity(db, office, "科普讲座", dt.date(2025, 9, 15), "讲座", attend=20)
    wait_loaded(qtbot, page, page.data_changed)  # arrives while the first run may still go
    assert page.cards["act.count"].value_button.text() == "5"


# -- charts -----------------------------------------------------------------------------


def test_charts_show_figures(qtbot: Any, db: Database, office: OfficeInfo,
                             dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    figs = figures(db, office)
    chart = page.monthly_chart
    assert chart.data == figs.monthly
    assert [m.month for m in chart.data] == list(range(1, 10))
    assert (chart.data[8].count, chart.data[8].attend) == (2, 35)
    # bar heights follow the values within a panel
    assert chart.bar_rect(1, 3).height() > chart.bar_rect(1, 9).height() > 0
    assert chart.bar_rect(0, 10).height() == 0  # October: not yet
    assert "参与人次：100 人次" in chart._tooltip(2)

    pos = chart.bar_rect(0, 3).center().toPoint()
    request = ledger_request(qtbot, page, chart, pos)
    assert (request["date_from"], request["date_to"]) == (dt.date(2025, 3, 1),
                                                         dt.date(2025, 3, 31))

    groups = page.group_chart.rows
    with db.session() as s:
        catalog = list_catalog(s, "group", include_hidden=False)
    expected = sorted(((g.code, figs[f"group.{g.code}.attend"].ytd) for g in catalog),
                      key=lambda r: -int(r[1] or 0))
    assert [(r.key, r.value) for r in groups] == expected
    assert [(r.key, r.value) for r in groups[:3]] == [("社区居民", 100), ("青少年", 30),
                                                      ("农民", 5)]
    request = ledger_request(qtbot, page, page.group_chart,
                             page.group_chart.row_rect(0).center().toPoint())
    assert request["group_code"] == "社区居民"


def test_month_chart_keyboard(qtbot: Any, db: Database, office: OfficeInfo,
                              dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    chart = page.monthly_chart
    chart.setFocus()
    qtbot.keyClick(chart, Qt.Key.Key_Left)
    with qtbot.waitSignal(chart.month_clicked, timeout=2_000) as blocker:
        qtbot.keyClick(chart, Qt.Key.Key_Return)
    assert blocker.args == [8]


# -- years and empty states ---------------------------------------------------------------


def test_last_year_and_no_targets(qtbot: Any, db: Database, office: OfficeInfo,
                                  dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    assert page.year_combo.currentData() == 2025
    wait_loaded(qtbot, page, lambda: page.year_combo.setCurrentIndex(1))
    assert page.data is not None and page.data.period == Period(2024, "month", 12)
    assert page.cards["act.count"].value_button.text() == "0"
    assert page.cards["act.count"].caption_label.text() == "全年"
    assert page.cards["act.count"].month_button.isHidden()
    assert page.target_bars == {}
    assert not page.no_targets.isHidden()
    assert "2024" in page.no_targets_label.text()
    with qtbot.waitSignal(page.open_targets, timeout=2_000):
        qtbot.mouseClick(page.set_targets_button, LEFT)
    # the to-do list is about today, whatever year is looked at
    assert "month:2025-08" in page.todo_rows


def test_empty_todo(qtbot: Any, db: Database, office: OfficeInfo) -> None:
    page = make_page(qtbot, db, office, today=dt.date(2025, 1, 3))  # December 2024 not due
    for month in range(1, 13):
        submit_month(db, office, f"2024-{month:02d}", today=dt.date(2025, 1, 3))
    wait_loaded(qtbot, page, page.refresh)
    assert page.todo is not None
    if page.todo.upcoming:  # none in early January with the default catalog
        pytest.skip("catalog has a campaign in early January")
    assert page.todo_rows == {}
    assert not page.todo_empty_label.isHidden()
    assert page.todo_empty_label.text() == "暂无待办事项"


def test_tab_goes_through_the_page(qtbot: Any, db: Database, office: OfficeInfo,
                                   dataset: dict[str, str]) -> None:
    page = make_page(qtbot, db, office)
    chain = []
    widget = page.cards["fund.per_capita"].month_button
    for _ in range(6):
        widget = widget.nextInFocusChain()
        while not (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) or widget.isHidden():
            widget = widget.nextInFocusChain()
        chain.append(widget)
    assert chain[:3] == list(page.target_bars.values())
    assert chain[3] is page.monthly_chart
    assert chain[4] is page.todo_rows["month:2025-01"]



def test_failure_is_shown_in_the_header(qtbot: Any, db: Database, office: OfficeInfo,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from db.errors import KepuError
    from desktop import dashboard_page

    page = make_page(qtbot, db, office)

    def fail(*_args: object) -> None:
        raise KepuError("数据库文件无法读取")

    monkeypatch.setattr(dashboard_page, "load_figures", fail)
    page.refresh()
    qtbot.waitUntil(lambda: not page.is_loading(), timeout=10_000)
    assert page.status_label.text() == "统计失败：数据库文件无法读取"
    assert page.cards["act.count"].value_button.text() == "0"  # the last figures stay

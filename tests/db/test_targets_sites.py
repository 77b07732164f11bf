"""Yearly targets and the 科普阵地 register feed the figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from db.catalogs import find_entry
from db.database import Database
from db.errors import KepuError, ValidationError
from db.indicators import compute_figures
from db.offices import OfficeInfo
from db.periods import Period
from db.sites import SiteInput, create_site, list_sites, site_choices, update_site
from db.targets import copy_targets, list_targets, read_targets_workbook, set_targets


def figures(db: Database, office: OfficeInfo, period: str):  # noqa: ANN201
    with db.session() as s:
        return compute_figures(s, office, Period.parse(period))


def test_set_targets_validates_all_before_saving(db: Database, office: OfficeInfo) -> None:
    assert set_targets(db, office, 2025, {"train.农民.attend": "1,560", "fund.per_capita": "2",
                                          "act.count": 40}) == 3
    figs = figures(db, office, "2025-09")
    assert figs["train.农民.attend"].target == 1560
    assert figs["fund.per_capita"].target == Decimal("2.00")
    with pytest.raises(ValidationError, match="应为整数"):
        set_targets(db, office, 2025, {"act.count": "50", "act.attend": "12.5"})
    with pytest.raises(ValidationError, match="不能为负数"):
        set_targets(db, office, 2025, {"act.count": "-1"})
    with pytest.raises(ValidationError, match="没有代码"):
        set_targets(db, office, 2025, {"act.cnt": "1"})
    assert figures(db, office, "2025-09")["act.count"].target == 40  # nothing changed
    set_targets(db, office, 2025, {"act.count": ""})  # blank removes
    with db.session() as s:
        assert [t.code for t in list_targets(s, office, 2025)] == ["train.农民.attend",
                                                                    "fund.per_capita"]


def test_copy_last_years_targets(db: Database, office: OfficeInfo) -> None:
    set_targets(db, office, 2024, {"act.count": "30", "train.attend": "2000"})
    set_targets(db, office, 2025, {"act.count": "45"})
    assert copy_targets(db, office, 2024, 2025) == 1  # act.count kept at 45
    with db.session() as s:
        values = {t.code: t.value for t in list_targets(s, office, 2025)}
    assert values == {"act.count": Decimal(45), "train.attend": Decimal(2000)}
    assert copy_targets(db, office, 2024, 2025, replace=True) == 2
    with pytest.raises(KepuError, match="2023年没有设置目标"):
        copy_targets(db, office, 2023, 2025)


def test_targets_from_a_workbook(db: Database, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["2025年度科普工作目标"])
    ws.append(["指标", "目标值"])
    ws.append(["培训农民 人次", 1560])
    ws.append(["train.科学教师.attend", "300人次"])
    ws.append(["人均科普经费", "2.00元"])
    ws.append([])
    path = tmp_path / "targets.xlsx"
    book.save(path)
    with db.session() as s:
        assert read_targets_workbook(s, path) == {"train.农民.attend": "1560",
                                                  "train.科学教师.attend": "300",
                                                  "fund.per_capita": "2.00"}
    ws.append(["不存在的指标", 5])
    book.save(path)
    with db.session() as s, pytest.raises(ValidationError, match="第7行：未知指标“不存在的指标”"):
        read_targets_workbook(s, path)


def test_sites_feed_site_counts(db: Database, office: OfficeInfo) -> None:
    with db.session() as s:
        estation = find_entry(s, "site_kind", "科普e站").id
        gallery = find_entry(s, "site_kind", "科普画廊").id
    sid = create_site(db, office, SiteInput("坑口村科普e站", estation, village="坑口村",
                                            opened_on=dt.date(2023, 3, 1),
                                            checklist={"网络": True, "人员": True}))
    create_site(db, office, SiteInput("塘东村宣传栏", gallery, opened_on=dt.date(2025, 10, 1)))
    assert figures(db, office, "2025-09")["site.科普e站.count"].period == 1
    assert figures(db, office, "2025-09")["site.科普画廊.count"].period == 0
    assert figures(db, office, "2025")["site.科普画廊.count"].period == 1
    update_site(db, office, sid, SiteInput("坑口村科普e站", estation, opened_on=dt.date(2023, 3, 1),
                                           closed_on=dt.date(2025, 7, 1)))
    assert figures(db, office, "2025-09")["site.科普e站.count"].period == 0
    with db.session() as s:
        rows = list_sites(s, office)
        assert [r.data.name for r in rows] == ["坑口村科普e站", "塘东村宣传栏"]
        assert rows[0].checklist_items == ("网络", "人员", "场所", "活动", "终端")
        assert site_choices(s, office, dt.date(2025, 9, 1)) == []
    with pytest.raises(ValidationError, match="停用日期不能早于启用日期"):
        create_site(db, office, SiteInput("错", gallery, opened_on=dt.date(2025, 5, 1),
                                          closed_on=dt.date(2025, 4, 1)))
    with pytest.raises(ValidationError, match="不是该类型阵地的检查项"):
        create_site(db, office, SiteInput("错", gallery, checklist={"网络": True}))


def test_office_profile_and_year_population(db: Database, office: OfficeInfo) -> None:
    from db.offices import get_office, set_year_population, update_office, year_populations

    with db.write() as s:
        update_office(s, office.id, name="金井镇人民政府", code="350582103", level="镇",
                      region="晋江市", population="60,000", reporter="张文书",
                      reviewer="李镇长", phone="0595 8512 3456")
        set_year_population(s, office.id, 2025, "1000")
    with db.session() as s:
        info = get_office(s)
        assert (info.name, info.population, info.reporter, info.phone) == (
            "金井镇人民政府", 60000, "张文书", "059585123456")
        assert year_populations(s, office.id) == {2025: 1000}
    with pytest.raises(ValidationError, match="常住人口应为正整数"), db.write() as s:
        set_year_population(s, office.id, 2024, "-3")


def test_our_template_layout_reads_back(db: Database, tmp_path: Path) -> None:
    from db.targets import target_years

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["指标", "代码", "单位", "目标值"])
    ws.append(["培训农民 人次", "train.农民.attend", "人次", 1560])
    ws.append(["科普活动次数", "act.count", "次", None])  # no target: skipped
    ws.append(["人均科普经费", "fund.per_capita", "元/人", "2"])
    path = tmp_path / "template.xlsx"
    book.save(path)
    with db.session() as s:
        assert read_targets_workbook(s, path) == {"train.农民.attend": "1560",
                                                  "fund.per_capita": "2.00"}
    set_targets(db, db_office(db), 2024, {"act.count": "3"})
    with db.session() as s:
        assert target_years(s, db_office(db)) == [2024]


def db_office(db: Database) -> OfficeInfo:
    from db.offices import get_office

    with db.session() as s:
        return get_office(s)

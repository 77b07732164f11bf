"""Catalog editing: add, rename, hide, delete only when unused, reorder."""

from __future__ import annotations

import datetime as dt

import pytest

from db.catalogs import (
    add_entry,
    delete_entry,
    find_entry,
    list_catalog,
    move_entry,
    rename_entry,
    set_hidden,
    usage_counts,
)
from db.database import Database
from db.errors import ValidationError
from db.indicators import compute_figures
from db.models import Activity
from db.offices import OfficeInfo
from db.periods import Period


def test_add_local_campaign_and_it_counts(db: Database, office: OfficeInfo) -> None:
    with db.write() as s:
        item = add_entry(s, "campaign", "刺桐科学传播学者巡讲")
        s.add(Activity(office_id=office.id, title="巡讲", start_date=dt.date(2025, 4, 2),
                       end_date=dt.date(2025, 4, 2), form_id=find_entry(s, "form", "讲座").id,
                       campaign_id=item.id, attend=90))
    with db.session() as s:
        assert list_catalog(s, "campaign")[-1].code == "刺桐科学传播学者巡讲"
        figs = compute_figures(s, office, Period.parse("2025-04"))
    assert figs["camp.刺桐科学传播学者巡讲.attend"].period == 90


@pytest.mark.parametrize(("code", "fragment"), [
    ("", "名称不能为空"), ("科普.巡讲", "不能含有 ."), ("a:b", "不能含有 :"),
    ("全国科普日", "已有“全国科普日”"),
])
def test_bad_new_entries_are_refused(db: Database, code: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment), db.write() as s:
        add_entry(s, "campaign", code)


def test_rename_keeps_the_code(db: Database) -> None:
    with db.write() as s:
        entry = find_entry(s, "campaign", "全国科普日")
        renamed = rename_entry(s, entry.id, "2025年全国科普日")
    assert renamed.code == "全国科普日" and renamed.name == "2025年全国科普日"
    with pytest.raises(ValidationError, match="已有"), db.write() as s:
        rename_entry(s, find_entry(s, "campaign", "科技活动周").id, "2025年全国科普日")


def test_used_or_builtin_entries_can_only_be_hidden(db: Database, office: OfficeInfo) -> None:
    with db.write() as s:
        local = add_entry(s, "topic", "海洋科普")
        unused = add_entry(s, "topic", "临时主题")
    with pytest.raises(ValidationError, match="内置项目"), db.write() as s:
        delete_entry(s, find_entry(s, "topic", "卫生健康").id)
    from db.models import ActivityTopic

    with db.write() as s:
        a = Activity(office_id=office.id, title="海洋日", start_date=dt.date(2025, 6, 8),
                     end_date=dt.date(2025, 6, 8), form_id=find_entry(s, "form", "展览").id)
        s.add(a)
        s.flush()
        s.add(ActivityTopic(activity_id=a.id, topic_id=local.id))
    with pytest.raises(ValidationError, match="已被 1 条记录使用"), db.write() as s:
        delete_entry(s, local.id)
    with db.write() as s:
        assert usage_counts(s, "topic") == {local.id: 1}
        set_hidden(s, local.id, True)
        delete_entry(s, unused.id)
    with db.session() as s:
        codes = [e.code for e in list_catalog(s, "topic", include_hidden=False)]
        assert "海洋科普" not in codes and "临时主题" not in codes
        assert find_entry(s, "topic", "海洋科普").hidden
    with pytest.raises(ValidationError, match="不能隐藏"), db.write() as s:
        set_hidden(s, find_entry(s, "form", "培训").id, True)


def test_move_entry(db: Database) -> None:
    with db.write() as s:
        second = list_catalog(s, "form")[1]
        move_entry(s, second.id, -1)
    with db.session() as s:
        assert list_catalog(s, "form")[0].id == second.id


def test_delete_refusal_props_and_name_clashes(db: Database) -> None:
    from db.catalogs import delete_refusal, set_props

    with db.write() as s:
        builtin = find_entry(s, "campaign", "全国科普日")
        assert "内置项目" in delete_refusal(s, builtin.id)
        local = add_entry(s, "campaign", "海丝科普周")
        assert delete_refusal(s, local.id) is None
        assert set_props(s, local.id, {"month": 11}).props == {"month": 11}
        rename_entry(s, builtin.id, "2025年全国科普日")
    with pytest.raises(ValidationError, match="统计代码为“全国科普日”的项目（现名“2025年全国科普日”）"), \
            db.write() as s:
        add_entry(s, "campaign", "全国科普日")
    with pytest.raises(ValidationError, match="已有“科普讲座/报告会”"), db.write() as s:
        add_entry(s, "form", "科普讲座/报告会")
    with pytest.raises(ValidationError, match="1至12月"), db.write() as s:
        set_props(s, local.id, {"month": 13})

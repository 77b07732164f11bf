"""Matching what a sheet says (村民, 科普日, 讲座) to catalog entries, through synonym tables.

An entry matches by its code, its name, the parts of a name such as
“科学教师/科技辅导员”, the name without its bracketed remark, or a synonym from the
tables below (each synonym names an entry code; offices that renamed or hid a
built-in entry still match). Optionally a text that contains exactly one
entry's code (“2025年全国科普日”) or is contained in exactly one (“科普日”) matches it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from db.catalogs import CatalogItem

GROUP_SYNONYMS: dict[str, str] = {
    "村民": "农民", "农户": "农民", "农村居民": "农民", "种植户": "农民", "养殖户": "农民",
    "种养殖户": "农民", "农民群众": "农民", "新型职业农民": "农民", "高素质农民": "农民",
    "居民": "社区居民", "城市居民": "社区居民", "市民": "社区居民", "社区群众": "社区居民",
    "群众": "社区居民",
    "教师": "科学教师", "老师": "科学教师", "科技辅导员": "科学教师", "科学老师": "科学教师",
    "职工": "产业工人", "工人": "产业工人", "企业职工": "产业工人", "员工": "产业工人",
    "劳动者": "产业工人", "农民工": "产业工人",
    "干部": "领导干部和公务员", "公务员": "领导干部和公务员", "领导干部": "领导干部和公务员",
    "机关干部": "领导干部和公务员", "党员干部": "领导干部和公务员",
    "学生": "青少年", "中小学生": "青少年", "小学生": "青少年", "中学生": "青少年",
    "儿童": "青少年", "少年儿童": "青少年", "未成年人": "青少年",
    "老人": "老年人", "老年": "老年人", "老年群体": "老年人", "长者": "老年人",
    "女性": "妇女", "农村妇女": "妇女",
    "快递员": "新业态从业人员", "外卖员": "新业态从业人员", "网约工": "新业态从业人员",
    "网约车司机": "新业态从业人员", "新就业形态劳动者": "新业态从业人员",
    "科研人员": "科技工作者", "农技人员": "农技员", "农业技术人员": "农技员",
}
FORM_SYNONYMS: dict[str, str] = {
    "讲座": "讲座", "报告": "讲座", "报告会": "讲座", "科普讲座": "讲座", "讲堂": "讲座",
    "宣讲": "讲座", "讲课": "讲座", "授课": "讲座", "科普报告": "讲座",
    "展览": "展览", "展示": "展览", "科普展": "展览", "展出": "展览", "科普展览": "展览",
    "展板": "展览", "图片展": "展览",
    "咨询": "宣传咨询", "宣传": "宣传咨询", "义诊": "宣传咨询", "发放资料": "宣传咨询",
    "集市": "宣传咨询", "集市宣传": "宣传咨询", "宣传咨询": "宣传咨询", "科普宣传": "宣传咨询",
    "现场咨询": "宣传咨询", "科普咨询": "宣传咨询", "宣传活动": "宣传咨询",
    "培训": "培训", "培训班": "培训", "技能培训": "培训", "实用技术培训": "培训",
    "参观": "参观研学", "研学": "参观研学", "开放日": "参观研学", "参观研学": "参观研学",
    "参观学习": "参观研学", "研学活动": "参观研学", "科普研学": "参观研学",
    "线上": "线上", "直播": "线上", "推文": "线上", "短视频": "线上", "网络": "线上",
    "线上科普": "线上", "网络直播": "线上", "公众号": "线上", "微信推文": "线上", "视频": "线上",
    "志愿": "志愿服务", "志愿服务": "志愿服务", "科技志愿服务": "志愿服务",
    "志愿者服务": "志愿服务",
    "竞赛": "竞赛", "比赛": "竞赛", "知识竞答": "竞赛", "知识竞赛": "竞赛", "竞答": "竞赛",
    "科普竞赛": "竞赛", "大赛": "竞赛",
    "其他": "其他", "其它": "其他",
}
CAMPAIGN_SYNONYMS: dict[str, str] = {
    "科普日": "全国科普日", "全国科普日活动": "全国科普日",
    "科技周": "科技活动周", "科技活动周": "科技活动周", "全国科技活动周": "科技活动周",
    "三下乡": "三下乡", "文化科技卫生三下乡": "三下乡", "科技三下乡": "三下乡",
    "科技之春": "科技之春宣传月", "防灾减灾": "防灾减灾日", "安全月": "安全生产月",
    "环境日": "世界环境日", "地球日": "世界地球日", "气象日": "世界气象日", "航天日": "中国航天日",
    "科技工作者日": "全国科技工作者日", "粮食日": "世界粮食日", "土地日": "全国土地日",
    "双创周": "双创活动周", "文明实践": "新时代文明实践科普行动",
    "其它": "其他",
}
TOPIC_SYNONYMS: dict[str, str] = {
    "健康": "卫生健康", "医疗卫生": "卫生健康", "防灾减灾": "应急避险", "应急": "应急避险",
    "安全": "安全生产", "环保": "生态环保", "生态": "生态环保", "垃圾分类": "生态环保",
    "碳达峰碳中和": "生态环保", "节能": "节约能源资源", "智慧助老": "智能技术运用",
    "智能手机": "智能技术运用", "农业技术": "农业实用技术", "农技": "农业实用技术",
    "心理": "心理健康", "反邪教": "反对封建迷信和邪教", "破除迷信": "反对封建迷信和邪教",
    "科学精神": "科学家精神", "前沿": "前沿科技", "其它": "其他",
}
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」《》")


def norm(text: object) -> str:
    """Text to compare: half-width, no spaces or quotes."""
    value = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(value.split()).translate(_QUOTES)


class CatalogMatcher:
    """Finds the entry of one catalog a piece of text means."""

    def __init__(self, items: Iterable[CatalogItem], synonyms: Mapping[str, str] = (),
                 *, partial: bool = False) -> None:
        self.items = [i for i in items]
        self._partial = partial
        by_code = {i.code: i for i in self.items}
        self._exact: dict[str, CatalogItem] = {}
        # names first, then synonyms, then codes last so that a code always wins
        for item in self.items:
            name = norm(item.name)
            for key in (name, _BRACKETS.sub("", name), *_BRACKETS.sub("", name).split("/")):
                if key:
                    self._exact.setdefault(key, item)
        for word, code in dict(synonyms).items():
            if code in by_code:
                self._exact.setdefault(norm(word), by_code[code])
        for item in self.items:
            self._exact[norm(item.code)] = item
        self._cache: dict[str, CatalogItem | None] = {}

    def match(self, text: object) -> CatalogItem | None:
        """The entry ``text`` means, or None."""
        key = norm(text)
        if not key:
            return None
        if key in self._cache:
            return self._cache[key]
        found = self._exact.get(key) or self._exact.get(_BRACKETS.sub("", key))
        if found is None and self._partial:
            found = self._contains(key)
        self._cache[key] = found
        return found

    def _contains(self, key: str) -> CatalogItem | None:
        hits = {item.id: item for word, item in self._exact.items()
                if len(word) >= 2 and (word in key or (len(key) >= 2 and key in word))}
        return next(iter(hits.values())) if len(hits) == 1 else None

    def choices(self) -> str:
        """The visible entries' names, for a message listing what is valid."""
        return "、".join(i.name for i in self.items if not i.hidden)

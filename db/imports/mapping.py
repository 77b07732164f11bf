"""Finding the header row of a sheet and which column holds which field.

Clerks' sheets name the same column many ways (身份证号 / 身份证号码 / 公民身份号码 /
“身份证号码（18位）”; 联系电话 / 手机号 / “联系电话/手机”). Header text is
normalised (full-width → half-width, no spaces or line breaks, brackets dropped)
and matched against a synonym table per field: an exact synonym first, then a
keyword the header contains. The header is the row among the first few with the
most recognised columns. The user can correct the result: a mapping is a plain
``dict`` of field key → 0-based column index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from db.errors import ValidationError
from db.imports.reader import Cell, SheetData, display_text

SCAN_ROWS = 10  # the header is looked for in this many rows at the top
Mapping = dict[str, int]


@dataclass(frozen=True)
class FieldSpec:
    """A field an import can fill: its key, Chinese label and the header names it goes by."""

    key: str
    label: str
    synonyms: tuple[str, ...]  # exact (normalised) header names
    keywords: tuple[str, ...] = ()  # a header containing one of these matches, more weakly
    required: bool = False
    fallback: str = ""  # when no column matches, the column found for this other field


def _f(key: str, label: str, synonyms: str, keywords: str = "", required: bool = False,
       fallback: str = "") -> FieldSpec:
    return FieldSpec(key, label, tuple(synonyms.split()), tuple(keywords.split()), required,
                     fallback)


TRAINEE_FIELDS: tuple[FieldSpec, ...] = (
    _f("name", "姓名", "姓名 名字 学员姓名 参训人员 参训人员姓名 人员姓名 学员 签到人 参训学员 "
       "参加人员 培训人员 参训人姓名", "姓名", required=True),
    _f("gender", "性别", "性别", "性别"),
    _f("id_number", "身份证号", "身份证号 身份证号码 公民身份号码 身份证 证件号码 证件号 身份号码 "
       "身份证件号码 公民身份证号码 身份证号18位", "身份证 身份号码 证件号"),
    _f("phone", "联系电话", "联系电话 手机号 手机号码 电话 手机 联系方式 电话号码 移动电话 "
       "联系电话手机 联系手机", "电话 手机 联系方式"),
    _f("category", "人员类别", "人员类别 类别 人员类型 类型 身份 人群类别 所属人群 人群分类 "
       "人员身份 学员类别 职业 人群", "类别 人群"),
    _f("village", "村/社区", "所在村社区 村社区 村 社区 村居 所在村 所在社区 村名 村别 村居委会 "
       "所属村社区 所属村居 村社区名称 所在村居 村组", "村 社区"),
    _f("employer", "工作单位", "工作单位 单位 所在单位 单位名称 工作单位及职务 单位及职务", "单位"),
    _f("birth_date", "出生日期", "出生日期 出生年月 生日 出生年月日", "出生"),
    _f("note", "备注", "备注", "备注"),
)

ACTIVITY_FIELDS: tuple[FieldSpec, ...] = (
    _f("title", "活动名称", "活动名称 活动主题 名称 活动标题 主题 项目名称 活动项目 培训名称 "
       "课程名称 讲座题目 题目 活动名称主题", "名称 活动主题 题目", required=True,
       fallback="description"),  # ledgers that only have 活动内容 name the activity there
    _f("end_date", "结束日期", "结束日期 截止日期 结束时间 结束", "结束 截止"),
    _f("start_date", "开始日期", "活动日期 日期 开始日期 活动时间 时间 开展时间 开展日期 "
       "举办时间 举办日期 起始日期 开始时间", "日期 时间", required=True),
    _f("form", "活动形式", "活动形式 形式 活动类型 活动类别 类型 类别 活动方式 活动形式类别",
       "形式 类型"),
    _f("campaign", "主题活动", "主题活动 所属主题活动 节点活动 品牌活动 所属活动 活动节点 主题日 "
       "所属主题", "主题活动"),
    _f("channel", "线上/线下", "线上线下 线上或线下 开展方式 是否线上 线上线下活动", "线上"),
    _f("groups", "重点人群", "重点人群 参与人群 对象 受众 活动对象 服务对象 参加对象 人群 "
       "受众人群 目标人群 参与对象 受众群体", "人群 对象"),
    _f("topics", "主题领域", "主题领域 领域 内容领域 主题分类 科普主题 科普内容类别", "领域"),
    _f("projects", "重点工程", "重点工程 所属工程 工程 所属重点工程", "工程"),
    _f("village", "村/社区", "村社区 所在村社区 村 社区 村居 所在村 所在社区 村居委会"),
    _f("address", "活动地点", "活动地点 地点 地址 场所 举办地点 开展地点 活动场所 活动地址",
       "地点 场所"),
    _f("organizer", "主办单位", "主办单位 主办 组织单位 承办单位 牵头单位 举办单位 主办方 "
       "组织者 责任单位", "主办 承办 组织单位"),
    _f("co_organizers", "协办单位", "协办单位 协办 合作单位 联合单位 参与单位 协办方 配合单位",
       "协办 合作单位 联合单位"),
    _f("volunteer_hours", "志愿服务时长", "志愿服务时长 服务时长 志愿时长 志愿服务时长小时 "
       "志愿服务小时数", "时长"),
    _f("volunteers", "志愿者人次", "志愿者人次 志愿者人数 志愿者 参与志愿者 志愿者数", "志愿"),
    _f("views", "线上浏览量", "线上浏览量 浏览量 阅读量 点击量 观看人次 观看量 浏览次数 阅读次数 "
       "观看次数 线上观看人次", "浏览 阅读 点击 观看"),
    _f("materials", "发放资料", "发放资料 资料份数 发放资料份 发放宣传资料 宣传资料 资料 "
       "发放资料份数", "资料"),
    _f("media_reports", "媒体报道", "媒体报道 报道篇数 宣传报道 媒体报道篇 报道 媒体报道篇数",
       "报道"),
    _f("spending", "经费", "经费 经费元 活动经费 支出 经费支出 投入经费 金额 费用 支出金额 "
       "经费投入 活动经费元", "经费 支出 金额 费用"),
    _f("train_hours", "培训学时", "学时 培训学时 课时 培训时长 培训课时", "学时 课时"),
    _f("attend", "参与人次", "参与人次 人次 参加人数 人数 受众人数 参与人数 参加人次 受益人次 "
       "受益人数 参训人次 受众人次 覆盖人次 参训人数 参与群众", "人次 人数"),
    _f("description", "活动简介", "活动简介 简介 活动内容 内容 情况简介 活动情况 内容简介 "
       "活动概况 主要内容", "简介 概况"),
    _f("note", "备注", "备注", "备注"),
)

# Column names that are known but not imported: they help find the header row.
KNOWN_OTHER = frozenset(("序号", "编号", "序", "年龄", "签名", "签字", "本人签名", "学员签名",
                         "签到", "民族", "文化程度", "学历", "职务", "政治面貌", "签到时间", "照片",
                         "佐证材料", "附件", "填报人"))
_BRACKETED = re.compile(r"[(\[【〔<《][^)\]】〕>》]*[)\]】〕>》]")
_DROP = re.compile(r"[\s()\[\]【】〔〕<>《》*※:：、.。,，'\"“”‘’?？!！]")
MAX_HEADER_CHARS = 20  # longer text is a title or a note, not a column name


def normalize_header(value: Cell) -> tuple[str, ...]:
    """The forms of a header cell to match: “身份证号码（18位）” → (身份证号码18位, 身份证号码).

    Full-width characters become half-width, spaces, line breaks and punctuation go;
    one form keeps what was in brackets, one drops it; “联系电话/手机” also gives
    each part. Empty or over-long text gives ``()``.
    """
    if not isinstance(value, str):
        return ()
    text = unicodedata.normalize("NFKC", value)
    text = "".join(text.split())
    if not text or len(text) > MAX_HEADER_CHARS * 2:
        return ()
    forms: list[str] = []
    for candidate in (text, _BRACKETED.sub("", text)):
        for part in (candidate, *re.split(r"[/|｜\\或及]", candidate)):
            clean = _DROP.sub("", part).replace("/", "")
            if clean and len(clean) <= MAX_HEADER_CHARS and clean not in forms:
                forms.append(clean)
    return tuple(forms)


def _scores(forms: Sequence[str], fields: Sequence[FieldSpec]) -> list[tuple[int, int]]:
    """(score, field position) for each field this header may be: 3 exact, 1 keyword."""
    out = []
    for pos, spec in enumerate(fields):
        if any(f in spec.synonyms for f in forms):
            # the full text matching beats one part of it matching
            out.append((4 if forms[0] in spec.synonyms else 3, pos))
        elif any(k in f for f in forms for k in spec.keywords):
            out.append((1, pos))
    return out


def guess_mapping(header: Sequence[Cell], fields: Sequence[FieldSpec]) -> tuple[Mapping, int]:
    """Map the cells of one header row to fields; returns (mapping, score).

    Each field takes at most one column and each column at most one field; exact
    names win over keywords, then the leftmost column, then the field listed first.
    """
    candidates: list[tuple[int, int, int]] = []  # (-score, column, field position)
    known = 0
    previous: str | None = None
    for col, value in enumerate(header):
        text = value if isinstance(value, str) else ""
        if text and text == previous:
            continue  # the same text again: a merged cell (a title spanning the row)
        previous = text
        forms = normalize_header(value)
        if not forms:
            continue
        scored = _scores(forms, fields)
        if not scored and any(f in KNOWN_OTHER for f in forms):
            known += 1
        candidates.extend((-score, col, pos) for score, pos in scored)
    candidates.sort()
    mapping: Mapping = {}
    used: set[int] = set()
    score = known
    for neg, col, pos in candidates:
        key = fields[pos].key
        if key in mapping or col in used:
            continue
        mapping[key] = col
        used.add(col)
        score += -neg
    for spec in fields:
        if spec.fallback and spec.key not in mapping and spec.fallback in mapping:
            mapping[spec.key] = mapping.pop(spec.fallback)
    ordered = {spec.key: mapping[spec.key] for spec in fields if spec.key in mapping}
    return ordered, score


@dataclass(frozen=True)
class HeaderGuess:
    """Where the header is and what each column holds.

    ``row_index`` is 0-based (Excel row ``row_index + 1``); ``mapping`` is field key →
    0-based column; ``confidence`` runs from 0 (nothing recognised) to 1; ``columns``
    are the header texts, for the GUI's column pickers.
    """

    row_index: int
    mapping: Mapping
    confidence: float
    columns: tuple[str, ...]

    @property
    def excel_row(self) -> int:
        return self.row_index + 1


def _confidence(mapping: Mapping, fields: Sequence[FieldSpec]) -> float:
    if not mapping:
        return 0.0
    required = [f.key for f in fields if f.required]
    have = sum(1 for k in required if k in mapping)
    base = 0.6 * have / len(required) if required else 0.6
    return round(min(1.0, base + 0.1 * (len(mapping) - have)), 2)


def header_columns(sheet: SheetData, row_index: int) -> tuple[str, ...]:
    """The display texts of a row (to offer as column names); empty cells as 第N列."""
    row = sheet.rows[row_index] if 0 <= row_index < len(sheet.rows) else []
    out = []
    for col in range(sheet.width):
        text = display_text(row[col]).strip() if col < len(row) else ""
        out.append(" ".join(text.split()) or f"第{col + 1}列")
    return tuple(out)


def detect_header(sheet: SheetData, fields: Sequence[FieldSpec] = TRAINEE_FIELDS, *,
                  scan: int = SCAN_ROWS) -> HeaderGuess:
    """Find the header row among the first ``scan`` rows and map its columns.

    The row with the most recognised column names wins (the upper one on a tie).
    A sheet with nothing recognisable gives row 0, an empty mapping, confidence 0.
    """
    best_row, best_map, best_score = 0, {}, 0
    for index, row in enumerate(sheet.rows[:scan]):
        mapping, score = guess_mapping(row, fields)
        if score > best_score:
            best_row, best_map, best_score = index, mapping, score
    return HeaderGuess(best_row, best_map, _confidence(best_map, fields),
                       header_columns(sheet, best_row))


def remap(sheet: SheetData, row_index: int, fields: Sequence[FieldSpec] = TRAINEE_FIELDS
          ) -> HeaderGuess:
    """The guess for a header row the user picked."""
    if not 0 <= row_index < len(sheet.rows):
        raise ValidationError(f"第{row_index + 1}行不在表格范围内", field="表头行")
    mapping, _score = guess_mapping(sheet.rows[row_index], fields)
    return HeaderGuess(row_index, mapping, _confidence(mapping, fields),
                       header_columns(sheet, row_index))


def best_sheet(sheets: Sequence[SheetData], fields: Sequence[FieldSpec] = TRAINEE_FIELDS
               ) -> tuple[int, HeaderGuess]:
    """The sheet that looks most like the data (visible sheets first), with its header guess."""
    best: tuple[int, HeaderGuess] | None = None
    best_key: tuple[float, int, int] = (-1.0, 0, 0)
    for index, sheet in enumerate(sheets):
        guess = detect_header(sheet, fields)
        key = (guess.confidence, 0 if sheet.hidden else 1, len(guess.mapping))
        if best is None or key > best_key:
            best, best_key = (index, guess), key
    assert best is not None
    return best


def check_mapping(mapping: Mapping, fields: Sequence[FieldSpec], width: int | None = None
                  ) -> None:
    """Refuse a mapping that lacks a required field or uses one column twice.

    Raises:
        ValidationError: in Chinese, naming the field.
    """
    labels = {f.key: f.label for f in fields}
    for key in mapping:
        if key not in labels:
            raise ValidationError(f"未知的字段：{key}")
    for spec in fields:
        if spec.required and spec.key not in mapping:
            raise ValidationError(f"没有找到“{spec.label}”列，请在列对应中指定哪一列是{spec.label}",
                                  field=spec.label)
    seen: dict[int, str] = {}
    for key, col in mapping.items():
        if col < 0 or (width is not None and col >= width):
            raise ValidationError(f"“{labels[key]}”对应的第{col + 1}列不在表格范围内",
                                  field=labels[key])
        if col in seen:
            raise ValidationError(f"第{col + 1}列同时对应了“{seen[col]}”和“{labels[key]}”",
                                  field=labels[key])
        seen[col] = labels[key]

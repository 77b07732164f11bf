"""Tests for db.demo (synthetic demo data, small scale only: large is measured by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.database import Database, open_database
from db.demo import NOT_EMPTY, SCALES, DemoResult, generate_demo
from db.errors import KepuError, ValidationError
from db.idcard import is_valid_id_number, parse_id_number
from db.offices import OfficeInfo, create_office, get_office

YEAR = 2025


def scalar(db: Database, sql: str, *params: object) -> object:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql(sql, params).scalar()


def rows(db: Database, sql: str, *params: object) -> list[tuple[object, ...]]:
    with db.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql, params)]


def table_counts(db: Database) -> dict[str, object]:
    tables = ("activity", "activity_group", "activity_topic", "activity_project", "trainee",
              "attendance", "site", "target", "audit_log")
    return {t: scalar(db, f"SELECT count(*) FROM {t}") for t in tables}


@pytest.fixture
def demo(db: Database, office: OfficeInfo) -> DemoResult:
    return generate_demo(db, office, year=YEAR, scale="small", seed=1)


def test_small_demo_writes_the_promised_counts(db: Database, demo: DemoResult) -> None:
    assert demo.activities == scalar(db, "SELECT count(*) FROM activity") == 300
    assert demo.trainees == scalar(db, "SELECT count(*) FROM trainee") == 800
    assert demo.attendances == scalar(db, "SELECT count(*) FROM attendance") == 5000
    trainings = scalar(db, "SELECT count(*) FROM activity a JOIN catalog_entry f"
                           " ON f.id = a.form_id WHERE f.code = '培训'")
    assert demo.trainings == trainings == 60
    assert 5 <= demo.sites == scalar(db, "SELECT count(*) FROM site") <= 20
    assert 8 <= demo.targets == scalar(db, "SELECT count(*) FROM target WHERE year = ?", YEAR)
    assert demo.seconds < 3
    # every month has activities, all in the year
    months = rows(db, "SELECT DISTINCT substr(start_date, 1, 7) FROM activity ORDER BY 1")
    assert [m[0] for m in months] == [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    assert scalar(db, "SELECT count(*) FROM activity WHERE end_date < start_date"
                      " OR end_date > ?", f"{YEAR}-12-31") == 0
    # 人次 vs 人数: everybody is on a roster, some people several times
    per_person = rows(db, "SELECT count(*) FROM attendance GROUP BY trainee_id")
    assert len(per_person) == 800
    assert max(n for (n,) in per_person) >= 3
    # a few trainings without a roster carry an entered 人次
    rosterless = scalar(
        db, "SELECT count(*) FROM activity a JOIN catalog_entry f ON f.id = a.form_id"
            " WHERE f.code = '培训' AND NOT EXISTS (SELECT 1 FROM attendance x"
            " WHERE x.activity_id = a.id) AND a.attend > 0 AND a.train_hours_x10 > 0")
    assert rosterless == 6
    assert scalar(db, "SELECT count(*) FROM activity a WHERE a.attend > 0 AND EXISTS"
                      " (SELECT 1 FROM attendance x WHERE x.activity_id = a.id)") == 0
    assert scalar(db, "SELECT count(*) FROM activity a WHERE NOT EXISTS"
                      " (SELECT 1 FROM activity_group g WHERE g.activity_id = a.id)") == 0


def test_demo_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    def content(folder: str, seed: int) -> list[tuple[object, ...]]:
        database = open_database(tmp_path / folder / "kepu.sqlite", create=True)
        try:
            with database.write() as s:
                create_office(s, "金井镇", "350582103", "镇", "福建省泉州市晋江市", 58000)
            with database.session() as s:
                office = get_office(s)
            generate_demo(database, office, year=YEAR, scale="small", seed=seed)
            return rows(database, "SELECT start_date, title, attend, views FROM activity"
                                  " ORDER BY start_date, title, attend, views") + rows(
                database, "SELECT name, id_number, phone FROM trainee ORDER BY 1, 2, 3") + rows(
                database, "SELECT code, value FROM target ORDER BY code")
        finally:
            database.close()

    first = content("a", 7)
    assert first == content("b", 7)
    assert first != content("c", 8)


def test_trainee_id_numbers_are_valid_and_unique(db: Database, demo: DemoResult) -> None:
    people = rows(db, "SELECT id_number, gender, birth_date FROM trainee")
    numbers = [n for n, _g, _b in people if n is not None]
    assert len(numbers) == len(set(numbers))
    assert 0 < len(people) - len(numbers) < 0.06 * len(people)  # about 3% without one
    for number, gender, birth in people:
        if number is None:
            assert birth is None
            continue
        assert is_valid_id_number(number)
        info = parse_id_number(number)
        assert (info.gender, info.birth_date.isoformat()) == (gender, birth)
    phones = [p for (p,) in rows(db, "SELECT phone FROM trainee WHERE phone != ''")]
    assert len(phones) > 0.7 * len(people)
    assert all(len(p) == 11 and p.isdigit() and p[0] == "1" for p in phones)


def test_campaigns_fall_in_their_months(db: Database, demo: DemoResult) -> None:
    by_campaign = rows(db, "SELECT c.code, substr(a.start_date, 6, 5) FROM activity a"
                           " JOIN catalog_entry c ON c.id = a.campaign_id")
    assert 0 < len(by_campaign) < 150  # most activities have no campaign
    months = {code: {md[:2] for c, md in by_campaign if c == code} for code, _ in by_campaign}
    assert months["全国科普日"] == {"09"}
    assert months.get("科技活动周", {"05"}) == {"05"}
    for code, md in by_campaign:
        if code == "防灾减灾日":
            assert md == "05-12"
        if code == "全国科普日":
            assert "09-15" <= md <= "09-21"


def test_online_activities_count_views_not_attendance(db: Database, demo: DemoResult) -> None:
    online = rows(db, "SELECT a.online, a.attend, a.views FROM activity a"
                      " JOIN catalog_entry f ON f.id = a.form_id WHERE f.code = '线上'")
    assert len(online) == 24
    assert all(o == 1 and attend == 0 and views > 0 for o, attend, views in online)
    assert scalar(db, "SELECT count(*) FROM activity WHERE online = 0 AND views > 0") == 0


def test_group_breakdowns_never_exceed_attend(db: Database, demo: DemoResult) -> None:
    split = rows(db, "SELECT a.attend, sum(g.attend) FROM activity a JOIN activity_group g"
                     " ON g.activity_id = a.id WHERE g.attend IS NOT NULL GROUP BY a.id")
    assert split  # some activities have a breakdown
    assert all(total <= attend for attend, total in split)


def test_database_checks_pass_afterwards(db: Database, demo: DemoResult) -> None:
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(db, "PRAGMA foreign_key_check") == []
    audit = rows(db, "SELECT action, table_name, note FROM audit_log WHERE action = 'demo'")
    assert audit == [("demo", "office", f"生成演示数据：{YEAR}年，small 规模")]


def test_second_run_is_refused_and_writes_nothing(db: Database, office: OfficeInfo,
                                                  demo: DemoResult) -> None:
    before = table_counts(db)
    with pytest.raises(KepuError, match=NOT_EMPTY):
        generate_demo(db, office, year=YEAR - 1, scale="small", seed=2)
    assert table_counts(db) == before


def test_unknown_scale_is_a_validation_error(db: Database, office: OfficeInfo) -> None:
    assert set(SCALES) == {"small", "large"}
    with pytest.raises(ValidationError):
        generate_demo(db, office, year=YEAR, scale="huge")
    assert scalar(db, "SELECT count(*) FROM activity") == 0


def test_progress_is_reported(db: Database, office: OfficeInfo) -> None:
    seen: list[tuple[int, str]] = []
    generate_demo(db, office, year=YEAR, progress=lambda p, m: seen.append((p, m)))
    percents = [p for p, _m in seen]
    assert percents[0] == 0 and percents[-1] == 100
    assert percents == sorted(percents)
    assert all(isinstance(m, str) and m for _p, m in seen)


def test_second_office_gets_its_own_demo_with_distinct_ids(db: Database,
                                                           demo: DemoResult) -> None:
    with db.write() as s:
        street = create_office(s, "青阳街道", "350582001", "街道", "福建省泉州市晋江市", 90000)
    result = generate_demo(db, street, year=YEAR, scale="small", seed=1)  # same seed
    assert result.activities == 300
    assert scalar(db, "SELECT count(*) FROM activity") == 600
    villages = {v for (v,) in rows(db, "SELECT DISTINCT village FROM activity"
                                       " WHERE office_id = ? AND village != ''", street.id)}
    assert villages and all(v.endswith("社区") for v in villages)
    organizers = rows(db, "SELECT DISTINCT organizer FROM activity WHERE office_id = ?", street.id)
    assert organizers == [("青阳街道科协",)]
    assert rows(db, "PRAGMA foreign_key_check") == []


def test_targets_the_office_already_set_are_kept(db: Database, office: OfficeInfo) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO target (office_id, year, code, value)"
                             " VALUES (?, ?, 'act.count', '123')", (office.id, YEAR))
    result = generate_demo(db, office, year=YEAR)
    assert scalar(db, "SELECT value FROM target WHERE code = 'act.count'") == "123"
    assert result.targets == scalar(db, "SELECT count(*) FROM target") - 1

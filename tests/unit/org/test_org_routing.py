"""Keyword routing: whole words, explicit priorities, deterministic ties (LESSONS W20, §9 item 13)."""

from __future__ import annotations

import pytest

from corthex.domain.org import Agent, Department, KeywordRule, Org
from corthex.domain.routing import (
    PARTICLES,
    Route,
    classify_by_keywords,
    is_broadcast,
    keyword_matches,
    tokenize,
)
from corthex.org import load_org

ORG = load_org()


def _agent(agent_id: str) -> Agent:
    return Agent(agent_id, agent_id.title(), "claude-haiku-4-5", "You help. Answer in text only.")


def _dept(dept_id: str, *rules: tuple[str, int]) -> Department:
    return Department(
        dept_id, dept_id.upper(), "test", _agent(f"{dept_id}_manager"), (), tuple(KeywordRule(k, p) for k, p in rules)
    )


def _org(*departments: Department, broadcast: tuple[str, ...] = ()) -> Org:
    return Org(
        departments=(_dept("boss"), *departments),
        chief_of_staff="boss",
        broadcast_keywords=broadcast,
        broadcast_departments=(),
        classifier_model="claude-haiku-4-5",
    )


# -- the W20 collisions, on the default org ---------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "department"),
    [
        ("주식시장 전망 분석해줘", "cio"),  # was CSO: "시장" inside "주식시장"
        ("주식 시장 전망", "cio"),  # 주식 (90) beats 시장 (50)
        ("analyse the stock market outlook", "cio"),
        ("what is the market doing to my stocks", "cio"),
        ("시장을 분석해", "cso"),  # 시장 + particle
        ("market research for a new product", "cso"),
        ("IP 분쟁 대응", "clo"),
        ("IP를 어떻게 보호하지", "clo"),  # IP + particle
        ("IP분쟁 대응", "clo"),  # a change of script separates words
        ("VIP 고객 관리", "cmo"),  # was CLO: "IP" inside "VIP"
        ("회의록 정리", "cpo"),  # was a broadcast: "회의" inside "회의록"
        ("투자 전략 세워줘", "cio"),  # "전략" is CSO's only, at a low priority
        ("마케팅 전략", "cmo"),
        ("특허 전략", "clo"),
        ("전략 세워줘", "cso"),
        ("서버 배포가 실패했어", "cto"),
        ("Fix the login bug on the website", "cto"),
        ("다음 주 일정 잡아줘", "chief_of_staff"),
    ],
)
def test_default_org_routes_each_collision_to_the_right_department(command: str, department: str) -> None:
    route = classify_by_keywords(ORG, command)
    assert route is not None, command
    assert route.department_id == department, (command, route)
    assert route.method == "keyword"


@pytest.mark.parametrize("command", ["ZIP 파일 압축 풀어줘", "VIP", "오늘 날씨 어때", "hello there", ""])
def test_default_org_routes_nothing_without_a_whole_word_keyword(command: str) -> None:
    assert classify_by_keywords(ORG, command) is None


@pytest.mark.parametrize(
    ("command", "keyword"),
    [
        ("전체 부서 현황 보고", "현황 보고"),  # the longest match is reported
        ("전체 보고해", "전체"),
        ("모든 부서에 알려줘", "모든 부서"),  # multi-word, particle on the last word
        ("각 부서별로 정리", "각 부서"),
        ("회의에 들어갈 자료", "회의"),
        ("출석체크 해줘", "출석체크"),
        ("Send this to ALL departments", "all departments"),
        ("everyone, report in", "everyone"),
    ],
)
def test_broadcast_keywords_match_whole_words(command: str, keyword: str) -> None:
    assert is_broadcast(ORG, command) == keyword


@pytest.mark.parametrize(
    "command",
    [
        "회의록 정리",
        "전체적으로 검토해줘",
        "모든 사람",
        "부서 각각",
        "departments of all kinds",
        "출석부 확인",
        "an all-hands department",
    ],
)
def test_words_that_only_contain_a_broadcast_keyword_are_not_broadcasts(command: str) -> None:
    assert is_broadcast(ORG, command) is None


# -- whole-word matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "matches"),
    [
        ("IP", "IP", True),
        ("IP", "ip address", True),
        ("IP", "(IP)", True),
        ("IP", "ip_address", True),  # the underscore separates words
        ("IP", "VIP", False),
        ("IP", "ZIP", False),
        ("IP", "IPO", False),
        ("IP", "ＩＰ", True),  # full-width letters are normalized
        ("시장", "시장", True),
        ("시장", "시장을", True),
        ("시장", "시장에서는", True),
        ("시장", "주식시장", False),
        ("시장", "시장님", False),  # not a particle
        ("회의", "회의록", False),
        ("회의", "회의에", True),
        ("전체", "전체적으로", False),
        ("모든 부서", "모든 부서가", True),
        ("모든 부서", "모든부서", False),  # the words are separate in the keyword
        ("모든 부서", "모든 사람과 부서", False),
        ("stock market", "Stock-Market", True),
        ("stock", "stocks", False),
    ],
)
def test_keyword_matches_whole_words_only(keyword: str, text: str, matches: bool) -> None:
    assert keyword_matches(keyword, tokenize(text)) is matches


def test_hangul_decomposed_into_jamo_is_normalized() -> None:
    import unicodedata

    assert keyword_matches("시장", tokenize(unicodedata.normalize("NFD", "시장을 봐")))


def test_the_particles_are_all_hangul_suffixes() -> None:
    assert {
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "에",
        "에서",
        "에게",
        "의",
        "로",
        "으로",
        "와",
        "과",
        "도",
        "만",
        "부터",
        "까지",
    } <= PARTICLES
    assert all(tokenize(p) == (p,) for p in PARTICLES)


# -- priorities and ties ------------------------------------------------------------------------------


def test_the_highest_priority_wins_wherever_the_keyword_is() -> None:
    org = _org(_dept("low", ("market", 10)), _dept("high", ("stock", 90)))
    assert classify_by_keywords(org, "market then stock") == Route("high", "stock")
    assert classify_by_keywords(org, "stock then market") == Route("high", "stock")


def test_a_priority_tie_goes_to_the_longer_keyword() -> None:
    org = _org(_dept("short", ("ai", 50)), _dept("long", ("model", 50)))
    assert classify_by_keywords(org, "ai model") == Route("long", "model")


def test_a_full_tie_goes_to_the_department_listed_first() -> None:
    first, second = _dept("first", ("plan", 50)), _dept("second", ("code", 50))
    assert classify_by_keywords(_org(first, second), "code plan") == Route("first", "plan")
    assert classify_by_keywords(_org(second, first), "code plan") == Route("second", "code")


def test_within_a_department_the_rule_listed_first_is_reported() -> None:
    org = _org(_dept("d", ("alpha", 50), ("gamma", 50)))
    assert classify_by_keywords(org, "gamma alpha") == Route("d", "alpha")


def test_broadcast_prefers_the_longest_then_the_first_listed() -> None:
    org = _org(broadcast=("all", "everyone", "all hands"))
    assert is_broadcast(org, "all hands, everyone") == "all hands"
    assert is_broadcast(_org(broadcast=("abc", "xyz")), "xyz abc") == "abc"


def test_an_org_without_keywords_routes_nothing() -> None:
    assert classify_by_keywords(_org(_dept("d")), "anything at all") is None
    assert is_broadcast(_org(), "전체 모든 부서") is None

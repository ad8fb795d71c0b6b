"""The catalogue of what CORTHEX says (corthex.i18n): every language has every key, with the same
fields, and the language is chosen as documented (issue 16 item 10)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from corthex.i18n import CATALOGUE, EN, KO, choose_language, dashboard_strings, language_of, step_name, text


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_every_key_with_the_same_fields() -> None:
    assert set(CATALOGUE) == {"ko", "en"}
    assert set(KO) == set(EN)
    for key in EN:
        assert fields(KO[key]) == fields(EN[key]), key


def test_text_fills_fields_and_falls_back_to_english() -> None:
    assert text("ko", "start_failed", reason="예산 초과") == "❌ 체인을 시작하지 못했습니다: 예산 초과"
    assert text("fr", "status.none") == "No chains are running."
    assert step_name("ko", "specialists") == "전문가" and step_name("ko", "new_step") == "new_step"


@pytest.mark.parametrize(
    ("code", "expected"), [("ko", "ko"), ("ko-KR", "ko"), ("en_US", "en"), ("EN", "en"), ("de", None), (None, None)]
)
def test_language_tags(code: str | None, expected: str | None) -> None:
    assert language_of(code) == expected


@pytest.mark.parametrize(
    ("setting", "timezone", "user", "expected"),
    [
        ("en", "Asia/Seoul", "ko", "en"),
        (None, "Asia/Seoul", "en", "ko"),
        (None, "UTC", "ko-KR", "ko"),
        (None, "UTC", "ja", "en"),
        (None, None, None, "en"),
    ],
)
def test_choose_language(setting: str | None, timezone: str | None, user: str | None, expected: str) -> None:
    assert choose_language(setting, timezone, user) == expected


DASHBOARD = Path(__file__).resolve().parents[2] / "src" / "corthex" / "api" / "dashboard"
#: keys named literally in the dashboard: t("key") in its modules, data-i18n*="key" in its page
LITERAL_KEY = re.compile(r"""\bt\("([a-z_]+\.[a-z_.]+)"|data-i18n(?:-[a-z]+)?="([^"]+)\"""")


def test_the_dashboard_strings_are_the_dash_keys_and_the_steps_in_both_languages() -> None:
    ko, en = dashboard_strings("ko"), dashboard_strings("en")
    assert set(ko) == set(en) and len(en) > 100
    assert en["tab.jobs"] == "Jobs" and ko["tab.jobs"] == "작업" and ko["step.specialists"] == "전문가"
    assert dashboard_strings("fr") == en
    for key in en:
        assert fields(ko[key]) == fields(en[key]), key


def test_every_key_the_dashboard_names_is_in_the_catalogue() -> None:
    sources = [*DASHBOARD.glob("*.js"), DASHBOARD / "index.html"]
    named = {a or b for path in sources for a, b in LITERAL_KEY.findall(path.read_text())}
    assert len(named) > 80
    assert named - set(dashboard_strings("en")) == set()

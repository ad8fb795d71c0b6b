"""The catalogue of what CORTHEX says (corthex.i18n): every language has every key, with the same
fields, and the language is chosen as documented (issue 16 item 10)."""

from __future__ import annotations

import string

import pytest

from corthex.i18n import CATALOGUE, EN, KO, choose_language, language_of, step_name, text


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

"""A Korean operator on Telegram (issue 16 item 10): plain text starts a batch chain, the bot speaks
Korean (or English, by CORTHEX_LANGUAGE, the time zone, or the user's Telegram language), and a
chain's progress is ONE message edited in place, with agents' display names from the org."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, CHAT_B, TOKEN, telegram_chains, wait_chain_end

from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.telegram import TelegramService

SCHEDULE = "안녕, 오늘 일정 알려줘"  # "일정" (schedule) → the chief of staff's office
SNAKE_ID = re.compile(r"\b[a-z]+(?:_[a-z]+)*_specialist\b")  # e.g. schedule_specialist


@pytest.fixture
def settings_overrides(fake: FakeBotApi) -> dict[str, Any]:
    """No CORTHEX_LANGUAGE: the time zone (Asia/Seoul, the default) makes the bot Korean."""
    return {
        "max_attempts": 1,
        "telegram_bot_token": TOKEN,
        "telegram_chat_ids": f"{CHAT_A}, {CHAT_B}",
        "telegram_base_url": fake.base_url,
    }


async def wait_korean_report(fake: FakeBotApi, chat: int, within: float = 45) -> list[str]:
    def complete() -> list[str] | None:
        parts = [t for t in fake.texts(chat) if "체인 보고서" in t or re.match(r"\(\d+/\d+\)\n", t)]
        return parts if parts and "💰 비용" in parts[-1] else None

    return await fake.wait_for(complete, within, f"a Korean report in chat {chat}")


async def test_plain_korean_text_starts_a_batch_chain_answered_in_korean_with_one_progress_message(
    fake: FakeBotApi, engine: Engine, settings: Settings, worker: None
) -> None:
    assert settings.language is None and settings.timezone == "Asia/Seoul"
    fake.message(CHAT_A, SCHEDULE, language_code="en")  # the time zone wins over the app's language
    parts = await wait_korean_report(fake, CHAT_A)
    [chain] = await telegram_chains(engine)
    chain = await wait_chain_end(engine, chain.id)
    assert chain.command == SCHEDULE and not chain.realtime and not chain.broadcast
    assert chain.departments == ("chief_of_staff",)

    sent = fake.to(CHAT_A)
    progress = [s for s in sent if s.visible not in parts]
    assert len(progress) == 1, [s.visible for s in sent]  # one progress message…
    board = progress[0]
    assert board.edits >= 2 and all(chat == CHAT_A for chat, _ in fake.edits)  # …edited in place
    assert len(sent) == 1 + len(parts)  # nothing else was sent: progress, then the report
    assert f"체인 {chain.id} 시작 (배치)" in board.visible and "첫 단계 위임" in board.visible
    assert "✔ 위임 완료" in board.visible and "▶ 전문가: 요청 3건 전송" in board.visible
    for name in ("Schedule Specialist", "Report Specialist", "Relay Specialist"):
        assert name in board.visible  # display names from the org…
    assert not SNAKE_ID.search(board.visible), board.visible  # …never the snake_case ids
    assert parts[0].startswith(f"📦 체인 보고서 {chain.id} (배치)")
    assert re.search(r"💰 비용 \$[\d.]+ · 실시간 가격 \$[\d.]+ · 절감 \$[\d.]+ \(50%\)", parts[-1])


async def test_a_broadcast_is_one_progress_message_with_display_names(
    fake: FakeBotApi, engine: Engine, worker: None
) -> None:
    fake.message(CHAT_B, "/broadcast 전체 부서 현황 보고 부탁합니다")
    parts = await wait_korean_report(fake, CHAT_B, within=60)
    [chain] = await telegram_chains(engine)
    await wait_chain_end(engine, chain.id)
    progress = [s for s in fake.to(CHAT_B) if s.visible not in parts]
    assert len(progress) == 1, [s.visible[:60] for s in progress]  # was 35+ messages
    board = progress[0].visible
    assert progress[0].edits >= 3 and f"체인 {chain.id} 시작 (배치 · 전체 부서)" in board
    assert "Chief of Staff" in board and "Frontend Specialist" in board and "Infrastructure Specialist" in board
    assert not SNAKE_ID.search(board), board
    assert board.count("✔") >= 20  # every agent's answer is on the one message


@pytest.mark.parametrize(
    ("setting", "timezone", "user_code", "expected"),
    [
        (None, "Asia/Seoul", "en-US", "ko"),  # the Korean time zone
        (None, "UTC", "ko", "ko"),  # the user's Telegram language
        (None, "UTC", "en-GB", "en"),
        (None, "UTC", "de", "en"),  # a language we do not have: English
        (None, "UTC", None, "en"),
        ("en", "Asia/Seoul", "ko", "en"),  # CORTHEX_LANGUAGE wins
        ("ko", "Europe/Berlin", "de", "ko"),
    ],
)
async def test_the_bot_speaks_the_chosen_language(
    fake: FakeBotApi,
    engine: Engine,
    service: TelegramService,
    setting: str | None,
    timezone: str,
    user_code: str | None,
    expected: str,
) -> None:
    engine.settings.language, engine.settings.timezone = setting, timezone
    fake.message(CHAT_A, "/help", language_code=user_code)
    fake.message(CHAT_A, "/frobnicate", language_code=user_code)
    fake.message(CHAT_A, "/batch", language_code=user_code)
    texts = await fake.wait_for(lambda: fake.texts(CHAT_A) if len(fake.texts(CHAT_A)) >= 3 else None, what="3")
    if expected == "ko":
        assert texts[0].startswith("CORTHEX 명령어") and "그냥 글을 보내도 배치 체인이 시작됩니다" in texts[0]
        assert texts[1:] == ["알 수 없는 명령입니다. /help 로 명령어를 확인하세요.", "사용법: /batch <명령>"]
    else:
        assert texts[0].startswith("CORTHEX commands") and "Plain text starts a batch chain" in texts[0]
        assert texts[1:] == ["Unknown command. Send /help for the commands.", "Usage: /batch <command>"]


def test_corthex_language_is_checked(tmp_path: Any) -> None:
    assert Settings(_env_file=None, language="KO").language == "ko"
    assert Settings(_env_file=None, language="").language is None
    with pytest.raises(ValueError, match="unknown language 'fr': give one of ko, en"):
        Settings(_env_file=None, language="fr")


def test_step_lines_name_managers_and_specialists_by_their_display_names() -> None:
    from corthex.domain.describe import describe
    from corthex.domain.events import ChainStepSubmitted
    from corthex.org.loader import load_org

    org = load_org(None)
    delegate = ChainStepSubmitted(chain_id="c", step="delegate", job_id="j", agents=("cto", "cio"), models=("m",))
    summary = ChainStepSubmitted(chain_id="c", step="summary", job_id="j", agents=("summary",), models=("m",))
    specialists = ChainStepSubmitted(
        chain_id="c", step="specialists", job_id="j", agents=("schedule_specialist", "unknown_one"), models=("m",)
    )
    assert describe(delegate, org, "ko") == "▶ 위임: 요청 2건 전송 (m) — CTO, CIO"
    assert describe(summary, org, "en") == "▶ summary: 1 request sent (m) — Chief of Staff"
    assert describe(specialists, org, "en").endswith("— Schedule Specialist, unknown_one")
    assert describe(delegate) == "▶ delegate: 2 requests sent (m) — cto, cio"  # the CLI, as before

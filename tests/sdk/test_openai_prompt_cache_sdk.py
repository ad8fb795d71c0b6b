"""OpenAI's `prompt_cache_key` through `openai.AsyncOpenAI` against the emulator (issue 14): the
same key and prefix read the cache the first request wrote (in 128-token steps, from 1,024 on),
reported in `prompt_tokens_details.cached_tokens` (chat) and `input_tokens_details.cached_tokens`
(responses); another key is routed elsewhere and misses."""

from __future__ import annotations

SYSTEM = "너는 고객 문의를 부서별로 분류하는 상담 분석가다. 답은 한 단어로 한다. " * 90


async def test_chat_reads_the_cache_for_the_same_key_and_prefix(openai_client):
    async def ask(key: str, question: str) -> int:
        completion = await openai_client.chat.completions.create(
            model="gpt-5-mini",
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
            prompt_cache_key=key,
        )
        assert completion.usage is not None and completion.usage.prompt_tokens_details is not None
        return completion.usage.prompt_tokens_details.cached_tokens or 0

    assert await ask("상담-v1", "환불은 어디에 문의하나요?") == 0  # the first writes
    read = await ask("상담-v1", "배송 조회는 어디서 하나요?")
    assert read >= 1024 and read % 128 == 0
    assert await ask("상담-v1", "교환 절차가 궁금합니다") == read  # deterministic
    assert await ask("상담-v2", "환불은 어디에 문의하나요?") == 0  # another key: another machine


async def test_responses_reads_the_cache_for_the_same_key_and_instructions(openai_client):
    async def ask(question: str) -> int:
        response = await openai_client.responses.create(
            model="gpt-5-mini", instructions=SYSTEM, input=question, prompt_cache_key="응답-v1"
        )
        assert response.usage is not None
        return response.usage.input_tokens_details.cached_tokens

    assert await ask("영수증 재발급 문의") == 0
    assert await ask("회원 탈퇴 문의") >= 1024

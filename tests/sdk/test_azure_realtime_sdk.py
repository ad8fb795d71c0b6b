"""Review of issue 15 (review22): a realtime call through the SDK's AzureOpenAI client (the
api-version form that `compat_env` prints, OPENAI_API_VERSION set) goes to
`/openai/deployments/{deployment}/chat/completions` (openai/lib/azure.py `_deployments_endpoints`);
the emulator maps `/azure/openai/...` to `/openai/v1/deployments/...`, which no route serves."""

from __future__ import annotations

import openai

from corthex.emulator import EmulatorServer


async def test_azure_api_version_client_realtime_chat_reaches_the_emulator(emulator: EmulatorServer) -> None:
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=f"{emulator.url}/azure",
        api_key="azure-test-key",
        api_version="2025-04-01-preview",
        max_retries=0,
    )
    try:
        answer = await client.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "배송이 빨라서 좋았어요"}]
        )
    finally:
        await client.close()
    assert answer.choices[0].message.content

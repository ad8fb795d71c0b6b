"""Polling many batches with one list call per page (issue 18, "Polling at scale"): each adapter's
`poll_many` through its official SDK against the emulator's list endpoints, paged small so that
the pages, the cursor and the stop at the oldest batch are exercised: the statuses are the ones
`poll` (retrieve) gives, with no retrieve made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from mistralai.client import Mistral
from sdk_support import MODELS, make_gemini_client

import corthex.providers.anthropic as anthropic
import corthex.providers.gemini as gemini
import corthex.providers.mistral as mistral
import corthex.providers.openai as openai
import corthex.providers.vertex as vertex
from corthex.domain.batches import RemoteRef, RemoteStatus
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.emulator import EmulatorServer, Fault
from corthex.providers import WireItem, bedrock
from corthex.providers.azure import AzureProvider
from corthex.providers.base import Provider
from corthex.providers.bedrock import BedrockProvider
from corthex.providers.registry import compatible_profile
from corthex.providers.vertex import VertexProvider
from corthex.testing.s3 import LocalS3

KOREAN = "이 리뷰를 긍정 또는 부정으로 분류해 주세요: 배송이 빨라서 좋았어요"
MISTRAL = ProviderName("mistral")
PAGE = 2  #: list page size in these tests (the real ones are 100 or 1000)


@pytest.fixture
async def mistral_provider(tmp_path, emulator: EmulatorServer) -> AsyncIterator[mistral.MistralProvider]:
    async with Mistral(api_key="emulator-mistral-key", server_url=f"{emulator.url}/mistral") as sdk:
        yield mistral.MistralProvider(tmp_path, client=sdk)


@pytest.fixture
async def gemini_lister(tmp_path, emulator: EmulatorServer) -> AsyncIterator[gemini.GeminiProvider]:
    client = make_gemini_client(emulator, "v1beta")
    yield gemini.GeminiProvider(tmp_path, client=client)
    await client.aio.aclose()
    client.close()


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> None:
    emulator.state.reset()
    for module in (openai, anthropic, gemini, mistral, bedrock, vertex):
        monkeypatch.setattr(module, "LIST_PAGE", PAGE)
    # every batch stays open: its status cannot move between the list and the retrieve compared
    emulator.state.add_fault(Fault("*", "create", "never_end"))


def _items(provider: ProviderName, n: int, tag: str) -> list[WireItem]:
    model = "mistral-small-latest" if provider == MISTRAL else MODELS[provider]
    return [
        WireItem(f"{tag}-{i}", LLMRequest(f"q{i}", model, provider, (Message("user", f"{KOREAN} {i}"),)))
        for i in range(n)
    ]


async def _open(provider: Provider, n: int) -> list[RemoteRef]:
    """`n` open batches, oldest first, of 1, 2, … requests (so their totals tell them apart)."""
    name = provider.name
    model = "mistral-small-latest" if name == MISTRAL else MODELS.get(name)
    return [await provider.submit(f"key{i}", model, _items(name, i + 1, f"b{i}")) for i in range(n)]


def _calls(emulator: EmulatorServer, name: str) -> dict[str, int]:
    calls: dict[str, int] = emulator.state.stats()[name]["calls"]
    return {"list": calls.get("list", 0), "retrieve": calls.get("retrieve", 0)}


def _agrees(listed: RemoteStatus, retrieved: RemoteStatus) -> bool:
    """The list's status is the one retrieve gives: the same state, total and error; the counts
    read a moment before (a batch held running still advances its counts)."""
    same = (listed.state, listed.raw_status, listed.total, listed.error)
    if same != (retrieved.state, retrieved.raw_status, retrieved.total, retrieved.error):
        return False
    return listed.done <= retrieved.done and listed.failed <= retrieved.failed


@pytest.fixture
def adapter(request: pytest.FixtureRequest) -> Provider:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


# (the fixture, its emulator name, list calls for the 3 oldest of 5 batches at 2 a page)
LISTERS = [
    pytest.param("openai_provider", "openai", 3, id="openai"),
    pytest.param("anthropic_provider", "anthropic", 3, id="anthropic"),
    pytest.param("gemini_lister", "gemini", 3, id="gemini"),
    pytest.param("mistral_provider", "mistral", 3, id="mistral"),
]


@pytest.mark.parametrize(("adapter", "name", "pages"), LISTERS, indirect=["adapter"])
async def test_poll_many_reads_the_statuses_retrieve_gives_from_list_pages(
    adapter: Provider, name: str, pages: int, emulator: EmulatorServer
) -> None:
    refs = await _open(adapter, 5)
    wanted = refs[:3]  # the oldest three: on the second and third page, newest first
    since = datetime.now(UTC) - timedelta(minutes=1)
    before = _calls(emulator, name)
    listed = await adapter.poll_many(wanted, since)
    after = _calls(emulator, name)
    assert after == {"list": before["list"] + pages, "retrieve": before["retrieve"]}
    assert adapter.lists_statuses
    assert set(listed) == {ref.remote_id for ref in wanted}
    for ref in wanted:
        assert _agrees(listed[ref.remote_id], await adapter.poll(ref))
    assert sorted(status.total for status in listed.values()) == [1, 2, 3]


@pytest.mark.parametrize(
    ("adapter", "name"),
    [pytest.param(p.values[0], p.values[1], id=p.id) for p in LISTERS if p.id != "gemini"],
    indirect=["adapter"],
)
async def test_a_batch_not_listed_is_left_out_and_paging_stops_at_the_oldest(
    adapter: Provider, name: str, emulator: EmulatorServer
) -> None:
    """Lists newest first: a page that reaches batches created before `since` is the last one."""
    refs = await _open(adapter, 5)
    missing = RemoteRef("batch_not_there", {})
    before = _calls(emulator, name)["list"]
    listed = await adapter.poll_many([refs[4], missing], datetime.now(UTC) + timedelta(minutes=5))
    assert set(listed) == {refs[4].remote_id}  # the newest is on the first page
    assert _calls(emulator, name)["list"] == before + 1  # and that page's older ones end it


async def test_gemini_pages_are_bounded_when_a_batch_is_not_listed(
    gemini_lister: Provider, emulator: EmulatorServer
) -> None:
    """Gemini documents no list order: it reads at most twice the pages its refs fill, plus one."""
    refs = await _open(gemini_lister, 9)
    missing = RemoteRef("batches/not-there", {"count": 1})
    before = _calls(emulator, "gemini")["list"]
    listed = await gemini_lister.poll_many([refs[8], refs[0], missing], datetime.now(UTC))
    # 3 refs at 2 a page fill 2 pages: 5 pages read of the 5 there are, the oldest on the last
    assert set(listed) == {refs[8].remote_id, refs[0].remote_id}
    assert _calls(emulator, "gemini")["list"] == before + 5
    before = _calls(emulator, "gemini")["list"]
    listed = await gemini_lister.poll_many([refs[0], missing], datetime.now(UTC))
    assert listed == {}  # 2 refs fill 1 page: 3 pages read, the oldest (on the fifth) left to retrieve
    assert _calls(emulator, "gemini")["list"] == before + 3


async def test_a_compatible_server_keeps_retrieve_unless_its_profile_says_its_list_fits(tmp_path) -> None:
    fields = {"base_url": "https://api.groq.com/openai/v1", "key_variable": "GROQ_API_KEY"}
    groq = compatible_profile("groq", fields, "test")
    assert not openai.OpenAIProvider(tmp_path, profile=groq).lists_statuses
    opted = replace(groq, options={**groq.options, "list_polling": "true"})
    assert openai.OpenAIProvider(tmp_path, profile=opted).lists_statuses
    assert openai.OpenAIProvider(tmp_path).lists_statuses  # OpenAI's own


# --- Bedrock: ListModelInvocationJobs pages with nextToken ------------------------------------


def _bedrock_items(n: int) -> list[WireItem]:
    bedrock_name = ProviderName("bedrock")
    return [
        WireItem(f"w{i}", LLMRequest(f"c{i}", "claude-haiku-4-5", bedrock_name, (Message("user", f"{KOREAN} {i}"),)))
        for i in range(n)
    ]


async def test_bedrock_lists_jobs_a_page_at_a_time_through_boto3_and_the_adapter_reads_them(
    bedrock_env: LocalS3, tmp_path, emulator: EmulatorServer
) -> None:
    adapter = BedrockProvider(tmp_path)
    refs = [await adapter.submit(f"batch-l{i}", "claude-haiku-4-5", _bedrock_items(i + 1)) for i in range(5)]
    client = boto3.session.Session().client("bedrock")
    pages = list(client.get_paginator("list_model_invocation_jobs").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["invocationJobSummaries"]) for page in pages] == [2, 2, 1]  # nextToken, as botocore pages
    listed = [job["jobArn"] for page in pages for job in page["invocationJobSummaries"]]
    assert listed == [ref.remote_id for ref in reversed(refs)]  # newest first
    with pytest.raises(ClientError, match="ValidationException"):
        client.list_model_invocation_jobs(nextToken="not-a-token")

    before = _calls(emulator, "bedrock")
    statuses = await adapter.poll_many(refs[:3], datetime.now(UTC) - timedelta(minutes=1))
    assert _calls(emulator, "bedrock") == {"list": before["list"] + 3, "retrieve": before["retrieve"]}
    assert sorted(status.total for status in statuses.values()) == [1, 2, 3]  # the filler records left out
    for ref in refs[:3]:
        assert _agrees(statuses[ref.remote_id], await adapter.poll(ref))


# --- Vertex: batchPredictionJobs.list pages with pageToken ------------------------------------


@pytest.mark.usefixtures("vertex_env")
async def test_vertex_reads_its_jobs_statuses_from_list_pages(tmp_path, emulator: EmulatorServer) -> None:
    adapter = VertexProvider(tmp_path)
    vertex_name = ProviderName("vertex")
    try:
        refs = []
        for i in range(5):
            batch = [
                WireItem(f"w{j}", LLMRequest(f"q{j}", "gemini-2.5-flash", vertex_name, (Message("user", KOREAN),)))
                for j in range(i + 1)
            ]
            refs.append(await adapter.submit(f"vertex-l{i}", "gemini-2.5-flash", batch))
        before = _calls(emulator, "vertex")
        statuses = await adapter.poll_many(refs[:3], datetime.now(UTC))
        assert _calls(emulator, "vertex") == {"list": before["list"] + 3, "retrieve": before["retrieve"]}
        assert sorted(status.total for status in statuses.values()) == [1, 2, 3]
        for ref in refs[:3]:
            assert _agrees(statuses[ref.remote_id], await adapter.poll(ref))
        before = _calls(emulator, "vertex")
        missing = RemoteRef(refs[0].remote_id.rsplit("/", 1)[0] + "/404", {})
        assert set(await adapter.poll_many([refs[0], missing], datetime.now(UTC))) == {refs[0].remote_id}
        assert _calls(emulator, "vertex")["list"] == before["list"] + 3  # every page: a ref is not there
    finally:
        await adapter.aclose()


# --- Azure: OpenAI's list, in both URL forms ----------------------------------------------------


@pytest.mark.parametrize("form", ["api-version", "v1"])
async def test_azure_reads_its_batches_statuses_from_list_pages(form, emulator, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", f"{emulator.url}/azure")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-test-key")
    monkeypatch.setenv("CORTHEX_AZURE_DEPLOYMENTS", '{"gpt-5-mini": "gpt5mini-batch"}')
    if form == "v1":
        monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    provider = AzureProvider(tmp_path)
    azure_name = ProviderName.AZURE
    try:
        assert provider.lists_statuses
        assert await provider.poll_many([], datetime.now(UTC)) == {}  # (the emulator's Azure state now exists)
        emulator.state.compat["azure"].add_fault(Fault("openai", "create", "never_end"))  # statuses hold still
        refs = []
        for i in range(5):
            batch = [
                WireItem(f"w{j}", LLMRequest(f"c{j}", "gpt-5-mini", azure_name, (Message("user", KOREAN),)))
                for j in range(i + 1)
            ]
            refs.append(await provider.submit(f"az-{form}-{i}", "gpt-5-mini", batch))
        before = len(_list_calls(emulator))
        statuses = await provider.poll_many(refs[:3], datetime.now(UTC) - timedelta(minutes=1))
        assert len(_list_calls(emulator)) == before + 3  # 2 a page, newest first: the oldest on the third
        assert sorted(status.total for status in statuses.values()) == [1, 2, 3]
        for ref in refs[:3]:
            assert _agrees(statuses[ref.remote_id], await provider.poll(ref))
    finally:
        await provider.aclose()


def _list_calls(emulator: EmulatorServer) -> list[dict[str, Any]]:
    sent = emulator.state.compat["azure"].openai_requests
    return [r for r in sent if r["path"] == "/batches" and r["method"] == "GET"]

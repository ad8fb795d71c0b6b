"""Typed events (issue 13): each fact is a frozen dataclass whose wire form — the JSON the
dashboard gets over /ws and other processes get over NOTIFY — is exactly what the engine sent
when events were `(type, dict)` pairs; and one `describe` for the CLI, the demo and Telegram."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from corthex.domain import events as ev
from corthex.domain.describe import describe
from corthex.engine.pg_events import MAX_PAYLOAD, decode, encode
from corthex.org import load_org

COMMAND = "삼성전자 주가 전망과 신규 모바일 앱 출시 계획을 검토해 주세요"

#: (event, the wire type and data the string-typed publish sites produced for the same fact)
CASES: list[tuple[ev.Event, str, dict[str, Any]]] = [
    (ev.JobSubmitted(job_id="j1", total=3, queued=0), "job.submitted", {"job_id": "j1", "total": 3, "queued": 0}),
    (
        ev.JobCanceled(job_id="j1", canceled=4998, already_done=2, batches=3),
        "job.canceled",
        {"job_id": "j1", "canceled": 4998, "already_done": 2, "batches": 3},
    ),
    (ev.JobCompleted(job_id="j1"), "job.completed", {"job_id": "j1"}),
    (
        ev.RequestsMoved(
            job_id="j1",
            requests=40,
            tier="realtime",
            deadline=1.7e9,
            predicted_end=1.7e9 + 60,
            batch_id="b1",
            provider="openai",
        ),
        "job.requests_moved",
        {
            "job_id": "j1",
            "requests": 40,
            "tier": "realtime",
            "deadline": 1.7e9,
            "predicted_end": 1.7e9 + 60,
            "batch_id": "b1",
            "provider": "openai",
        },
    ),
    (ev.QueueFlushed(requests=7), "queue.flushed", {"requests": 7}),
    (ev.QueueCleared(jobs=2, requests=9), "queue.cleared", {"jobs": 2, "requests": 9}),
    (
        ev.BatchSubmitted(batch_id="b1", provider="openai", model="gpt-4o-mini", requests=5, remote_id="batch_x"),
        "batch.submitted",
        {"batch_id": "b1", "provider": "openai", "model": "gpt-4o-mini", "requests": 5, "remote_id": "batch_x"},
    ),
    (
        ev.BatchDuplicateCanceled(batch_id="b1", provider="gemini", remote_id="batches/9"),
        "batch.duplicate_canceled",
        {"batch_id": "b1", "provider": "gemini", "remote_id": "batches/9"},
    ),
    (
        ev.BatchSubmitFailed(batch_id="b1", provider="anthropic", error="HTTP 529 과부하", retry_in=2.5, given_up=0),
        "batch.submit_failed",
        {"batch_id": "b1", "provider": "anthropic", "error": "HTTP 529 과부하", "retry_in": 2.5, "given_up": 0},
    ),
    (
        ev.BatchProgress(batch_id="b1", provider="openai", done=3, failed=1, total=10),
        "batch.progress",
        {"batch_id": "b1", "provider": "openai", "done": 3, "failed": 1, "total": 10},
    ),
    (
        ev.BatchEnded(batch_id="b1", provider="openai", status="cancelled", error=None, state="canceled"),
        "batch.ended",
        # `status` the provider's word, `state` the same in one vocabulary (issue 16 item 5)
        {"batch_id": "b1", "provider": "openai", "status": "cancelled", "error": None, "state": "canceled"},
    ),
    (
        ev.BatchCollected(batch_id="b1", provider="realtime", results=4, retried=0),
        "batch.collected",
        {"batch_id": "b1", "provider": "realtime", "results": 4, "retried": 0},
    ),
    (
        ev.ChainStarted(
            chain_id="ch_1",
            command=COMMAND,
            step="delegate",
            departments=("cio", "cto"),
            route="keyword",
            detail="주가",
            broadcast=False,
            realtime=True,
            origin="telegram",
            origin_ref="42",
        ),
        "chain.started",
        {
            "chain_id": "ch_1",
            "command": COMMAND,
            "step": "delegate",
            "departments": ["cio", "cto"],
            "route": "keyword",
            "detail": "주가",
            "broadcast": False,
            "realtime": True,
            "origin": "telegram",
            "origin_ref": "42",
        },
    ),
    (
        ev.ChainStepSubmitted(
            chain_id="ch_1", step="delegate", job_id="ch_1_delegate", agents=("cio", "cto"), models=("m-a", "m-b")
        ),
        "chain.step",
        {
            "chain_id": "ch_1",
            "step": "delegate",
            "status": "submitted",
            "job_id": "ch_1_delegate",
            "agents": ["cio", "cto"],
            "models": ["m-a", "m-b"],
        },
    ),
    (
        ev.ChainStepDone(chain_id="ch_1", step="classify", next="delegate", departments=("cio",)),
        "chain.step",
        {"chain_id": "ch_1", "step": "classify", "status": "done", "next": "delegate", "departments": ["cio"]},
    ),
    (  # a step that chose no departments sent no `departments` key
        ev.ChainStepDone(chain_id="ch_1", step="delegate", next="specialists"),
        "chain.step",
        {"chain_id": "ch_1", "step": "delegate", "status": "done", "next": "specialists"},
    ),
    (
        ev.ChainItem(
            chain_id="ch_1",
            step="delegate",
            custom_id="delegate:cio",
            agent="cio",
            status="failed",
            model="m-a",
            cost_usd=0.001,
            error="rate_limit",
        ),
        "chain.item",
        {
            "chain_id": "ch_1",
            "step": "delegate",
            "custom_id": "delegate:cio",
            "agent": "cio",
            "status": "failed",
            "model": "m-a",
            "cost_usd": 0.001,
            "error": "rate_limit",
        },
    ),
    (
        ev.ChainDone(
            chain_id="ch_1",
            status="completed",
            cost_usd=0.5,
            realtime_cost_usd=1.0,
            report="# 보고서",
            notice=None,
            origin="web",
            origin_ref=None,
        ),
        "chain.done",
        {
            "chain_id": "ch_1",
            "status": "completed",
            "cost_usd": 0.5,
            "realtime_cost_usd": 1.0,
            "report": "# 보고서",
            "notice": None,
            "origin": "web",
            "origin_ref": None,
        },
    ),
    (
        ev.ChainCanceled(chain_id="ch_1", step="specialists", jobs=1, canceled=7, already_done=2),
        "chain.canceled",
        {"chain_id": "ch_1", "step": "specialists", "jobs": 1, "canceled": 7, "already_done": 2},
    ),
    (ev.ChainRerun(chain_id="ch_2", rerun_of="ch_1"), "chain.rerun", {"chain_id": "ch_2", "rerun_of": "ch_1"}),
    (
        ev.ChainReport(
            chain_id="ch_1",
            command=COMMAND,
            broadcast=True,
            departments=("cio",),
            report="# 보고서",
            cost_usd=0.5,
            realtime_cost_usd=1.0,
            saving_usd=0.5,
            delivered_at=1700000000.0,
        ),
        "chain.report",
        {
            "chain_id": "ch_1",
            "command": COMMAND,
            "broadcast": True,
            "departments": ["cio"],
            "report": "# 보고서",
            "cost_usd": 0.5,
            "realtime_cost_usd": 1.0,
            "saving_usd": 0.5,
            "delivered_at": 1700000000.0,
        },
    ),
]


@pytest.mark.parametrize(("event", "type_", "data"), CASES, ids=[f"{t}-{i}" for i, (_, t, _) in enumerate(CASES)])
def test_the_wire_form_is_todays_payload_and_reads_back_as_the_same_event(
    event: ev.Event, type_: str, data: dict[str, Any]
) -> None:
    wire = event.to_wire()
    assert wire == {"type": type_, "data": data, "at": event.at}
    assert orjson.dumps(wire["data"]) == orjson.dumps(data)  # the same keys in the same order
    back = ev.from_wire(type_, orjson.loads(orjson.dumps(data)), event.at)
    assert back == event
    relayed = decode(encode(event, "p1"))
    assert relayed is not None and relayed.relayed_from == "p1" and relayed.data() == data
    assert type(relayed) is type(event)


def test_every_wire_type_has_a_case() -> None:
    assert {t for _, t, _ in CASES} == ev.WIRE_TYPES
    assert len(ev.WIRE_TYPES) == 19


def test_events_are_frozen() -> None:
    event = ev.JobCompleted(job_id="j1")
    with pytest.raises(AttributeError):
        event.job_id = "j2"  # type: ignore[misc]


def test_an_oversized_report_is_left_out_and_the_event_keeps_its_type() -> None:
    done = ev.ChainDone(chain_id="c1", status="completed", cost_usd=0.5, realtime_cost_usd=1.0, report="보" * 5000)
    payload = encode(done, "p1")
    assert len(payload.encode()) <= MAX_PAYLOAD
    back = decode(payload)
    assert isinstance(back, ev.ChainDone) and back.report is None and back.omitted == ("report",)
    assert back.data()["omitted"] == ["report"] and "report" not in back.data()


def test_unknown_types_and_events_missing_required_data_pass_through_unchanged() -> None:
    newer = ev.from_wire("batch.paused", {"batch_id": "b1", "why": "비용"}, 1.0, "p2")
    assert isinstance(newer, ev.UnknownEvent) and newer.type == "batch.paused"
    assert newer.to_wire() == {"type": "batch.paused", "data": {"batch_id": "b1", "why": "비용"}, "at": 1.0}
    cut = {"chain_id": "c1", "omitted": ["step", "status"]}  # the relay kept only ids and scalars
    partial = ev.from_wire("chain.step", cut, 1.0, "p2")
    assert isinstance(partial, ev.UnknownEvent) and partial.data() == cut


# -- describe --------------------------------------------------------------------------------------


def test_chain_events_are_described_in_one_line() -> None:
    started, submitted, chose, _, item, done, canceled, rerun, _ = (e for e, t, _ in CASES if t.startswith("chain."))
    assert describe(started) == (
        f"chain ch_1 started (realtime), route keyword → cio, cto, first step delegate: “{COMMAND}”"
    )
    assert describe(submitted) == "▶ delegate: 2 requests sent (m-a, m-b) — cio, cto"
    assert describe(chose) == "✔ classify done → departments cio; next: delegate"
    assert describe(item) == "   ✘ cio (m-a): rate_limit"
    assert describe(done) == "chain ch_1 completed"
    assert describe(canceled) == "⏹ chain ch_1 canceled at specialists: 7 canceled, 2 already done"
    assert describe(rerun) == "↻ chain ch_2 runs ch_1 again"
    batch = next(e for e, t, _ in CASES if t == "batch.submitted")
    assert describe(batch) == "  ⧗ openai batch batch_x (5 requests)"
    assert describe(ev.JobCompleted(job_id="j1")) is None


def test_a_long_command_is_cut_and_a_broadcast_said() -> None:
    started = ev.ChainStarted(
        chain_id="ch_2",
        command="회의 " * 100,
        step="classify",
        departments=(),
        route=None,
        broadcast=True,
        realtime=False,
        origin="cli",
    )
    line = describe(started)
    assert line is not None and line.startswith("chain ch_2 started (batch · broadcast), route to be classified")
    assert len(line) < 200 and line.endswith("…”")


def test_with_the_org_agents_are_named() -> None:
    org = load_org()
    manager = org.department("cio").manager
    item = ev.ChainItem(
        chain_id="c", step="delegate", custom_id="delegate:cio", agent="cio", status="succeeded", model="m", cost_usd=0
    )
    assert describe(item, org) == f"   ✔ {manager.name} (m)"


def test_requests_moved_for_a_deadline_are_described() -> None:
    from datetime import UTC, datetime

    deadline = datetime(2025, 6, 1, 13, 30, tzinfo=UTC).timestamp()
    late = ev.RequestsMoved(
        job_id="j1",
        requests=40,
        tier="realtime",
        deadline=deadline,
        predicted_end=deadline + 2100,
        batch_id="b1",
        provider="openai",
    )
    assert describe(late) == (
        "⏩ job j1: 40 requests to realtime (batch b1 at openai expected 2025-06-01 14:05 UTC, "
        "deadline 2025-06-01 13:30 UTC)"
    )
    queued = ev.RequestsMoved(job_id="j1", requests=1, tier="realtime", deadline=deadline, predicted_end=deadline)
    assert queued.data() == {
        "job_id": "j1",
        "requests": 1,
        "tier": "realtime",
        "deadline": deadline,
        "predicted_end": deadline,
    }
    assert describe(queued) is not None and "1 request to realtime (a new batch" in (describe(queued) or "")

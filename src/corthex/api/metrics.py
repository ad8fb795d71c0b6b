"""Prometheus metrics: counters fed from bus events as they happen, gauges computed from the
store at scrape time (so they are right whichever process did the work)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from corthex.domain.events import BatchCollected, BatchEnded, BatchSubmitted, ChainDone, Event
from corthex.engine.engine import StoreCounts

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.events = Counter("corthex_events", "Engine events seen by this server", ["type"], registry=r)
        self.submitted = Counter("corthex_batches_submitted", "Batches created at a provider", ["provider"], registry=r)
        self.ended = Counter("corthex_batches_ended", "Batches that ended at a provider", ["provider"], registry=r)
        self.collected = Counter(
            "corthex_results_collected", "Results written by collections", ["provider"], registry=r
        )
        self.chains = Counter("corthex_chains_finished", "Chains finished", ["status"], registry=r)
        self.batches = Gauge("corthex_batches", "Batches by provider and status", ["provider", "status"], registry=r)
        self.requests = Gauge("corthex_requests", "Requests by provider and state", ["provider", "state"], registry=r)
        self.results = Gauge("corthex_results", "Results by provider and status", ["provider", "status"], registry=r)
        self.cost = Gauge("corthex_cost_usd", "Cost of every result so far", ["provider"], registry=r)
        self.realtime_cost = Gauge(
            "corthex_realtime_cost_usd", "What the same results would cost at realtime prices", ["provider"], registry=r
        )
        self.polls = Gauge("corthex_poll_calls", "Batch status calls made so far", ["provider"], registry=r)
        self.queue = Gauge("corthex_queue_requests", "Requests waiting in the queue", registry=r)
        self.running_chains = Gauge("corthex_chains_running", "Chains still running", registry=r)
        self.clients = Gauge("corthex_websocket_clients", "Connected WebSocket clients", registry=r)

    def on_event(self, event: Event) -> None:
        self.events.labels(event.type).inc()
        if isinstance(event, BatchSubmitted):
            self.submitted.labels(event.provider).inc()
        elif isinstance(event, BatchEnded):
            self.ended.labels(event.provider).inc()
        elif isinstance(event, BatchCollected):
            self.collected.labels(event.provider).inc(event.results)
        elif isinstance(event, ChainDone):
            self.chains.labels(event.status).inc()

    def render(self, counts: StoreCounts, *, queue: int, running_chains: int, clients: int) -> bytes:
        """Set the gauges from a fresh read of the store, then the exposition text."""
        for gauge, values in (
            (self.batches, counts.batches),
            (self.requests, counts.requests),
            (self.results, counts.results),
        ):
            gauge.clear()
            for labels, value in values.items():
                gauge.labels(*labels).set(value)
        for gauge in (self.cost, self.realtime_cost, self.polls):
            gauge.clear()
        for provider, (cost, realtime) in counts.cost.items():
            self.cost.labels(provider).set(cost)
            self.realtime_cost.labels(provider).set(realtime)
        for provider, polls in counts.polls.items():
            self.polls.labels(provider).set(polls)
        self.queue.set(queue)
        self.running_chains.set(running_chains)
        self.clients.set(clients)
        return generate_latest(self.registry)

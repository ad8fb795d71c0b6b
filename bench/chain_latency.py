"""Benchmark: time from a batch's end at the provider to the chain's next step being submitted,
for several poll settings, and with the OpenAI webhook path.

    .venv/bin/python bench/chain_latency.py [--chains 3] [--speed 3]

Real processes: the emulator, and `corthex serve` (API + worker) started afresh for each mode.
Every agent of the default org is moved to one OpenAI model (`gpt-5-mini`), so that every step is
an OpenAI batch and the webhook applies to each. Chains are started through `POST /chains` with
a keyword-routed command (delegate -> specialists -> synthesize -> deliver), a little apart so
that their steps stay in batches of their own.

A watcher in this process lists the emulator's OpenAI batches every 20 ms and notes when each
is first seen ended (its end, at most ~20 ms late). In the webhook mode it then sends OpenAI's
signed `batch.completed` webhook to the server at once, as OpenAI would. After the run, the
server's database gives each step's batches, when the next step's batch was created at the
provider (`submitted_at`), and the poll interval in effect when the batch ended.

- latency = next step's batch submitted - previous step's batch ended (the bar: within one poll
  interval of the end; under 1 s with the webhook);
- deliver latency = chain completed - last step's batch ended.

Writes bench/out/chain_latency.json. Not a test: run it on demand.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, Emulator, free_port, print_table, save, sdk_env  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-only-webhook-secret").decode()
COMMAND = "Plan the launch of our new mobile app backend"  # keyword-routed (CTO)
MODEL = "gpt-5-mini"

#: name -> (poll_initial, poll_factor, poll_max, webhook)
MODES: dict[str, tuple[float, float, float, bool]] = {
    "poll default (1 s, x1.5, max 60 s)": (1.0, 1.5, 60.0, False),
    "poll fast (0.5 s, x1.5, max 5 s)": (0.5, 1.5, 5.0, False),
    "poll fixed 2 s": (2.0, 1.0, 2.0, False),
    "webhook (+ poll default)": (1.0, 1.5, 60.0, True),
}


def _org(path: Path) -> Path:
    """The packaged org with every agent (and the classifier) on one OpenAI model."""
    import corthex.org

    data = yaml.safe_load((Path(corthex.org.__file__).parent / "default.yaml").read_text())

    def move(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("model", "classifier_model") and isinstance(value, str):
                    node[key] = MODEL
                else:
                    move(value)
        elif isinstance(node, list):
            for value in node:
                move(value)

    move(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def _http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})  # noqa: S310
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - loopback only
        return json.loads(response.read() or b"null")


def _signed(payload: bytes) -> dict[str, str]:
    """Standard Webhooks headers, as OpenAI signs them."""
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.{payload.decode()}".encode(), hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


class Watcher(threading.Thread):
    """Lists the emulator's OpenAI batches every 20 ms; notes when each is first seen ended,
    and (webhook mode) sends the signed `batch.completed` webhook to the server right then."""

    def __init__(self, emulator: Emulator, server: str | None) -> None:
        super().__init__(daemon=True)
        self.emulator, self.server = emulator, server
        self.ended: dict[str, float] = {}
        self.webhooks: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            listing = self.emulator.get("/openai/v1/batches?limit=100")
            now = time.time()
            for batch in listing.get("data", []):
                if batch["status"] in ("completed", "failed", "expired", "cancelled") and batch["id"] not in self.ended:
                    self.ended[batch["id"]] = now
                    if self.server:
                        self._webhook(batch["id"])
            self.stop.wait(0.02)

    def _webhook(self, remote_id: str) -> None:
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "type": "batch.completed",
            "created_at": int(time.time()),
            "data": {"id": remote_id},
        }
        payload = json.dumps(event).encode()
        try:
            _http("POST", f"{self.server}/webhooks/openai", payload, _signed(payload))
            self.webhooks[remote_id] = time.time()
        except OSError as exc:
            print(f"webhook for {remote_id} failed: {exc}", file=sys.stderr)


def run_mode(name: str, args: argparse.Namespace, emu: Emulator, org: Path, tmp: Path) -> dict[str, Any]:
    initial, factor, maximum, webhook = MODES[name]
    work = tmp / f"mode-{list(MODES).index(name)}"
    work.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **sdk_env(emu.url),
        "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{work}/serve.db",
        "CORTHEX_DATA_DIR": str(work / "data"),
        "CORTHEX_ARCHIVE_DIR": str(work / "archive"),
        "CORTHEX_ORG_PATH": str(org),
        "CORTHEX_POLL_INITIAL": str(initial),
        "CORTHEX_POLL_FACTOR": str(factor),
        "CORTHEX_POLL_MAX": str(maximum),
    }
    for key in ("CORTHEX_API_TOKEN", "TELEGRAM_BOT_TOKEN", "OPENAI_WEBHOOK_SECRET"):
        env.pop(key, None)
    if webhook:
        env["OPENAI_WEBHOOK_SECRET"] = SECRET
    log = (work / "serve.log").open("wb")
    import subprocess

    server = subprocess.Popen(
        [PYTHON, "-m", "corthex", "serve", "--port", str(port)], env=env, cwd=work, stdout=log, stderr=log
    )
    watcher = Watcher(emu, url if webhook else None)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if _http("GET", url + "/healthz"):
                    break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        watcher.start()
        chain_ids = []
        for _ in range(args.chains):
            chain_ids.append(_http("POST", url + "/chains", {"command": COMMAND})["id"])
            time.sleep(args.stagger)
        deadline = time.time() + args.timeout
        while time.time() < deadline:
            states = [_http("GET", f"{url}/chains/{c}")["status"] for c in chain_ids]
            if all(s != "running" for s in states):
                break
            time.sleep(0.2)
        time.sleep(0.3)
    finally:
        watcher.stop.set()
        server.terminate()
        server.wait(30)
        log.close()
    return _measure(name, work / "serve.db", chain_ids, watcher)


def _measure(name: str, db: Path, chain_ids: list[str], watcher: Watcher) -> dict[str, Any]:
    latencies: list[float] = []
    intervals: list[float] = []
    deliver: list[float] = []
    webhook_to_submit: list[float] = []
    within = True
    with sqlite3.connect(db) as conn:
        for chain_id in chain_ids:
            steps = conn.execute(
                "SELECT step, job_id FROM chain_steps WHERE chain_id = ? AND job_id IS NOT NULL ORDER BY created_at",
                (chain_id,),
            ).fetchall()
            batches = [_batches_of(conn, job) for _, job in steps]
            for earlier, later in zip(batches, batches[1:], strict=False):
                ends = [watcher.ended.get(b["remote_id"]) for b in earlier]
                if not earlier or not later or None in ends:
                    continue
                end = max(e for e in ends if e is not None)
                submitted = min(b["submitted_at"] for b in later)
                interval = max(b["poll_interval"] or 0.0 for b in earlier)
                latencies.append(submitted - end)
                intervals.append(interval)
                within = within and submitted - end <= interval + 0.5
                sent = [watcher.webhooks.get(b["remote_id"]) for b in earlier]
                if sent and None not in sent:
                    webhook_to_submit.append(submitted - max(s for s in sent if s is not None))
            done = conn.execute("SELECT completed_at FROM chains WHERE id = ?", (chain_id,)).fetchone()
            last_ends = [watcher.ended.get(b["remote_id"]) for b in batches[-1]] if batches else []
            if done and done[0] and last_ends and None not in last_ends:
                deliver.append(done[0] - max(e for e in last_ends if e is not None))
        statuses = [r[0] for r in conn.execute("SELECT status FROM chains").fetchall()]

    def stats(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        return {
            "n": len(values),
            "mean_s": round(statistics.mean(values), 3),
            "max_s": round(max(values), 3),
            "min_s": round(min(values), 3),
        }

    return {
        "mode": name,
        "chains": statuses,
        "step_latency": stats(latencies),
        "poll_interval_at_end": stats(intervals),
        "within_one_interval": within,
        "webhook_sent_to_next_step_submitted": stats(webhook_to_submit),
        "deliver_latency": stats(deliver),
    }


def _batches_of(conn: sqlite3.Connection, job_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT DISTINCT b.id, b.remote, b.submitted_at, b.poll_interval FROM batches b "
        "WHERE b.id IN (SELECT batch_id FROM requests WHERE job_id = ?) "
        "OR b.id IN (SELECT batch_id FROM results WHERE job_id = ?)",
        (job_id, job_id),
    ).fetchall()
    out = []
    for _id, remote, submitted, interval in rows:
        if remote and submitted:
            out.append(
                {"remote_id": json.loads(remote)["remote_id"], "submitted_at": submitted, "poll_interval": interval}
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=3, help="chains per mode")
    parser.add_argument("--speed", type=float, default=3.0, help="emulator speed (a step's batch takes ~2.5 s at 3)")
    parser.add_argument("--stagger", type=float, default=0.7, help="seconds between chain starts")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--mode", action="append", choices=list(MODES), help="run only these modes")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="corthex-chain-latency-"))
    atexit.register(shutil.rmtree, tmp, True)  # the work directory goes with the run
    org = _org(tmp / "org.yaml")
    results = []
    with Emulator(args.speed) as emu:
        for name in args.mode or list(MODES):
            results.append(run_mode(name, args, emu, org, tmp))
    print("\nchain latency: batch ended -> next step submitted")
    header = f"{'mode':<36} {'n':>3} {'mean s':>7} {'max s':>7} {'interval@end max':>17} {'<=1 interval':>13}"
    print(header)
    print("-" * len(header))
    for r in results:
        lat, itv = r["step_latency"] or {}, r["poll_interval_at_end"] or {}
        print(
            f"{r['mode']:<36} {lat.get('n', 0):>3} {lat.get('mean_s', '-'):>7} {lat.get('max_s', '-'):>7} "
            f"{itv.get('max_s', '-'):>17} {str(r['within_one_interval']):>13}"
        )
    for r in results:
        print_table(r["mode"], [(k, v) for k, v in r.items() if k != "mode"])
    name = "chain_latency" + (f"-{args.label}" if args.label else "")
    print(f"\nwritten to {save(name, {'speed': args.speed, 'modes': results})}")


if __name__ == "__main__":
    main()

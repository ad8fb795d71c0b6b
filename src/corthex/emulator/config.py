"""Emulator settings: how fast batches move, where files live, which URL the emulator is seen at."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from corthex.domain.limits import ANTHROPIC_BODY_MAX_BYTES, GEMINI_INLINE_BODY_MAX_BYTES, OPENAI_FILE_MAX_BYTES
from corthex.emulator.faults import BatchFaults
from corthex.emulator.lifecycle import Timeline
from corthex.emulator.turnaround import parse_turnarounds, turnaround_of

#: The profiles: `realistic` (the default) answers as the real APIs always do (docs/providers.md);
#: `ideal` leaves out the behaviours a careless client gets wrong, for tests of other things.
PROFILES = ("realistic", "ideal")

#: Behaviours the real APIs show only sometimes, per provider: each is off until switched on
#: (`EmulatorConfig(quirks={"gemini": ["inline_without_keys"]})` or `POST /_emulator/config`).
QUIRKS: dict[str, frozenset[str]] = {
    "openai": frozenset(),
    "anthropic": frozenset(),
    # inline answers without `metadata` (python-genai#2008) / out of input order (#1909); error
    # rows (and a failed job's error) whose `details` hold google.rpc objects
    "gemini": frozenset({"inline_without_keys", "inline_shuffled", "row_error_details"}),
    "vertex": frozenset(),
}


@dataclass
class EmulatorConfig:
    speed: float = 1.0  # multiplies all processing times; 0 => batches end at the first poll
    validate_seconds: float = 0.2  # OpenAI 'validating' phase / Gemini PENDING
    base_seconds: float = 0.5  # in_progress base time per batch
    per_request_seconds: float = 0.002  # plus this per request
    data_dir: Path | None = None  # uploaded files and results (a temporary dir if None)
    public_url: str | None = None  # absolute root URL (no provider prefix); default: request host
    finalize_seconds: float = 0.1  # OpenAI 'finalizing'
    cancel_seconds: float = 0.2  # 'cancelling' before 'cancelled'
    #: Anthropic batch requests processed at once: a cache write is read only by later waves and
    #: by batches created after this one is processed (1: each request sees those before it)
    anthropic_cache_concurrency: int = 1
    shuffle_results: bool = True  # OpenAI and Anthropic results come out of input order
    profile: str = "realistic"  # one of PROFILES
    quirks: dict[str, list[str]] = field(default_factory=dict)  # provider -> sometimes-behaviours on
    # Size limits on the bytes received (docs/wire/sizes.md); tests set small ones.
    openai_file_max_bytes: int = OPENAI_FILE_MAX_BYTES  # a purpose=batch upload: 400 "File is too large."
    openai_completion_windows: tuple[str, ...] = ("24h",)  # OpenAI takes only 24h (compatible servers differ)
    openai_max_tasks: int = 50_000  # requests in one batch file: too_many_tasks beyond (Azure: 100,000)
    #: whose OpenAI-style API this state serves: "openai", or "azure" (the `api-key` header, Azure's
    #: 401, output lines without `id` and with content-filter results, an empty error file on success)
    openai_flavor: str = "openai"
    anthropic_body_max_bytes: int = ANTHROPIC_BODY_MAX_BYTES  # a create body: 413 request_too_large
    gemini_inline_max_bytes: int = GEMINI_INLINE_BODY_MAX_BYTES  # an inline create body: 400
    #: the Cloud Storage JSON API Vertex jobs read and write (else STORAGE_EMULATOR_HOST)
    gcs_url: str | None = None
    # Amazon Bedrock: the S3 its jobs read and write (None: AWS_ENDPOINT_URL_S3), its record quotas
    s3_endpoint: str | None = None
    bedrock_min_records: int = 100
    bedrock_max_records: int = 50_000
    #: Batch turnaround: "provider" or "provider/model" -> "published" (emulator/turnaround.py's
    #: presets) or {"median_seconds", "spread"}: a batch then runs a lognormal draw (times `speed`)
    #: instead of base_seconds + per_request_seconds * n. Draws are seeded by `seed`.
    turnaround: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None  #: seeds the turnaround draws and flex refusals (None: not reproducible)
    # Single calls (realtime and flex), docs/providers.md (tiers, rate limits); not scaled by `speed`
    realtime_seconds: float = 0.0  #: a realtime answer's latency
    flex_seconds: float = 0.02  #: a flex answer's latency (flex is slower)
    flex_unavailable: float = 0.0  #: the share of flex calls refused 429 (resource unavailable)
    #: requests per `rate_window_seconds` per model ("model" or "provider/model"); beyond: 429 with
    #: the provider's retry-after (OpenAI retry-after and x-ratelimit-*, Anthropic retry-after,
    #: Gemini RESOURCE_EXHAUSTED with RetryInfo)
    rate_limits: dict[str, int] = field(default_factory=dict)
    rate_window_seconds: float = 60.0

    def __post_init__(self) -> None:
        self._check(self.profile, self.quirks)
        self._turnarounds = parse_turnarounds(self.turnaround)
        self.rng = random.Random(self.seed)

    @property
    def realistic(self) -> bool:
        return self.profile == "realistic"

    def quirk(self, provider: str, name: str) -> bool:
        """Whether the sometimes-behaviour `name` of `provider` is switched on."""
        return name in self.quirks.get(provider, ())

    @staticmethod
    def _check(profile: Any, quirks: Any) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
        if not isinstance(quirks, dict):
            raise ValueError("quirks must map a provider to a list of behaviours")
        for provider, names in quirks.items():
            known = QUIRKS.get(provider)
            if known is None:
                raise ValueError(f"unknown provider {provider!r} in quirks: one of {', '.join(QUIRKS)}")
            unknown = sorted(set(names) - known)
            if unknown or not isinstance(names, list):
                raise ValueError(f"unknown {provider} quirks {unknown}: known are {sorted(known)}")

    def timeline(
        self,
        created: float,
        n: int,
        faults: BatchFaults,
        *,
        validate: bool,
        finalize: bool,
        provider: str | None = None,
        model: str | None = None,
    ) -> Timeline:
        """The schedule of a batch created now, frozen at creation (later config changes apply
        to later batches)."""
        scale = max(self.speed, 0.0)
        turnaround = turnaround_of(self._turnarounds, provider, model)
        process = turnaround.sample(self.rng) if turnaround else self.base_seconds + self.per_request_seconds * n
        return Timeline(
            created=created,
            n=n,
            validate_s=self.validate_seconds * scale if validate else 0.0,
            process_s=process * scale,
            finalize_s=self.finalize_seconds * scale if finalize else 0.0,
            cancel_s=self.cancel_seconds * scale,
            faults=faults,
        )

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for key in changes:
            if key not in known or key == "data_dir":
                raise ValueError(f"cannot change config field {key!r}")
        self._check(changes.get("profile", self.profile), changes.get("quirks", self.quirks))
        turnarounds = parse_turnarounds(changes.get("turnaround", self.turnaround))
        for key, value in changes.items():
            setattr(self, key, value)
        self._turnarounds = turnarounds
        if "seed" in changes:
            self.rng = random.Random(self.seed)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir) if self.data_dir else None
        return data

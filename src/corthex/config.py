"""Settings: read from the environment (and a .env file) at the edge, then passed down."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from corthex.domain.polling import PollPolicy, RetryPolicy
from corthex.domain.pricing import ModelPrice
from corthex.errors import UsageError
from corthex.i18n import LANGUAGES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CORTHEX_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite+aiosqlite:///corthex.db")
    data_dir: Path = Field(default=Path(".corthex"))  #: request/result files on their way to and from providers

    poll_initial: float = 1.0  #: seconds to the first status call after a batch is created
    poll_factor: float = 1.5
    poll_max: float = 60.0
    poll_max_failures: int = 8  #: failed status calls in a row before a batch is given up …
    poll_unreachable_minutes: float = 60.0  #: … once they span this long (an outage of minutes is waited out)
    batch_max_age_hours: float = 50.0  #: give up on a batch still open after this long
    idle_recheck: float = 2.0  #: an idle worker looks for work from other processes this often

    max_attempts: int = 3  #: per request, counting the first
    submit_backoff: float = 2.0  #: seconds before a failed batch creation is tried again (doubles, up to 300)
    #: failed creations before the requests fail for good; when the provider was out of reach
    #: (429, 5xx, timeouts), only once they also span poll_unreachable_minutes, as polling does
    submit_max_failures: int = 6

    #: CORTHEX_CACHE_PRIMING: on Anthropic, a cache group (requests sharing a cacheable prefix of
    #: 1,024+ tokens) of at least `cache_priming_min_requests` sends one request first, in a small
    #: priming batch, and the rest once it has ended, so they read its cache write instead of all
    #: writing it at once (the batch's requests run concurrently: docs/providers.md)
    cache_priming: bool = True
    cache_priming_min_requests: int = 20

    queue_max_requests: int = 1000  #: auto-flush when the queue holds this many requests
    queue_max_age: float = 300.0  #: … or when its oldest request is this many seconds old

    provider_concurrency: int = 8  #: provider calls in flight per provider
    provider_max_retries: int = 2  #: SDK-level retries per call (never for batch creation: see dispatch)
    provider_timeout: float = 60.0  #: seconds before one provider call is abandoned as a timeout
    lease_seconds: float = 120.0  #: a worker's hold on a batch or chain; renewed while it works on it
    #: the longest a batch's creation (upload and create) may take; no other worker creates the
    #: same batch meanwhile. Default: the calls' timeouts, retries included.
    creation_window: float | None = None
    result_chunk: int = 5000  #: result rows written per transaction while collecting (bench: 5000 beats 2000 by ~15%)
    #: batches a worker collects at once: each holds its pending requests and a result chunk in
    #: memory, so many batches ending together would take memory in proportion to the job
    collect_concurrency: int = Field(default=2, ge=1)

    #: CORTHEX_PROVIDERS_FILE: a TOML of OpenAI-compatible servers and model routes (providers/registry.py)
    providers_file: Path | None = None
    org_path: Path | None = None  #: the org YAML; the packaged CORTHEX HQ org when unset
    archive_dir: Path = Field(default=Path("archive"))  #: one Markdown file per delivered chain
    daily_budget_usd: float | None = None  #: no limit when unset
    #: CORTHEX_MODEL_PRICES: realtime prices for models the price table lacks (or overrides), as
    #: JSON {"model": {"input": 1.25, "output": 10, "cache_read": 0.125}} in USD per million tokens
    model_prices: dict[str, ModelPrice] = Field(default_factory=dict)
    timezone: str = "Asia/Seoul"  #: where the budget's day starts and ends
    #: CORTHEX_LANGUAGE: what the bot speaks, ko or en; unset: Korean in Asia/Seoul, else the
    #: Telegram user's language, else English (corthex.i18n.choose_language)
    language: str | None = None
    api_token: str | None = None  #: CORTHEX_API_TOKEN: required by the REST API and WebSocket when set

    # Telegram: the variables keep their own names (no CORTHEX_ prefix), as DESIGN.md §7 lists them.
    telegram_bot_token: str | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_chat_ids: str = Field(default="", validation_alias="TELEGRAM_CHAT_IDS")  #: comma-separated chat ids
    telegram_base_url: str | None = Field(default=None, validation_alias="TELEGRAM_BASE_URL")  #: a Bot API server
    #: verifies OpenAI's batch webhooks (Standard Webhooks); its own name, as OpenAI documents it
    openai_webhook_secret: str | None = Field(default=None, validation_alias="OPENAI_WEBHOOK_SECRET")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {name!r}: give an IANA name such as Asia/Seoul or UTC") from None
        return name

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.strip().lower() not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}: give one of {', '.join(LANGUAGES)}")
        return value.strip().lower()

    def creation_seconds(self) -> float:
        """`creation_window`, or what an upload (with its retries) and a create can take, and
        a little for writing the file."""
        if self.creation_window is not None:
            return self.creation_window
        return self.call_seconds() + self.provider_timeout + 2.0

    def call_seconds(self) -> float:
        """What one provider call can take, the SDK's own retries included."""
        return self.provider_timeout * (self.provider_max_retries + 1)

    def poll_policy(self) -> PollPolicy:
        return PollPolicy(
            initial=self.poll_initial,
            factor=self.poll_factor,
            maximum=self.poll_max,
            max_failures=self.poll_max_failures,
            unreachable_for=self.poll_unreachable_minutes * 60,
            max_age=self.batch_max_age_hours * 3600,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            submit_backoff=self.submit_backoff,
            max_submit_failures=self.submit_max_failures,
            unreachable_for=self.poll_unreachable_minutes * 60,
        )


def load_settings() -> Settings:
    """Settings from the environment (and .env), checked before anything is stored.

    :raises UsageError: one line per bad variable, naming it and what it should be."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(_variable_problem(error) for error in exc.errors())
        raise UsageError(f"bad setting: {problems}") from None


def _variable_problem(error: object) -> str:
    details = error if isinstance(error, dict) else {}
    name = str(details.get("loc", ("?",))[0])
    field = Settings.model_fields.get(name)
    alias = field.validation_alias if field is not None else None
    variable = alias if isinstance(alias, str) else f"CORTHEX_{name.upper()}"
    message = str(details.get("msg", "invalid")).removeprefix("Value error, ")
    if "token" in name or "secret" in name:  # never echo a secret
        return f"{variable}: {message}"
    return f"{variable}={details.get('input')!r}: {message}"

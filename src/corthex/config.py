"""Settings: read from the environment (and a .env file) at the edge, then passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from corthex.domain.polling import PollPolicy, RetryPolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CORTHEX_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite+aiosqlite:///corthex.db")
    data_dir: Path = Field(default=Path(".corthex"))  #: request/result files on their way to and from providers

    poll_initial: float = 1.0  #: seconds to the first status call after a batch is created
    poll_factor: float = 1.5
    poll_max: float = 60.0
    poll_max_failures: int = 8
    batch_max_age_hours: float = 50.0  #: give up on a batch still open after this long
    idle_recheck: float = 2.0  #: an idle worker looks for work from other processes this often

    max_attempts: int = 3  #: per request, counting the first
    submit_backoff: float = 2.0
    submit_max_failures: int = 6

    queue_max_requests: int = 1000  #: auto-flush when the queue holds this many requests
    queue_max_age: float = 300.0  #: … or when its oldest request is this many seconds old

    provider_concurrency: int = 8  #: provider calls in flight per provider
    provider_max_retries: int = 2  #: SDK-level retries per call
    lease_seconds: float = 120.0

    org_path: Path | None = None  #: the org YAML; the packaged CORTHEX HQ org when unset
    archive_dir: Path = Field(default=Path("archive"))  #: one Markdown file per delivered chain
    daily_budget_usd: float | None = None  #: no limit when unset
    timezone: str = "Asia/Seoul"  #: where the budget's day starts and ends

    def poll_policy(self) -> PollPolicy:
        return PollPolicy(
            initial=self.poll_initial,
            factor=self.poll_factor,
            maximum=self.poll_max,
            max_failures=self.poll_max_failures,
            max_age=self.batch_max_age_hours * 3600,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            submit_backoff=self.submit_backoff,
            max_submit_failures=self.submit_max_failures,
        )

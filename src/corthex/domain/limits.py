"""Each provider's batch limits (PROVIDERS.md §0), in one place."""

from __future__ import annotations

from dataclasses import dataclass

from corthex.domain.requests import ProviderName

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    max_requests: int  #: requests in one provider batch
    max_bytes: int  #: serialized size of one provider batch
    one_model_per_batch: bool  #: OpenAI (model_mismatch) and Gemini (model in the URL)
    max_request_bytes: int  #: one request on its own

    def fits(self, count: int, size: int) -> bool:
        return count <= self.max_requests and size <= self.max_bytes


# Byte limits keep a margin under the documented ones: our size estimate is the canonical
# request, and each provider's wire form adds its own envelope.
LIMITS: dict[ProviderName, ProviderLimits] = {
    ProviderName.OPENAI: ProviderLimits(50_000, 190 * MB, True, 190 * MB),
    ProviderName.ANTHROPIC: ProviderLimits(100_000, 240 * MB, False, 240 * MB),
    # Gemini inline requests are capped at 20 MB; larger batches go as an uploaded file (≤2 GB).
    ProviderName.GEMINI: ProviderLimits(100_000, 1900 * MB, True, 1900 * MB),
}

GEMINI_INLINE_MAX_BYTES = 19 * MB

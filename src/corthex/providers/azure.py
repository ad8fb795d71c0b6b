"""Azure OpenAI Batch over the `openai` SDK (docs/wire/platforms.md §1): the OpenAI adapter with
Azure's client, Azure's model names and Azure's quota error.

- The client: the v1 API (`{AZURE_OPENAI_ENDPOINT}/openai/v1/`, GA since August 2025, no
  api-version) by default; the api-version form (`AsyncAzureOpenAI`, `/openai/files?api-version=…`)
  when `OPENAI_API_VERSION` is set, as the SDK reads it. The SDK's Azure client sends the key in
  `api-key`; the v1 form as `Authorization: Bearer`, as Microsoft's v1 sample does (both accepted).
- The model: each line's `body.model` is the Global Batch **deployment** that serves the model,
  from `CORTHEX_AZURE_DEPLOYMENTS` (a JSON object, model → deployment); a deployment's own name is
  taken as is. A model with no deployment is refused before anything is stored (engine/setup.py).
- The quota: a batch over the enqueued-token limit fails in validation with
  `token_limit_exceeded` (retried later, as the OpenAI adapter already does), or, in the
  "fail fast" regions, `batches.create` answers 400 with that code: retried too, never lost.
"""

from __future__ import annotations

import os
from pathlib import Path

import openai

from corthex.domain import builtin_providers
from corthex.domain.registry import ProviderProfile
from corthex.errors import ProviderError
from corthex.providers._common import redact
from corthex.providers.openai import OpenAIProvider
from corthex.providers.setup import (
    AZURE_DEPLOYMENTS,
    azure_client_form,
    azure_deployment,
    has_key,
    missing_key_error,
)

#: the quota error of a batch create in Azure's "fail fast" regions (a 400 to wait out, not a bad request)
TOKEN_LIMIT = "token_limit_exceeded"


class AzureProvider(OpenAIProvider):
    def __init__(
        self,
        workdir: Path,
        client: openai.AsyncOpenAI | None = None,
        *,
        profile: ProviderProfile = builtin_providers.AZURE,
        max_retries: int = 2,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(workdir, client, profile=profile, max_retries=max_retries, timeout=timeout)

    @property
    def _sdk(self) -> openai.AsyncOpenAI:
        if self._client is None:
            if not has_key(self.name, os.environ):
                raise missing_key_error(self.name, "configure")
            key = os.environ[self._profile.key_variables[0]]
            base_url, api_version = azure_client_form(os.environ)
            if api_version is not None:  # the api-version form, built by the SDK as its users build it
                self._client = openai.AsyncAzureOpenAI(
                    azure_endpoint=base_url,
                    api_key=key,
                    api_version=api_version,
                    max_retries=self._max_retries,
                    timeout=self._timeout,
                )
            else:  # the v1 API: the OpenAI client with the key, as Microsoft's v1 Python sample builds it
                self._client = openai.AsyncOpenAI(
                    base_url=base_url, api_key=key, max_retries=self._max_retries, timeout=self._timeout
                )
        return self._client

    def _wire_model(self, model: str) -> str:
        deployment = azure_deployment(model, os.environ)
        if deployment is None:  # intake refuses such a line; this guards a configuration changed since
            message = f"no Azure deployment for model {model!r}: add it to {AZURE_DEPLOYMENTS}"
            raise ProviderError(self.name.value, "submit", message, setup=True)
        return deployment

    def _provider_error(self, op: str, exc: Exception) -> ProviderError:
        if isinstance(exc, openai.BadRequestError) and TOKEN_LIMIT in f"{exc.code} {exc.message}":
            # the enqueued-token quota is full until earlier batches end: try again later
            return ProviderError(self.name.value, op, redact(exc.message), status_code=400, retryable=True)
        return super()._provider_error(op, exc)

"""Provider calls as the engine makes them: any exception counts as a failed call.

The adapters translate their SDK's errors into ProviderError; whatever still escapes them (a bug,
an SDK that meets a payload it did not expect) is turned into a retryable ProviderError here, so
the poller, the collector and the dispatcher apply their backoff and give-up rules to it, instead
of retrying the batch at once, for ever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TypeVar

from corthex.errors import ProviderError
from corthex.redaction import mask_secrets

T = TypeVar("T")

_MAX_MESSAGE = 500


def failed_call(provider: str, op: str, exc: Exception) -> ProviderError:
    """`exc` as a ProviderError: itself if it is one, else a retryable one naming its type."""
    if isinstance(exc, ProviderError):
        return exc
    detail = mask_secrets(str(exc))[:_MAX_MESSAGE]
    message = f"unexpected {type(exc).__name__}" + (f": {detail}" if detail else "")
    return ProviderError(provider, op, message, retryable=True)


@contextmanager
def provider_call(provider: str, op: str) -> Iterator[None]:
    """Raise every exception of the block as a ProviderError (see `failed_call`)."""
    try:
        yield
    except ProviderError:
        raise
    except Exception as exc:
        raise failed_call(provider, op, exc) from exc


async def provider_rows(provider: str, rows: AsyncIterator[T]) -> AsyncIterator[T]:
    """The provider's result stream, its exceptions raised as ProviderErrors. Only the provider's
    side is wrapped: an error of the consumer (the store) is not a failed provider call."""
    while True:  # `provider_call` inlined: a context manager per row was a tenth of collection's time
        try:
            row = await anext(rows)
        except StopAsyncIteration:
            return
        except ProviderError:
            raise
        except Exception as exc:
            raise failed_call(provider, "results", exc) from exc
        yield row

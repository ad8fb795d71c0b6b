"""How a failed creation is read (issue 12, items 6 and 7; the chaos run): our own full disk is
"certainly not created" (it fails before any create call), never "maybe created", which would
leave the batch to be looked for after two provider timeouts."""

from __future__ import annotations

import errno

from corthex.engine.dispatch import certainly_not_created, maybe_created
from corthex.errors import ProviderError


def failure(op: str, cause: BaseException | None = None, status: int | None = None) -> ProviderError:
    try:
        try:
            if cause is not None:
                raise cause
            raise RuntimeError("no cause")
        except BaseException as inner:
            raise ProviderError("gemini", op, f"unexpected {type(inner).__name__}", status_code=status) from inner
    except ProviderError as exc:
        return exc


def test_a_full_disk_while_creating_is_certainly_not_created() -> None:
    full = failure("create", OSError(errno.ENOSPC, "No space left on device"))
    assert not maybe_created(full) and certainly_not_created(full)


def test_a_create_timeout_or_5xx_is_maybe_created_and_a_4xx_is_not() -> None:
    assert maybe_created(failure("create", TimeoutError()))
    assert maybe_created(failure("create", status=503))
    assert certainly_not_created(failure("create", status=429))
    assert certainly_not_created(failure("upload", status=500))

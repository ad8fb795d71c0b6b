"""What a text column can hold, decided once for every text the store keeps.

PostgreSQL's text type refuses the NUL character (SQLite keeps it), so input that holds one is
refused where it comes in, naming the field (a request field, a job's label, a chain's command),
and provider output has it replaced: a model may emit a JSON "\\u0000", and the chunk it is in
must not fail on every retry.
"""

from __future__ import annotations

NUL = "\x00"
REPLACEMENT = "\ufffd"


def nul_refusal(what: str, text: str) -> str | None:
    """Why `text` cannot be stored (it holds a NUL), naming `what` it is; None when it can."""
    return f"{what} must not contain a NUL character" if NUL in text else None


def storable(text: str | None) -> str | None:
    """Provider text as a text column can hold it: each NUL becomes U+FFFD."""
    if text is None or NUL not in text:
        return text
    return text.replace(NUL, REPLACEMENT)

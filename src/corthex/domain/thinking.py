"""Models that think before they answer, and output budgets that leave room for the answer.

A thinking model spends output tokens on reasoning first, inside the same `max_output_tokens`
budget; a small budget leaves no answer at all (docs/wire/finish-reasons.md). Which models think
without being asked: OpenAI's reasoning models (gpt-5*, o1/o3/o4*; not the `-chat` ones) and
Gemini 2.5 and 3 (not 2.5 Flash-Lite, whose thinking is off by default). Claude thinks only when
the request turns thinking on, which CORTHEX does not do.
"""

from __future__ import annotations

import re

#: The least output budget the chain gives a model that thinks: room for several thousand
#: reasoning tokens before the answer, at a bounded cost per chain step (the budget estimate
#: counts half of it); OpenAI's advice for reasoning models is larger still (~25,000 tokens,
#: docs/wire/finish-reasons.md).
THINKING_FLOOR = 16_384

_THINKS = re.compile(r"^(gpt-5|o\d)(?!.*-chat)|^(models/)?gemini-(2\.5|3)(?!.*flash-lite)")


def thinks(model: str) -> bool:
    """Whether `model` reasons before it answers by default."""
    return bool(_THINKS.match(model))


def output_budget(model: str, wanted: int) -> int:
    """`wanted`, raised to the thinking floor for a model that thinks."""
    return max(wanted, THINKING_FLOOR) if thinks(model) else wanted

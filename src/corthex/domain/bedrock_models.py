"""Claude's model names on Amazon Bedrock (pure; evidence: docs/wire/platforms.md §2.6 and
genai-prices' `aws` table, whose match rules name the same ids).

Users write the neutral names they write for Anthropic (`claude-haiku-4-5`); Bedrock wants its
own model id (`anthropic.claude-haiku-4-5-20251001-v1:0`) or a cross-region inference profile
(the id with a geography in front: `us.anthropic.…`). Bedrock's own ids are taken as written.
"""

from __future__ import annotations

import re

#: neutral family → Bedrock's foundation-model id
MODEL_IDS: dict[str, str] = {
    "claude-haiku-4-5": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "claude-sonnet-4-5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "claude-sonnet-4-6": "anthropic.claude-sonnet-4-6",
    "claude-sonnet-4": "anthropic.claude-sonnet-4-20250514-v1:0",
    "claude-opus-4-5": "anthropic.claude-opus-4-5-20251101-v1:0",
    "claude-opus-4-6": "anthropic.claude-opus-4-6-v1",
}

#: the geographies of Bedrock's cross-region inference profiles (`us.anthropic.…`)
GEOGRAPHIES = ("us", "eu", "apac", "au", "jp", "us-gov", "global")
#: the model-id prefixes Bedrock's own Claude ids start with (its profile owns them)
OWN_PREFIXES = ("anthropic.claude-", *(f"{geo}.anthropic.claude-" for geo in GEOGRAPHIES))

_OWN = re.compile(r"^(?:(?:" + "|".join(re.escape(g) for g in GEOGRAPHIES) + r")\.)?anthropic\.")
_VERSION = re.compile(r"-v\d+(?::\d+)?$")


def is_bedrock_id(model: str) -> bool:
    return bool(_OWN.match(model))


def neutral_name(model: str) -> str:
    """`us.anthropic.claude-haiku-4-5-20251001-v1:0` → `claude-haiku-4-5-20251001`: the name the
    capability table and the Anthropic answer know."""
    return _VERSION.sub("", _OWN.sub("", model))


def model_id(model: str, region: str | None = None) -> str:
    """The id a job is created with: Bedrock's own as written; a neutral name as its foundation-model
    id, in the inference profile of `region`'s geography when a region is given (newer Claude
    models run in batch through inference profiles: batch-inference-supported.html).

    :raises ValueError: a neutral name this table does not know (naming the ids to write)."""
    if is_bedrock_id(model):
        return model
    base = MODEL_IDS.get(model) or MODEL_IDS.get(_undated(model))
    if base is None:
        raise ValueError(
            f"no Bedrock model id known for {model!r}: write Bedrock's own id "
            "(e.g. anthropic.claude-haiku-4-5-20251001-v1:0 or us.anthropic.claude-haiku-4-5-20251001-v1:0)"
        )
    geography = _geography(region)
    return f"{geography}.{base}" if geography else base


def price_id(model: str) -> str:
    """The id the `aws` price table matches (a neutral name as its foundation-model id)."""
    try:
        return model_id(model)
    except ValueError:
        return model


def _undated(model: str) -> str:
    return re.sub(r"-\d{8}$", "", model)


def _geography(region: str | None) -> str | None:
    if not region:
        return None
    head = region.split("-", 1)[0]
    return {"us": "us", "eu": "eu", "ap": "apac"}.get(head)

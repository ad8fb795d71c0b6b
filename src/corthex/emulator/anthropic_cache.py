"""Anthropic's prompt-cache breakpoints, as the emulator reads them: blocks carrying
`cache_control` in the prefix order tools → system → messages; the cached prefix runs up to and
including the last marked block (platform.claude.com prompt-caching and tool-use-with-prompt-caching
guides; docs/wire/requests-anthropic.md). At most 4 such blocks in a request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from corthex.emulator.answers import all_words, prefix_key, text_of

BREAKPOINTS_MAX = 4
#: a marked block's text, and its cache_control (None when unmarked)
_Block = tuple[str, Any]


def _tool_blocks(params: dict[str, Any]) -> Iterator[_Block]:
    for tool in params.get("tools") or []:
        if isinstance(tool, dict):
            bare = {k: v for k, v in tool.items() if k != "cache_control"}
            yield orjson.dumps(bare, option=orjson.OPT_SORT_KEYS).decode(), tool.get("cache_control")


def _content_blocks(content: Any) -> Iterator[_Block]:
    if not isinstance(content, list):
        yield text_of(content), None
        return
    for block in content:
        if not isinstance(block, dict):
            continue
        inner = block.get("content")
        if block.get("type") == "tool_result" and isinstance(inner, list):
            yield from _content_blocks(inner)  # a tool result's own blocks may carry the marker
        text = text_of(block) or orjson.dumps(block.get("source") or block.get("input") or "").decode()
        yield text, block.get("cache_control")


def blocks(params: dict[str, Any]) -> list[_Block]:
    """Every block of the prompt in the cache's prefix order."""
    out = list(_tool_blocks(params))
    out += list(_content_blocks(params.get("system"))) if params.get("system") else []
    for message in params.get("messages") or []:
        if isinstance(message, dict):
            out += list(_content_blocks(message.get("content")))
    return out


def breakpoints(params: dict[str, Any]) -> int:
    return sum(1 for _, control in blocks(params) if control)


def breakpoint_problem(params: dict[str, Any]) -> str | None:
    found = breakpoints(params)
    if found > BREAKPOINTS_MAX:
        return f"A maximum of {BREAKPOINTS_MAX} blocks with cache_control may be provided. Found {found}."
    return None


def cached_prefix(params: dict[str, Any]) -> tuple[int, str | None, str]:
    """(words, key, ttl) of the prefix up to the last marked block; (0, None, "5m") when none is marked."""
    every = blocks(params)
    marked = [i for i, (_, control) in enumerate(every) if control]
    if not marked:
        return 0, None, "5m"
    prefix = [text for text, _ in every[: marked[-1] + 1]]
    control = every[marked[-1]][1]
    ttl = str(control.get("ttl") or "5m") if isinstance(control, dict) else "5m"
    return all_words(*prefix), prefix_key(*prefix), ttl

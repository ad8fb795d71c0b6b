"""Anthropic Messages bodies beyond text, checked as the API checks them (content blocks, tools,
tool choice, thinking, fields the API does not have), and the emulator's choice of a tool call.

Messages follow the API's validation errors (`messages.0.content.1.source.media_type: …`); the
block shapes are the anthropic SDK 2.16.0 param types (types/*_block_param.py, tool_param.py,
tool_choice_*_param.py, thinking_config_*_param.py). Returns plain messages: `asks` wraps them.
"""

from __future__ import annotations

from typing import Any

from corthex.emulator import anthropic_cache
from corthex.emulator.answers import last_user_text

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
BLOCK_TYPES = frozenset({"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"})
#: fields of other providers' APIs the Messages API (SDK 2.16.0 `MessageCreateParamsBase`) does not have
NOT_FIELDS = ("top_p", "top_k", "seed", "stop", "frequency_penalty", "presence_penalty")
TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})
THINKING_TYPES = frozenset({"enabled", "adaptive", "disabled"})


def problem(params: dict[str, Any]) -> str | None:
    """The first thing the API would refuse in a body whose model, max_tokens and messages are set."""
    for name in NOT_FIELDS:
        if name in params:
            return f"{name}: Extra inputs are not permitted"
    found = _messages_problem(params["messages"]) or _tools_problem(params) or _thinking_problem(params)
    return found or anthropic_cache.breakpoint_problem(params)


# --- messages ----------------------------------------------------------------------------


def _messages_problem(messages: list[Any]) -> str | None:
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if isinstance(content, list):
            found = _blocks_problem(f"messages.{i}.content", content)
            if found:
                return found
        elif not isinstance(content, str):
            return f"messages.{i}.content: Input should be a valid string or list of blocks"
    return _pairing_problem(messages)


def _blocks_problem(where: str, blocks: list[Any]) -> str | None:
    for j, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            return f"{where}.{j}.type: Input tag {kind!r} found using 'type' does not match any of the expected tags"
        found = _block_problem(f"{where}.{j}", block)
        if found:
            return found
    return None


def _block_problem(where: str, block: dict[str, Any]) -> str | None:
    kind = block["type"]
    if kind == "text" and not isinstance(block.get("text"), str):
        return f"{where}.text: Field required"
    if kind == "image":
        return _source_problem(where, block.get("source"), IMAGE_TYPES, ("base64", "url"))
    if kind == "document":
        return _source_problem(where, block.get("source"), frozenset({"application/pdf"}), ("base64", "url", "text"))
    if kind == "tool_use" and not (isinstance(block.get("id"), str) and isinstance(block.get("input"), dict)):
        return f"{where}: a tool_use block needs an 'id' and an object 'input'"
    if kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
        return f"{where}.tool_use_id: Field required"
    return None


def _source_problem(where: str, source: Any, media: frozenset[str], kinds: tuple[str, ...]) -> str | None:
    kind = source.get("type") if isinstance(source, dict) else None
    if not isinstance(source, dict) or kind not in kinds:
        return f"{where}.source.type: Input tag {kind!r} does not match any of the expected tags {list(kinds)}"
    if kind == "url":
        url = source.get("url")
        return (
            None
            if isinstance(url, str) and url.startswith(("https://", "http://"))
            else f"{where}.source.url: URL should be http(s)"
        )
    if kind == "text":
        if source.get("media_type") != "text/plain" or not isinstance(source.get("data"), str):
            return f"{where}.source.media_type: Input should be 'text/plain'"
        return None
    if source.get("media_type") not in media:
        return f"{where}.source.media_type: Input should be {' or '.join(repr(m) for m in sorted(media))}"
    return None if isinstance(source.get("data"), str) and source["data"] else f"{where}.source.data: Field required"


def _pairing_problem(messages: list[dict[str, Any]]) -> str | None:
    """Every tool_use of an assistant turn needs its tool_result in the next (user) turn."""
    for i, message in enumerate(messages):
        uses = _ids(message, "tool_use", "id") if message["role"] == "assistant" else set()
        if not uses:
            continue
        following = messages[i + 1] if i + 1 < len(messages) else None
        answered = _ids(following, "tool_result", "tool_use_id") if following else set()
        missing = uses - answered
        if following is not None and missing:
            return (
                f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(sorted(missing))}. Each `tool_use` block must have a corresponding `tool_result` "
                "block in the next message."
            )
    return None


def _ids(message: dict[str, Any], kind: str, key: str) -> set[str]:
    content = message.get("content")
    blocks = content if isinstance(content, list) else []
    return {str(b.get(key)) for b in blocks if isinstance(b, dict) and b.get("type") == kind}


# --- tools and thinking ----------------------------------------------------------------------


def _tools_problem(params: dict[str, Any]) -> str | None:
    tools = params.get("tools")
    if tools is not None and not isinstance(tools, list):
        return "tools: Input should be a valid list"
    for k, tool in enumerate(tools or []):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return f"tools.{k}.name: Field required"
        schema = tool.get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return f"tools.{k}.input_schema.type: Input should be 'object'"
    choice = params.get("tool_choice")
    if choice is None:
        return None
    if not isinstance(choice, dict) or choice.get("type") not in TOOL_CHOICES:
        return "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"
    names = {t["name"] for t in tools or []}
    if choice["type"] == "tool" and choice.get("name") not in names:
        return f"tool_choice.name: Tool '{choice.get('name')}' not found in the provided tools"
    return None


def _thinking_problem(params: dict[str, Any]) -> str | None:
    thinking = params.get("thinking")
    if thinking is None:
        return None
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in THINKING_TYPES:
        return "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'"
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
        if budget >= params["max_tokens"]:
            return "`max_tokens` must be greater than `thinking.budget_tokens`."
    forced = (params.get("tool_choice") or {}).get("type") in ("any", "tool")
    if kind != "disabled" and forced:
        return "Thinking may not be enabled when tool_choice forces tool use."
    return None


def chosen_tool(params: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The tool the emulated model calls: none after a tool result (it answers in text) or with
    tool_choice none; the first (any) or the named one (tool); with auto, a tool the last user
    text names."""
    tools = [t for t in params.get("tools") or [] if isinstance(t, dict) and t.get("name")]
    choice = params.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type") if isinstance(choice, dict) else None
    if not tools or kind == "none" or _answers_a_tool(params.get("messages") or []):
        return None, None
    if kind == "tool":
        tools = [t for t in tools if t["name"] == choice.get("name")]
    elif kind == "auto":
        said = last_user_text(params.get("messages") or [])
        tools = [t for t in tools if t["name"] in said]
    return (tools[0]["name"], tools[0].get("input_schema")) if tools else (None, None)


def _answers_a_tool(messages: list[Any]) -> bool:
    last = messages[-1] if messages else None
    return isinstance(last, dict) and last.get("role") == "user" and bool(_ids(last, "tool_result", "tool_use_id"))

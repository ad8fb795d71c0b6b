"""Deterministic answers: the content and usage for a request are a function of what it asks.

Each provider's request is reduced to an `Ask` (model, last user message, token estimate, wanted
output shape); `answer(ask)` gives the same `Answer` for the same ask, every time.

Test hooks, read from the last user message:
- `[[emulator:reply=TEXT]]` answers exactly TEXT. TEXT is JSON-string-escaped (write `\\n` for
  a newline, `\\u005d` for `]`); if it does not decode as a JSON string body it is used as is.
  It ends at the first `]]`.
- `[[emulator:error]]` makes the request fail with a 400-type per-row error.
- `[[emulator:invalid_json]]` answers a structured-output request with JSON cut short (a
  model that did not hold to its schema).
- `[[emulator:finish=KIND]]` ends the answer as the real API would (docs/wire/finish-reasons.md):
  `empty` (the whole output budget spent thinking, no text), `cut` (text cut at the budget),
  `refusal` (the model declines), `safety` (a safety stop on the answer), `blocked` (the prompt
  blocked before any answer: Gemini's `promptFeedback`; a safety stop elsewhere).

Plain answers (no hook, no schema, no tool) come from `compose`: a short one-line English
prompt is echoed as `[emulated MODEL] prompt`; anything longer, a report, a length asked for
("in 300 words", "500자") or a Korean prompt gets plausible Markdown of that length and language.

Thinking: an ask from a model that thinks (`Ask.thinks`) spends reasoning tokens, reported in
each provider's usage and counted in its output tokens, as the real APIs always do.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from corthex.emulator.compose import compose
from corthex.emulator.schema_gen import generate

REPLY_HOOK = re.compile(r"\[\[emulator:reply=(.*?)\]\]", re.DOTALL)
ERROR_HOOK = "[[emulator:error]]"
INVALID_JSON_HOOK = "[[emulator:invalid_json]]"
INVALID_JSON = '{"answer": "cut sh'
FINISH_HOOK = re.compile(r"\[\[emulator:finish=(empty|cut|refusal|safety|blocked)\]\]")
THINKING_RATIO = 2  #: reasoning tokens per answer token, for a model that thinks
EMPTY_BUDGET = 4096  #: what an `empty` answer spends when the request set no budget
REFUSAL_TEXT = "I'm sorry, but I can't help with that."


@dataclass(frozen=True)
class Ask:
    model: str
    prompt: str  # text of the last user message
    input_text_words: int  # words over the system text and every message
    max_tokens: int | None = None
    schema: dict[str, Any] | None = None  # structured output wanted (JSON Schema)
    tool_name: str | None = None  # a forced tool call
    tool_schema: dict[str, Any] | None = None
    cached_words: int = 0  # words of a cacheable prefix (system text)
    cache_key: str | None = None  # identifies that prefix across requests
    thinks: bool = False  # the model spends reasoning tokens before it answers


@dataclass(frozen=True)
class Answer:
    text: str  # the reply text; for a tool call, the JSON arguments
    input_tokens: int
    output_tokens: int
    tool_name: str | None = None
    tool_args: dict[str, Any] | None = None
    reasoning_tokens: int = 0  # part of output_tokens
    finish: str = "stop"  # stop, length, refusal, safety or blocked; each provider renders its own

    @property
    def visible_tokens(self) -> int:
        return self.output_tokens - self.reasoning_tokens


def tokens(words: int) -> int:
    return max(1, math.ceil(words * 1.3))


def words_in(text: str) -> int:
    return len(text.split())


def wants_error(ask: Ask) -> bool:
    return ERROR_HOOK in ask.prompt


def answer(ask: Ask) -> Answer:
    base = _answer(ask)
    hook = FINISH_HOOK.search(ask.prompt)
    if hook is None or base.tool_name is not None:
        return base
    return _forced(ask, base, hook.group(1))


def _answer(ask: Ask) -> Answer:
    reply = scripted_reply(ask.prompt)
    if ask.tool_name is not None:
        args = _tool_args(reply, ask)
        text = orjson.dumps(args).decode()
        return _usage(ask, text, tool_name=ask.tool_name, tool_args=args)
    if reply is not None:
        return _usage(ask, reply)
    if ask.schema is not None and INVALID_JSON_HOOK in ask.prompt:
        return _usage(ask, INVALID_JSON)
    if ask.schema is not None:
        return _usage(ask, orjson.dumps(generate(ask.schema)).decode())
    return _usage(ask, compose(ask.model, ask.prompt, ask.max_tokens))


def scripted_reply(prompt: str) -> str | None:
    match = REPLY_HOOK.search(prompt)
    if match is None:
        return None
    raw = match.group(1)
    try:
        decoded = orjson.loads(b'"' + raw.encode() + b'"')
    except orjson.JSONDecodeError:
        return raw
    return decoded if isinstance(decoded, str) else raw


def _tool_args(reply: str | None, ask: Ask) -> dict[str, Any]:
    if reply is not None:
        try:
            parsed = orjson.loads(reply)
        except orjson.JSONDecodeError:
            parsed = None
        return parsed if isinstance(parsed, dict) else {"text": reply}
    generated = generate(ask.tool_schema or {"type": "object"})
    return generated if isinstance(generated, dict) else {"value": generated}


def _usage(ask: Ask, text: str, **extra: Any) -> Answer:
    """Output tokens for `text`, plus the reasoning of a model that thinks; the reasoning
    shrinks to fit the budget (only the `empty` and `cut` hooks make an answer miss it)."""
    out = tokens(words_in(text))
    reasoning = THINKING_RATIO * out if ask.thinks else 0
    if ask.max_tokens is not None and ask.max_tokens > 0:
        out = min(out, ask.max_tokens)
        reasoning = min(reasoning, ask.max_tokens - out)
    return Answer(text, tokens(ask.input_text_words), out + reasoning, reasoning_tokens=reasoning, **extra)


def _forced(ask: Ask, base: Answer, kind: str) -> Answer:
    budget = ask.max_tokens if ask.max_tokens and ask.max_tokens > 0 else EMPTY_BUDGET
    if kind == "empty":  # every output token went on thinking
        return Answer("", base.input_tokens, budget, reasoning_tokens=budget, finish="length")
    if kind == "cut":  # the first half of the answer, then the budget ran out
        words = base.text.split()
        text = " ".join(words[: max(1, len(words) // 2)])
        visible = min(tokens(words_in(text)), budget)
        reasoning = budget - visible if ask.thinks else 0
        return Answer(text, base.input_tokens, visible + reasoning, reasoning_tokens=reasoning, finish="length")
    said = tokens(words_in(REFUSAL_TEXT)) if kind == "refusal" else 0
    return Answer("", base.input_tokens, said, finish=kind)


# --- text extraction shared by the providers ---------------------------------------------


def text_of(content: Any) -> str:
    """Text of a message content: a string, a list of parts/blocks, or a Gemini `parts` holder."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        if "parts" in content:
            return text_of(content["parts"])
        value = content.get("text")
        return value if isinstance(value, str) else ""
    if isinstance(content, list):
        return "\n".join(t for t in (text_of(part) for part in content) if t)
    return ""


def last_user_text(messages: Any, role_key: str = "role", content_key: str = "content") -> str:
    if not isinstance(messages, list):
        return text_of(messages)
    for message in reversed(messages):
        if isinstance(message, dict) and message.get(role_key, "user") == "user":
            return text_of(message.get(content_key))
    return ""


def all_words(*texts: str) -> int:
    return sum(words_in(t) for t in texts)


def prefix_key(*texts: str) -> str | None:
    joined = "\x00".join(texts)
    if not joined.strip():
        return None
    return hashlib.blake2b(joined.encode(), digest_size=12).hexdigest()

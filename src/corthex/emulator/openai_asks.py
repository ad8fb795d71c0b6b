"""OpenAI's whole request in the emulator (issue 14): content parts, tools, tool choice, tool turns,
reasoning and sampling fields validated per request as the real API does (a row error in OpenAI's
shape), and the tool decision of a deterministic answer.

Tool rule (README "Test hooks"): with tools given and `tool_choice` not `none`, a `required` or
named choice always calls (the named tool; for `required` the tool the last user text names,
else the first); `auto` (or no choice) calls the first tool whose name the last user text
mentions, unless the conversation ends with a tool result, which is answered with text.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from corthex.domain.capabilities import capabilities
from corthex.domain.openai_spec import body_problem
from corthex.domain.requests import ProviderName
from corthex.emulator.answers import Ask, last_user_text
from corthex.emulator.asks import RowProblem, openai_ask, openai_problem
from corthex.emulator.openai_embeddings import EMBEDDINGS, embeddings_problem

CHAT, RESPONSES = "/v1/chat/completions", "/v1/responses"
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
CHAT_PART_TYPES = ("text", "image_url", "input_audio", "refusal", "audio", "file")
RESPONSES_PART_TYPES = ("input_text", "input_image", "output_text", "refusal", "input_file")
IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$")
PDF_DATA = re.compile(r"^data:application/pdf;base64,[A-Za-z0-9+/=]+$")
FILE_DATA = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=]+$")
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_STOP = 4
UNSUPPORTED_IMAGE = (
    "You uploaded an unsupported image. Please make sure your image has of one the following formats: "
    "['png', 'jpeg', 'gif', 'webp']."
)
TOOL_WITHOUT_CALL = (
    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
)


def _invalid(message: str, param: str, code: str = "invalid_value") -> RowProblem:
    return RowProblem(message, param, code)


# --- the request's problems ------------------------------------------------------------------


def openai_row_problem(url: str, body: Any) -> RowProblem | None:
    """The per-request problems of `asks.openai_problem`, then the whole request's."""
    if url == EMBEDDINGS and isinstance(body, dict):
        return embeddings_problem(body) or _spec_problem(url, body)
    problem = openai_problem(url, body)
    if problem is not None or not isinstance(body, dict) or url not in (CHAT, RESPONSES):
        return problem
    checks = (
        _chat_turns_problem(body.get("messages")) if url == CHAT else _responses_input_problem(body.get("input")),
        _tools_problem(url, body),
        _reasoning_problem(url, body),
        _sampling_problem(url, body),
    )
    return next((found for found in checks if found is not None), None) or _spec_problem(url, body)


#: OpenAI's error codes by the JSON Schema keyword a body broke (the API's 400s name these)
SPEC_CODES = {
    "required": "missing_required_parameter",
    "type": "invalid_type",
    "minimum": "integer_below_min_value",
    "maximum": "integer_above_max_value",
}


def _spec_problem(url: str, body: dict[str, Any]) -> RowProblem | None:
    """What the official spec's request schema refuses that no check above names (the same
    schemas intake checks native lines with: corthex.domain.openai_spec)."""
    found = body_problem(url, body)
    if found is None:
        return None
    param = found.field.removeprefix("body.")
    return RowProblem(f"Invalid '{param}': {found.reason}", param, SPEC_CODES.get(found.keyword, "invalid_value"))


def _chat_turns_problem(messages: Any) -> RowProblem | None:
    called: set[str] = set()
    for m, message in enumerate(messages if isinstance(messages, list) else []):
        if not isinstance(message, dict):
            continue
        for call in message.get("tool_calls") or []:
            called.add(str((call or {}).get("id")))
        if message.get("role") == "tool" and (found := _tool_turn_problem(message, m, called)):
            return found
        content = message.get("content")
        for p, part in enumerate(content if isinstance(content, list) else []):
            if found := _chat_part_problem(part, f"messages[{m}].content[{p}]"):
                return found
    return None


def _tool_turn_problem(message: dict[str, Any], m: int, called: set[str]) -> RowProblem | None:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        return RowProblem(
            "Missing parameter 'tool_call_id': messages with role 'tool' must have a 'tool_call_id'.",
            f"messages[{m}].tool_call_id",
            "missing_required_parameter",
        )
    return None if call_id in called else _invalid(TOOL_WITHOUT_CALL, f"messages[{m}].role")


def _chat_part_problem(part: Any, where: str) -> RowProblem | None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in CHAT_PART_TYPES:
        supported = ", ".join(f"'{t}'" for t in CHAT_PART_TYPES)
        return _invalid(f"Invalid value: '{kind}'. Supported values are: {supported}.", f"{where}.type")
    assert isinstance(part, dict)
    if kind == "image_url":
        image = part.get("image_url")
        if not isinstance(image, dict):
            return RowProblem(
                f"Invalid type for '{where}.image_url': expected an object, but got a string.",
                f"{where}.image_url",
                "invalid_type",
            )
        return _image_url_problem(image.get("url"), f"{where}.image_url.url")
    if kind == "file":
        file = part.get("file")
        file = file if isinstance(file, dict) else {}
        data = file.get("file_data")
        if file.get("file_id") is None and not (isinstance(data, str) and PDF_DATA.match(data)):
            return _invalid(
                f"Invalid value for '{where}.file.file_data': expected a base64 data URL of a PDF "
                "(data:application/pdf;base64,...) or a 'file_id'.",
                f"{where}.file.file_data",
            )
    return None


def _image_url_problem(url: Any, where: str) -> RowProblem | None:
    if isinstance(url, str) and (url.startswith(("https://", "http://")) or IMAGE_DATA.match(url)):
        return None
    return _invalid(UNSUPPORTED_IMAGE, where, "invalid_image_format")


def _responses_input_problem(items: Any) -> RowProblem | None:
    called: set[str] = set()
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            called.add(str(item.get("call_id")))
        elif item.get("type") == "function_call_output" and item.get("call_id") not in called:
            return _invalid(f"No tool call found for function call output with call_id {item.get('call_id')}.", "input")
        content = item.get("content")
        for p, part in enumerate(content if isinstance(content, list) else []):
            if found := _responses_part_problem(part, f"input[{i}].content[{p}]"):
                return found
    return None


def _responses_part_problem(part: Any, where: str) -> RowProblem | None:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind not in RESPONSES_PART_TYPES:
        supported = ", ".join(f"'{t}'" for t in RESPONSES_PART_TYPES)
        return _invalid(f"Invalid value: '{kind}'. Supported values are: {supported}.", f"{where}.type")
    assert isinstance(part, dict)
    if kind == "input_image":
        return None if part.get("file_id") else _image_url_problem(part.get("image_url"), f"{where}.image_url")
    if kind == "input_file":
        data, url = part.get("file_data"), part.get("file_url")
        fine = part.get("file_id") or (isinstance(url, str) and url.startswith("https://"))
        if not fine and not (isinstance(data, str) and FILE_DATA.match(data)):
            return _invalid(
                f"Invalid input file at '{where}': give 'file_data' (a base64 data URL), 'file_url' or 'file_id'.",
                where,
            )
    return None


# --- tools, reasoning, sampling ----------------------------------------------------------------


def declared_tools(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The function tools as {name, parameters}: chat nests them in `function`, responses not."""
    tools = body.get("tools")
    tools = tools if isinstance(tools, list) else []
    found = [t.get("function") if url == CHAT else t for t in tools if isinstance(t, dict)]
    return [t for t in found if isinstance(t, dict)]


def _tools_problem(url: str, body: dict[str, Any]) -> RowProblem | None:
    prefix = "tools[{}].function.name" if url == CHAT else "tools[{}].name"
    tools = declared_tools(url, body)
    for i, tool in enumerate(tools):
        if not isinstance(tool.get("name"), str) or not TOOL_NAME.match(tool["name"]):
            where = prefix.format(i)
            return _invalid(
                f"Invalid '{where}': string does not match pattern. Expected a string that matches the pattern "
                "'^[a-zA-Z0-9_-]+$'.",
                where,
            )
    choice = body.get("tool_choice")
    if choice is None or choice == "none" or (choice in ("auto", "required") and tools):
        return None
    if not tools:
        return _invalid(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice"
        )
    name = chosen_name(url, choice)
    if name is None or name not in {t.get("name") for t in tools}:
        return _invalid(f"Invalid value for 'tool_choice': no tool named {name!r} in 'tools'.", "tool_choice")
    return None


def chosen_name(url: str, choice: Any) -> str | None:
    if not isinstance(choice, dict) or choice.get("type") != "function":
        return None
    name = (choice.get("function") or {}).get("name") if url == CHAT else choice.get("name")
    return name if isinstance(name, str) else None


def sent_effort(url: str, body: dict[str, Any]) -> tuple[Any, str]:
    if url == CHAT:
        return body.get("reasoning_effort"), "reasoning_effort"
    reasoning = body.get("reasoning")
    return (reasoning.get("effort") if isinstance(reasoning, dict) else None), "reasoning.effort"


def _reasoning_problem(url: str, body: dict[str, Any]) -> RowProblem | None:
    effort, param = sent_effort(url, body)
    if effort is None:
        return None
    if effort not in EFFORTS:
        supported = ", ".join(f"'{e}'" for e in EFFORTS)
        return _invalid(f"Invalid value: '{effort}'. Supported values are: {supported}.", param)
    caps = capabilities(ProviderName.OPENAI, str(body.get("model")))
    if not caps.known:
        return None
    if not caps.efforts:
        return RowProblem(
            f"Unsupported parameter: '{param}' is not supported with this model.", param, "unsupported_parameter"
        )
    if effort not in caps.efforts:
        supported = ", ".join(f"'{e}'" for e in EFFORTS if e in caps.efforts)
        return RowProblem(
            f"Unsupported value: '{param}' does not support '{effort}' with this model. "
            f"Supported values are: {supported}.",
            param,
            "unsupported_value",
        )
    return None


def _sampling_problem(url: str, body: dict[str, Any]) -> RowProblem | None:
    if url == RESPONSES:
        unknown = next((key for key in ("stop", "seed") if key in body), None)
        return None if unknown is None else RowProblem(f"Unknown parameter: '{unknown}'.", unknown, "unknown_parameter")
    stop = body.get("stop")
    if stop is None:
        return None
    if not capabilities(ProviderName.OPENAI, str(body.get("model"))).stop:
        return RowProblem(
            "Unsupported parameter: 'stop' is not supported with this model.", "stop", "unsupported_parameter"
        )
    if isinstance(stop, list) and len(stop) > MAX_STOP:
        return RowProblem(
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
            f"but got an array with length {len(stop)} instead.",
            "stop",
            "array_above_max_length",
        )
    return None


# --- the tool decision ------------------------------------------------------------------------


def openai_full_ask(url: str, body: dict[str, Any]) -> Ask:
    """`asks.openai_ask`, with the tool call decided by the rule in this module's docstring."""
    ask = openai_ask(url, body)
    if url == RESPONSES and isinstance(body.get("input"), list):  # tool items have no role: not the user's
        ask = dataclasses.replace(
            ask, prompt=last_user_text([i for i in body["input"] if isinstance(i, dict) and "role" in i])
        )
    tool = _tool_to_call(url, body, ask.prompt)
    if tool is None:
        return dataclasses.replace(ask, tool_name=None, tool_schema=None)
    return dataclasses.replace(ask, tool_name=tool.get("name"), tool_schema=tool.get("parameters"))


def _tool_to_call(url: str, body: dict[str, Any], prompt: str) -> dict[str, Any] | None:
    tools = [t for t in declared_tools(url, body) if isinstance(t.get("name"), str)]
    choice = body.get("tool_choice")
    if not tools or choice == "none":
        return None
    named = chosen_name(url, choice)
    if named is not None:
        return next((t for t in tools if t["name"] == named), None)
    mentioned = next((t for t in tools if t["name"] in prompt), None)
    if choice == "required":
        return mentioned or tools[0]
    return None if _ends_with_tool_result(url, body) else mentioned


def _ends_with_tool_result(url: str, body: dict[str, Any]) -> bool:
    turns = body.get("messages") if url == CHAT else body.get("input")
    last = turns[-1] if isinstance(turns, list) and turns else None
    if not isinstance(last, dict):
        return False
    return last.get("role") == "tool" if url == CHAT else last.get("type") == "function_call_output"

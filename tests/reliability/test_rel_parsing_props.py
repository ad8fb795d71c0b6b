"""Property-based tests of the input parser: any bytes give, line by line, a request or a problem
naming its line, never an exception; valid requests survive a round trip."""

from __future__ import annotations

import io
import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.engine.intake import read_objects
from corthex.errors import InputProblem, InvalidInput

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["custom_id", "model", "provider", "prompt", "messages", "system", "max_output_tokens", "temperature"]
near_requests = st.fixed_dictionaries(
    {},
    optional={
        "custom_id": st.text(max_size=8) | json_values,
        "model": st.sampled_from(["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash", "nope", ""]) | json_values,
        "prompt": st.text(max_size=10) | json_values,
        "messages": st.lists(st.fixed_dictionaries({"role": st.text(max_size=9), "content": json_values}), max_size=3),
        "max_output_tokens": json_values,
        "temperature": json_values,
        "provider": st.sampled_from(["openai", "anthropic", "gemini", "x"]),
        "metadata": json_values,
        "cache_system": json_values,
    },
)


def check_lines(lines: list[bytes] | list[str], count_lines: int) -> list[LLMRequest | InputProblem]:
    out = list(parse_lines(lines))
    for item in out:
        assert isinstance(item, LLMRequest | InputProblem)
        if isinstance(item, InputProblem):
            assert 1 <= item.line <= count_lines and item.reason and str(item).startswith("line ")
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_give_requests_or_problems_naming_a_line(data: bytes) -> None:
    lines = io.BytesIO(data).readlines()  # as `read_file` reads a file
    check_lines(lines, len(lines))


@settings(max_examples=150, deadline=None)
@given(st.lists(near_requests | json_values, max_size=6))
def test_near_miss_json_lines_never_raise(items: list[object]) -> None:
    lines = [json.dumps(item) for item in items]  # json: integers beyond 64 bits too
    out = check_lines(lines, len(lines))
    ids = [r.custom_id for r in out if isinstance(r, LLMRequest)]
    assert len(ids) == len(set(ids))  # duplicates are problems, never two requests


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=5))
def test_any_text_lines_never_raise(lines: list[str]) -> None:
    check_lines([line.replace("\n", " ") for line in lines], len(lines))


@settings(max_examples=200, deadline=None)
@given(st.lists(near_requests | json_values | st.sets(st.integers(), max_size=2), max_size=5))
def test_api_bodies_are_accepted_whole_or_refused_with_every_problem_named(items: list[object]) -> None:
    try:
        intake = read_objects(items, skip_invalid=False)
    except InvalidInput as exc:
        assert exc.problems and all(p.unit == "item" or p.line == 0 for p in exc.problems)
        return
    assert intake.total == len(items)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=10),
            st.sampled_from(["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"]),
            st.text(min_size=1, max_size=30),
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_valid_requests_round_trip(spec: list[tuple[str, str, str]]) -> None:
    spec = [s for s in spec if s[0].strip() and "\x00" not in s[0]]  # NUL is refused (PostgreSQL)
    lines = [orjson.dumps({"custom_id": c, "model": m, "prompt": p}) for c, m, p in spec]
    out = check_lines(lines, len(lines))
    assert [(r.custom_id, r.model, r.messages[0].content) for r in out] == spec

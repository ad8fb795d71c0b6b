"""Splitting, escaping and formatting (pure); each part is checked by the fake server's HTML parser,
which rejects what Telegram rejects."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from tg_fakebot import parse_html, utf16_len

from corthex.domain.budget import BudgetStatus
from corthex.domain.chain import ChainStatus, Step
from corthex.domain.events import BatchEnded, ChainItem, ChainStarted
from corthex.store.chains import ChainRow
from corthex.telegram import messages as m


def visible(part: str) -> str:
    error, text = parse_html(part)
    assert error is None, (error, part[:200])
    return text


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_markdown_is_converted_minimally_and_everything_else_escaped() -> None:
    lines = m.markdown_lines("# Title <x>\n**Risk** & `a<b>` > 2\n- item & co\n```\n# not a heading <\n```")
    assert [line.html for line in lines] == [
        "<b>Title &lt;x&gt;</b>",
        "<b>Risk</b> &amp; <code>a&lt;b&gt;</code> &gt; 2",
        "• item &amp; co",
        "```",
        "# not a heading &lt;",
        "```",
    ]
    assert all(visible(line.html) is not None for line in lines)


def test_a_short_message_is_one_unnumbered_part() -> None:
    assert m.numbered(m.markdown_lines("Hello & <world>")) == ["Hello &amp; &lt;world&gt;"]
    assert m.numbered([]) == ["(empty)"]


def test_parts_are_cut_between_paragraphs_and_numbered() -> None:
    paragraphs = [f"Paragraph {i}: " + "a & b < c " * 40 for i in range(30)]  # ~470 escaped chars each
    parts = m.numbered(m.markdown_lines("\n\n".join(paragraphs)))
    assert len(parts) > 2
    for i, part in enumerate(parts, 1):
        assert part.startswith(f"({i}/{len(parts)})\n") and utf16_len(part) <= m.LIMIT
        visible(part)
    body = [re.sub(r"^\(\d+/\d+\)\n", "", p) for p in parts]
    assert [paragraph for part in body for paragraph in part.split("\n\n")] == [m.esc(p) for p in paragraphs]


def test_an_overlong_line_is_cut_between_words_without_breaking_entities() -> None:
    line = "word&<> " * 1000  # 8,000 characters, 26,000 once escaped
    pieces = m.hard_split(line, 500)
    assert all(utf16_len(p) <= 500 for p in pieces)
    assert "".join(visible(p) for p in pieces) == line
    assert all(p.endswith(" ") for p in pieces[:-1])  # cut after whitespace


def test_a_line_without_spaces_is_cut_anywhere_and_emoji_count_double() -> None:
    line = "😀" * 3000  # 6,000 UTF-16 units
    parts = m.split_lines([m.Line.plain(line)], 4096)
    assert [utf16_len(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == line


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab <>&\"'*#`-_\n😀가")), max_size=9000), st.integers(60, 4096))
def test_any_text_splits_into_valid_parts_under_the_limit(text: str, limit: int) -> None:
    plain = m.split_lines([m.Line.plain(line) for line in text.splitlines()], limit)
    assert all(utf16_len(p) <= limit for p in plain)
    assert squash("".join(visible(p) for p in plain)) == squash(text)  # nothing lost or added
    for part in m.numbered(m.markdown_lines(text), limit):
        assert utf16_len(part) <= limit
        visible(part)


def chain(**changes: object) -> ChainRow:
    base = dict(
        id="ch_0123456789ab",
        command="Analyse <this> & that",
        broadcast=False,
        realtime=False,
        status=ChainStatus.RUNNING,
        step=Step.SPECIALISTS,
        departments=("cio",),
        route_method="keyword",
        route_detail="주식",
        origin="telegram",
        origin_ref="1",
        report=None,
        error=None,
        created_at=1000.0,
        updated_at=1000.0,
        completed_at=None,
    )
    return ChainRow(**{**base, **changes})  # type: ignore[arg-type]


def test_report_has_header_cost_and_saving() -> None:
    [part] = m.report_parts(chain(), "# Investment report\n\nBuy **low** & sell high.", 0.0015, 0.003)
    text = visible(part)
    assert text.startswith("📦 Report of chain ch_0123456789ab (batch)\n\nInvestment report\n\nBuy low & sell high.")
    assert text.endswith("💰 cost $0.001500 · realtime price $0.003000 · saved $0.001500 (50%)")
    [rt] = m.report_parts(chain(realtime=True, broadcast=True), "x", 0.02, 0.02)
    assert "(realtime · broadcast)" in rt and "💰 cost $0.0200 (no batch saving)" in rt


def test_status_names_each_chain_by_its_full_id() -> None:
    chains = [chain(), chain(id="ch_ffffffffffff", step=Step.CLASSIFY, departments=(), created_at=1000.0 - 3700)]
    text = visible(m.status_parts(chains, now=1125.0)[0])
    assert "ch_0123456789ab · step specialists · batch\n   cio · 2m 05s · Analyse <this> & that" in text
    assert "ch_ffffffffffff · step classify · batch\n   to be classified · 1h 03m" in text
    assert m.status_parts([], now=0) == ["No chains are running."]
    assert "… and more" in visible(m.status_parts(chains, now=1125.0, more=True)[0])


def test_budget_text() -> None:
    assert m.budget_text(BudgetStatus("Asia/Seoul", 6.0, spent=1.5, held=0.0)) == (
        "Today in Asia/Seoul (since 00:00): spent $1.5000 of the $6.0000 daily budget (25%); $4.5000 left."
    )
    assert "No daily budget set" in m.budget_text(BudgetStatus("UTC", None, spent=0.0, held=0.0))
    # what open jobs will still cost is held back: the same "left" a submission is checked against
    assert m.budget_text(BudgetStatus("Asia/Seoul", 6.0, spent=1.5, held=0.5)).endswith(
        "(25%); open jobs will still cost ~$0.5000; $4.0000 left."
    )
    assert m.budget_text(BudgetStatus("UTC", 1.0, spent=0.75, held=0.5)).endswith("over by $0.2500.")


def test_command_problems() -> None:
    assert m.command_problem("  \n ", "/batch <command>") == "Usage: /batch &lt;command&gt;"
    assert m.command_problem("x" * 20_001, "/rt <command>") is None  # the engine refuses it, with its reason
    assert visible(m.start_failed("bad <org> & more")) == "❌ The chain was not started: bad <org> & more"
    visible(m.HELP)


def test_progress_lines_are_short_and_escaped() -> None:
    started = ChainStarted(
        chain_id="ch_1",
        command="a <b> " * 50,
        step="delegate",
        route="keyword",
        departments=("cio",),
        realtime=True,
        broadcast=False,
        origin="telegram",
    )
    line = m.progress_line(started)
    assert line and "realtime" in line and "&lt;b&gt;" in line and len(line) < 250
    item = ChainItem(
        chain_id="ch_1",
        step="delegate",
        custom_id="delegate:x<y",
        agent="x<y",
        model="m",
        status="failed",
        cost_usd=0.0,
        error="E&E",
    )
    assert m.progress_line(item) == "   ✘ x&lt;y (m): E&amp;E"
    assert m.progress_line(BatchEnded(batch_id="b", provider="openai", status="ended")) is None
    visible(m.progress_parts("ch_1", [line, m.progress_line(item) or ""])[0])

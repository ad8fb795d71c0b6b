"""The command line's shape (issue 13): `corthex chain` as a group of `run`, `list` and `show`, and
`corthex status` saying that it only reads. Run in this process through Typer's runner against the
emulator: the words a user types, the engine and the SDKs as they are."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def chain(cli):  # noqa: ANN201 - returns the runner
    return lambda *words, code=0: cli("chain", *words, code=code)


def started(output: str) -> str:
    return re.search(r"chain (ch_[0-9a-f]+) started;", output).group(1)


def test_help_lists_run_list_and_show_with_their_options(chain) -> None:
    group = chain("--help")
    assert [name for name in ("run", "list", "show") if re.search(rf"│ {name} ", group)] == ["run", "list", "show"]
    assert all(flag in chain("run", "--help") for flag in ("--broadcast", "--realtime", "--wait"))
    assert "CHAIN_ID" in chain("show", "--help").upper()


def test_run_list_runs_a_chain_whose_command_is_list(chain) -> None:
    """`list` was taken by hand as the sub-command: no chain could be asked to "list"."""
    listed = started(chain("run", "list"))
    assert re.search(rf"{listed} \w+ at step \w+: list\n", chain("show", listed))


def test_the_command_alone_still_runs_a_chain_with_its_options_anywhere(chain) -> None:
    first = started(chain("--broadcast", "삼성전자 주가 분석"))  # the options before the command, no `run`
    second = started(chain("삼성전자", "주가", "분석"))  # words are joined, as before
    table = chain("list")
    assert re.search(rf"{first} .* broadcast .* 삼성전자 주가 분석", table), table
    assert re.search(rf"{second} .* single .* 삼성전자 주가 분석", table), table


def test_an_unknown_chain_is_a_clear_error(chain) -> None:
    assert "no chain with id 'ch_000000000000'" in chain("show", "ch_000000000000", code=2)


def test_status_says_in_its_help_that_it_only_reads(cli) -> None:
    text = " ".join(cli("status", "--help").replace("│", " ").split())
    assert "never sends the queue, creates or retries a batch, or advances a chain" in text

"""Rules written once: every job (a batch job, a chain's step) is recorded by one submission path,
and the NUL rule lives in one module."""

from __future__ import annotations

import ast
from pathlib import Path

import corthex

SRC = Path(corthex.__file__).parent


def calls_of(name: str) -> set[str]:
    """The modules (relative to the package) that call a function or method called `name`."""
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    found.add(str(path.relative_to(SRC)))
    return found


def test_jobs_are_recorded_and_budgeted_by_one_submission_path() -> None:
    assert calls_of("add_job") == {"engine/submission.py"}
    assert calls_of("budget_guard") == {"engine/submission.py"}
    assert calls_of("check_budget") == {"engine/submission.py"}


def test_the_nul_character_is_named_in_one_module() -> None:
    naming = set()
    for path in SRC.rglob("*.py"):
        if "emulator" in path.parts:  # the emulator joins its id parts with NUL: no rule of ours
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\x00" in node.value:
                naming.add(str(path.relative_to(SRC)))
    assert naming == {"domain/storable.py"}

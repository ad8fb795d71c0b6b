"""The house rules that keep the layers apart (DESIGN.md §5), and the public surface."""

from __future__ import annotations

import ast
from pathlib import Path

import corthex

SRC = Path(corthex.__file__).parent
FORBIDDEN_IN_DOMAIN = (
    "sqlalchemy",
    "openai",
    "anthropic",
    "google",
    "fastapi",
    "typer",
    "httpx",
    "telegram",
    "corthex.store",
    "corthex.providers",
    "corthex.engine",
    "corthex.api",
)


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_domain_is_pure() -> None:
    for path in (SRC / "domain").glob("*.py"):
        bad = {m for m in imported_modules(path) if m.startswith(FORBIDDEN_IN_DOMAIN)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_only_providers_import_the_vendor_sdks() -> None:
    for path in SRC.rglob("*.py"):
        if path.parent.name in ("providers", "emulator", "api", "telegram"):
            continue
        bad = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in ("openai", "anthropic") or m.startswith("google.genai")
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_public_api_is_locked() -> None:
    assert sorted(corthex.__all__) == [
        "BudgetExceeded",
        "ChainStatus",
        "Client",
        "CorthexError",
        "Engine",
        "InputProblem",
        "InvalidInput",
        "JobStatus",
        "JobSummary",
        "LLMRequest",
        "Message",
        "NotFound",
        "ProviderError",
        "ProviderName",
        "Settings",
        "Step",
        "SubmitReport",
        "UsageError",
    ]

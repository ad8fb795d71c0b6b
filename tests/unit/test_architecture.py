"""The house rules that keep the layers apart (DESIGN.md §5), and the public surface."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import corthex

SRC = Path(corthex.__file__).parent
FORBIDDEN_IN_DOMAIN = (
    "sqlalchemy",
    "openai",
    "anthropic",
    "mistralai",
    "google",
    "boto3",
    "botocore",
    "moto",
    "fastapi",
    "typer",
    "httpx",
    "telegram",
    "corthex.store",
    "corthex.providers",
    "corthex.engine",
    "corthex.api",
)


#: The outer layers: they reach the system through `Engine` only (DESIGN.md §5)
OUTER = ("api", "telegram", "cli.py", "chain_cli.py", "demo.py")
#: what an outer layer may import from the engine: the public Engine (it re-exports the row types
#: and constants an outer layer names); the typed events are `corthex.domain.events`
ENGINE_DOOR = "corthex.engine.engine"
#: the engine's insides: its store, its context (store, providers, wake-up, leases) and the chain
#: orchestrator; `_store` / `_ctx` are named too, so that a rename cannot slip past
ENGINE_INSIDES = {"store", "ctx", "_store", "_ctx", "_context", "chains"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from corthex import store`
    return names


def outer_modules() -> list[Path]:
    paths: list[Path] = []
    for name in OUTER:
        path = SRC / name
        paths.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return paths


def forbidden_import(module: str) -> bool:
    if module == "corthex.store" or module.startswith("corthex.store."):
        return True
    inside_engine = module.startswith("corthex.engine.") and module != ENGINE_DOOR
    return inside_engine and not module.startswith(ENGINE_DOOR + ".")  # `from corthex.engine.engine import X`


def _is_engine(node: ast.expr) -> bool:
    """`engine`, `self.engine`, `state.engine`, `self._engine`…: an expression named for the engine."""
    if isinstance(node, ast.Name):
        return node.id.lstrip("_").endswith("engine")
    return isinstance(node, ast.Attribute) and node.attr.lstrip("_").endswith("engine")


def reaches_inside(path: Path) -> list[str]:
    """Each `<engine>.store`, `<engine>.ctx`, … in the module, as "file:line engine.store"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_INSIDES and _is_engine(node.value):
            found.append(f"{path.relative_to(SRC)}:{node.lineno} {ast.unparse(node)}")
    return found


def test_the_domain_is_pure() -> None:
    for path in (SRC / "domain").glob("*.py"):
        bad = {m for m in imported_modules(path) if m.startswith(FORBIDDEN_IN_DOMAIN)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_outer_layers_import_neither_the_store_nor_the_engine_insides() -> None:
    bad = {
        f"{path.relative_to(SRC)}: {module}"
        for path in outer_modules()
        for module in imported_modules(path)
        if forbidden_import(module)
    }
    assert not bad, "use the Engine's methods and what corthex.engine.engine exports:\n" + "\n".join(sorted(bad))


def test_outer_layers_do_not_reach_past_the_engine() -> None:
    reaches = [reach for path in outer_modules() for reach in reaches_inside(path)]
    assert not reaches, f"{len(reaches)} reaches past Engine (use its methods):\n" + "\n".join(reaches)


def test_the_checks_see_what_they_must() -> None:
    """The two checks above catch the forms they are meant for (and allow the door)."""
    assert forbidden_import("corthex.store.chains") and forbidden_import("corthex.engine.chains")
    assert forbidden_import("corthex.store") and forbidden_import("corthex.engine.events")
    assert not forbidden_import("corthex.engine.engine") and not forbidden_import("corthex.engine.engine.ChainRow")
    assert not forbidden_import("corthex.domain.events") and not forbidden_import("corthex.engine")
    code = "state.engine.store.x; self.engine.ctx.wake.set(); engine.chains.org; engine._store; state.store; ctx.store"
    tree = ast.parse(code)
    caught = sorted(
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ENGINE_INSIDES and _is_engine(node.value)
    )
    assert caught == ["engine._store", "engine.chains", "self.engine.ctx", "state.engine.store"]


def test_only_providers_import_the_vendor_sdks() -> None:
    for path in SRC.rglob("*.py"):
        if path.parent.name in ("providers", "emulator", "api", "telegram"):
            continue
        bad = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] in ("openai", "anthropic", "mistralai") or m.startswith("google.genai")
        }
        assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


#: where boto3 may be imported: the Bedrock adapter, the emulator's S3 side, the shipped local S3 for tests
BOTO3_HOMES = ("providers/bedrock.py", "emulator/bedrock_jobs.py", "testing/s3.py")


def test_only_the_bedrock_adapter_and_the_local_s3_import_boto3() -> None:
    """boto3 takes ~0.5 s and tens of MB to import: `corthex --help`, planning and the other
    adapters never load it."""
    for path in SRC.rglob("*.py"):
        where = path.relative_to(SRC).as_posix()
        bad = {m for m in imported_modules(path) if m.split(".")[0] in ("boto3", "botocore", "moto")}
        assert not bad or where in BOTO3_HOMES, f"{where} imports {sorted(bad)}"


#: what a process that only reads and sizes a job may load (the SDKs cost ~150 MB and seconds)
SIZING_SCRIPT = """
import sys
from corthex.engine.intake import read_objects
lines = [{"custom_id": f"{m}-{i}", "model": m, "prompt": "리뷰를 분류해 주세요"}
         for i in range(3)
         for m in ("gpt-5-mini", "gpt-5-nano", "claude-haiku-4-5", "gemini-2.5-flash", "mistral-small-latest")]
lines += [{"custom_id": f"b{i}", "model": "claude-haiku-4-5", "provider": "bedrock", "prompt": "요약"} for i in range(3)]
rows = [row for chunk in read_objects(lines, skip_invalid=False).chunks("t") for row in chunk]
assert len(rows) == 18 and all(row["size"] > 0 for row in rows), rows
print(sorted(m for m in ("openai", "anthropic", "google.genai", "mistralai", "boto3") if m in sys.modules))
"""


def test_sizing_a_job_loads_no_provider_sdk() -> None:
    """Planning counts each request's bytes in its provider's wire form (`providers/wire/`),
    which is pure: a submission is sized without importing an SDK."""
    run = subprocess.run([sys.executable, "-c", SIZING_SCRIPT], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


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
        "RowTemplate",
        "Settings",
        "Step",
        "SubmitReport",
        "UsageError",
    ]

"""The Markdown archive: one file per chain under CORTHEX_ARCHIVE_DIR, with front matter."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from corthex.crashpoints import crash_point

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, limit: int = 60) -> str:
    """A file-name fragment that cannot leave its directory: ASCII letters, digits, ., _, -."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    name = _UNSAFE.sub("-", ascii_text).strip(".-_")[:limit].strip(".-_")
    return name or "report"


def archive_path(root: Path, chain_id: str, created_at: float, department: str) -> Path:
    stamp = datetime.fromtimestamp(created_at, UTC).strftime("%Y%m%d-%H%M%S")
    path = (root / f"{stamp}_{safe_name(department, 30)}_{safe_name(chain_id, 40)}.md").resolve()
    if root.resolve() not in path.parents:  # belt and braces: safe_name already forbids this
        raise ValueError(f"archive path escapes {root}")
    return path


def write_report(
    root: Path, chain: dict[str, Any], report: str, *, models: list[str], cost: float, realtime_cost: float
) -> Path:
    """Write (or rewrite: delivery may be replayed after a crash) the chain's report file."""
    root.mkdir(parents=True, exist_ok=True)
    department = "broadcast" if chain["broadcast"] else (chain["departments"] or ["unknown"])[0]
    path = archive_path(root, chain["id"], chain["created_at"], department)
    front = {
        "chain_id": chain["id"],
        "department": department,
        "command": chain["command"],
        "mode": "broadcast" if chain["broadcast"] else "single",
        "transport": "realtime" if chain["realtime"] else "batch",
        "models": sorted(set(models)),
        "cost_usd": round(cost, 6),
        "realtime_cost_usd": round(realtime_cost, 6),
        "created_at": datetime.fromtimestamp(chain["created_at"], UTC).isoformat(),
    }
    text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n\n" + report + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    crash_point("during_delivery")  # a replayed delivery rewrites the same temporary file
    tmp.replace(path)
    return path


class ArchiveDelivery:
    """Delivers a chain's report into the Markdown archive."""

    name = "archive"

    def __init__(self, root: Path, chains: Any) -> None:
        self.root, self.chains = root, chains

    async def deliver(self, chain: Any, report: str) -> None:
        cost, realtime_cost = await self.chains.cost(chain.id)
        models = await self.chains.models(chain.id)
        write_report(self.root, chain.to_dict(), report, models=models, cost=cost, realtime_cost=realtime_cost)

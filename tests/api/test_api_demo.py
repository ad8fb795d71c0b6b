"""`corthex demo --exit` as a user runs it: emulator, server, a sample job and a chain, then exit."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pg_cluster import free_port


def test_the_demo_runs_a_job_and_a_chain_and_prints_the_dashboard_address(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORTHEX_", "OPENAI_", "ANTHROPIC_", "GEMINI_"))}
    port = free_port()
    out = subprocess.run(
        [sys.executable, "-m", "corthex", "demo", "--exit", "--requests", "3", "--port", str(port)],
        env={**env, "COLUMNS": "160"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert re.search(rf"dashboard: http://127\.0\.0\.1:{port}/", out.stdout)
    # 3 per provider and 1 each for Groq, Mistral, Azure (and Vertex AI, Bedrock when their local
    # storage is installed, as the dev extra does): all succeeded (any table style)
    total = re.search(r"total\W+(\d+)\W+(\d+)\W+0\b", out.stdout)
    assert total and total[1] == total[2] and int(total[1]) in (12, 14), out.stdout
    assert "report of chain ch_" in out.stdout and "(completed)" in out.stdout
    assert "saving $" in out.stdout
    assert list((tmp_path / ".corthex" / "archive").glob("*.md"))

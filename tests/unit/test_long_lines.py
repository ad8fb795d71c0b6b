"""An over-long line is refused by its length while it is read, before it is decoded or parsed
(issue 12 item 12: a 300 MB single line cost 1.9 GB of memory before it was refused)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import orjson

from corthex.domain import limits
from corthex.engine.intake import read_file
from corthex.errors import InvalidInput

PROMPT = "안녕하세요, 오늘 회의록을 정리해 주세요."

# Run in its own process, so that the peak memory (ru_maxrss) is this read's alone. The limits are
# lowered to 1 MB so that a 48 MB line is over them: read whole, it would cost several times 48 MB.
_MEASURE = textwrap.dedent(
    """
    import dataclasses, resource, sys
    from pathlib import Path
    from corthex.domain import limits
    from corthex.engine.intake import read_file
    from corthex.errors import InvalidInput

    for name, row in list(limits.LIMITS.items()):
        limits.LIMITS[name] = dataclasses.replace(row, max_request_bytes=1_000_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        read_file(Path(sys.argv[1]), skip_invalid=False)
    except InvalidInput as exc:
        print(exc.problems[0])
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """
)


def request_line(custom_id: str, prompt: str) -> bytes:
    return orjson.dumps({"custom_id": custom_id, "model": "gpt-4o-mini", "prompt": prompt}) + b"\n"


def test_an_over_long_line_is_refused_without_being_held_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    big = 48 * 1024 * 1024
    with path.open("wb") as fh:
        fh.write(request_line("short", PROMPT))
        fh.write(b'{"custom_id": "long", "model": "gpt-4o-mini", "prompt": "')
        for _ in range(big // (1024 * 1024)):
            fh.write(b"x" * (1024 * 1024))
        fh.write(b'"}\n')
        fh.write(request_line("after", PROMPT))
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    problem, grown_mb = out.stdout.strip().splitlines()
    assert int(grown_mb) < 16, f"reading the file grew the process by {grown_mb} MB"
    assert problem.startswith("line 2: the line is 50,331,7") and "1,000,000 bytes" in problem


def test_lines_longer_than_the_read_size_but_under_the_limit_are_read_whole(tmp_path: Path, monkeypatch) -> None:
    """A line over the 4 MiB read size is measured, then read again whole when it fits."""
    monkeypatch.setattr("corthex.engine.intake.HOLD_CHARS", 64, raising=False)
    path = tmp_path / "mixed.jsonl"
    long_prompt = PROMPT * 50  # ~3 KB: over the read size, under every limit
    path.write_bytes(request_line("a", PROMPT) + request_line("b", long_prompt) + request_line("c", PROMPT).rstrip())
    prompts = [r.messages[0].content for r in read_file(path, skip_invalid=False).requests()]
    assert prompts == [PROMPT, long_prompt, PROMPT]


def test_the_same_bound_holds_for_a_file_in_another_encoding(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("corthex.engine.intake.HOLD_CHARS", 64, raising=False)
    for name, row in list(limits.LIMITS.items()):
        monkeypatch.setitem(limits.LIMITS, name, replace(row, max_request_bytes=2_000))
    for encoding in ("cp949", "utf-16"):
        path = tmp_path / f"in.{encoding}.jsonl"
        text = (request_line("a", PROMPT) + request_line("b", PROMPT * 100) + request_line("c", PROMPT)).decode()
        path.write_text(text, encoding=encoding)
        try:
            read_file(path, skip_invalid=False, encoding=encoding)
        except InvalidInput as exc:
            [problem] = exc.problems
        assert problem.line == 2 and "over the largest request any provider takes (2,000 bytes)" in problem.reason
        assert [r.custom_id for r in read_file(path, skip_invalid=True, encoding=encoding).requests()] == ["a", "c"]


def test_the_line_limit_is_the_largest_request_a_provider_takes() -> None:
    """Anthropic's batch body (256 MB less the envelope) is the largest; a 300 MB line is over every limit."""
    assert limits.largest_request_bytes() == 256_000_000 - 64 * 1024 < 300_000_000

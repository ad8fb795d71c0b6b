"""Files that are not UTF-8 (issue 12, item 8): a CP949 Korean file used to be decoded with
replacement characters and sent, billed, as `�Ｚ����`; a UTF-8 byte order mark was refused and a
UTF-16 file gave "invalid JSON" on every line. Now: strict UTF-8 by default, the problem named
with its line and a hint; `encoding` reads the file as what it is; a BOM is dropped."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from corthex.engine.intake import read_file
from corthex.errors import InvalidInput, UsageError

PROMPTS = ["삼성전자 분기 실적을 요약해 주세요", "배송이 늦어요. 환불 가능한가요?"]


def lines(prompts: list[str]) -> str:
    rows = [{"custom_id": f"k{i}", "model": "gpt-5-mini", "prompt": p} for i, p in enumerate(prompts)]
    return "".join(orjson.dumps(row).decode() + "\n" for row in rows)


def written(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    return path


def prompts_of(path: Path, **options: str) -> list[str]:
    intake = read_file(path, skip_invalid=False, **options)
    return [request.messages[-1].content for request in intake.requests()]


def test_a_cp949_file_is_refused_naming_the_line_and_the_fix(tmp_path: Path) -> None:
    path = written(tmp_path, lines(PROMPTS).encode("cp949"))
    with pytest.raises(InvalidInput) as refused:
        read_file(path, skip_invalid=False)
    message = str(refused.value)
    assert "line 1: not UTF-8 text" in message and "line 2: not UTF-8 text" in message
    assert "--encoding cp949" in message


def test_with_its_encoding_a_cp949_file_is_read_exactly(tmp_path: Path) -> None:
    path = written(tmp_path, lines(PROMPTS).encode("cp949"))
    assert prompts_of(path, encoding="cp949") == PROMPTS


def test_a_utf8_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = written(tmp_path, b"\xef\xbb\xbf" + lines(PROMPTS).encode())
    assert prompts_of(path) == PROMPTS


def test_a_utf16_file_is_named_as_such_and_read_with_its_encoding(tmp_path: Path) -> None:
    path = written(tmp_path, lines(PROMPTS).encode("utf-16"))  # with its byte order mark
    with pytest.raises(InvalidInput) as refused:
        read_file(path, skip_invalid=False)
    assert "line 1: the file is UTF-16" in str(refused.value) and "--encoding utf-16" in str(refused.value)
    assert prompts_of(path, encoding="utf-16") == PROMPTS


def test_a_wrong_encoding_is_named_at_the_line_where_it_fails(tmp_path: Path) -> None:
    data = (lines(PROMPTS[:1]) + lines(["plain ascii"]).replace("k0", "k1")).encode()
    path = written(tmp_path, data)
    with pytest.raises(InvalidInput) as refused:
        read_file(path, skip_invalid=False, encoding="ascii")
    assert "line 1: not ascii text" in str(refused.value)


def test_an_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    path = written(tmp_path, lines(PROMPTS).encode())
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        read_file(path, skip_invalid=False, encoding="klingon")

"""Tables in, tables out (issue 14): a CSV or Parquet of rows becomes one request per row from a
prompt template, and the results come back as a table that keeps the input's columns."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from corthex.domain.results import FinishReason, ProviderResult, ResultStatus, Usage
from corthex.domain.templates import RowTemplate
from corthex.engine.engine import Engine
from corthex.errors import InvalidInput, UsageError
from corthex.providers.base import WireItem
from corthex.testing import FakeProvider

Fakes = dict[str, FakeProvider]
LABEL = {
    "type": "object",
    "properties": {"label": {"type": "string"}, "score": {"type": "integer"}},
    "required": ["label", "score"],
}
REVIEWS = [("r-007", "배송이 빨라요", 5), ("r-008", "포장이 엉망이에요", 1), ("r-009", "그저 그래요", 3)]


def labels(item: WireItem) -> ProviderResult:
    text = item.request.last_user_text
    answer = {"label": "negative" if "엉망" in text else "positive", "score": 1 if "엉망" in text else 5}
    usage = Usage(input_tokens=30, output_tokens=10)
    content = orjson.dumps(answer).decode()
    return ProviderResult(
        item.wire_id, ResultStatus.SUCCEEDED, content, item.request.model, usage, finish_reason=FinishReason.STOP
    )


def write_parquet(path: Path) -> None:
    table = pa.table({"id": [r[0] for r in REVIEWS], "text": [r[1] for r in REVIEWS], "stars": [r[2] for r in REVIEWS]})
    pq.write_table(table, path)


async def test_a_parquet_table_goes_out_row_by_row_and_comes_back_typed(
    engine: Engine, fakes: Fakes, tmp_path: Path
) -> None:
    fakes["openai"].handler = labels  # type: ignore[assignment]
    source, out = tmp_path / "reviews.parquet", tmp_path / "labeled.parquet"
    write_parquet(source)
    template = RowTemplate(
        "gpt-5-mini", "이 리뷰를 분류하세요: {text} (별점 {stars})", json_schema=LABEL, id_column="id"
    )
    report = await engine.submit_table(source, template)
    await engine.wait(report.job_id, timeout=30)
    assert await engine.write_results(report.job_id, out, table=source, json_schema=LABEL) == 3
    result = pq.read_table(out)
    assert result.schema.field("stars").type == pa.int64()  # typed as in the input
    rows = result.to_pylist()
    assert [r["id"] for r in rows] == ["r-007", "r-008", "r-009"] == [r["custom_id"] for r in rows]
    assert [r["label"] for r in rows] == ["positive", "negative", "positive"]
    assert [r["score"] for r in rows] == [5, 1, 5] and {r["status"] for r in rows} == {"succeeded"}
    assert rows[1]["text"] == "포장이 엉망이에요" and rows[0]["cost_usd"] > 0
    [first, *_] = [line async for line in engine.results(report.job_id)]
    assert first["metadata"] == {"id": "r-007", "text": "배송이 빨라요", "stars": "5"}


async def test_a_csv_keeps_its_text_and_names_a_bad_row(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    source.write_text("code,text\n007,좋아요\n008,\n009,별로예요\n", encoding="utf-8")
    template = RowTemplate("claude-haiku-4-5", "분류: {text}", id_column="code")
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_table(source, template)
    assert "row 2, field 'text'" in str(refused.value)  # the empty cell, named; nothing stored
    report = await engine.submit_table(source, template, skip_invalid=True)
    await engine.wait(report.job_id, timeout=30)
    out = tmp_path / "out.csv"
    assert await engine.write_results(report.job_id, out, table=source) == 2
    rows = pv.read_csv(out, convert_options=pv.ConvertOptions(column_types={"code": pa.string()})).to_pylist()
    assert [(r["code"], r["text"], r["status"]) for r in rows] == [
        ("007", "좋아요", "succeeded"),
        ("009", "별로예요", "succeeded"),
    ]


async def test_a_template_naming_a_missing_column_fails_before_reading(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    source.write_text("code,text\n1,좋아요\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no column 'body'"):
        await engine.submit_table(source, RowTemplate("gpt-5-mini", "분류: {body}"))


async def test_a_korean_excel_csv_in_cp949(engine: Engine, tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    source.write_bytes("id,text\n1,배송이 빨라요\n".encode("cp949"))
    with pytest.raises(UsageError, match="cp949"):
        await engine.submit_table(source, RowTemplate("gpt-5-mini", "분류: {text}"))
    report = await engine.submit_table(source, RowTemplate("gpt-5-mini", "분류: {text}"), encoding="cp949")
    assert report.total == 1

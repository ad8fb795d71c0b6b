"""Tables from Python (issue 14, "tables in, tables out"): a list of dicts, a pyarrow Table, a pandas
or a polars DataFrame becomes one request per row, like a CSV; the results come back as a pyarrow
Table keeping the input's columns, typed as given, beside the results and the schema's properties."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corthex import RowTemplate
from corthex.domain.results import FinishReason, ProviderResult, ResultStatus, Usage
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
SEOUL = ZoneInfo("Asia/Seoul")
TEMPLATE = RowTemplate("gpt-5-mini", "이 리뷰를 분류하세요: {text}", json_schema=LABEL, id_column="id")


def labels(item: WireItem) -> ProviderResult:
    text = item.request.last_user_text
    answer = {"label": "negative" if "엉망" in text else "positive", "score": 1 if "엉망" in text else 5}
    content = orjson.dumps(answer).decode()
    usage = Usage(input_tokens=30, output_tokens=10)
    return ProviderResult(
        item.wire_id, ResultStatus.SUCCEEDED, content, item.request.model, usage, finish_reason=FinishReason.STOP
    )


def reviews() -> list[dict[str, Any]]:
    """Korean reviews with a column of each type a DataFrame commonly has."""
    return [
        {
            "id": "r-1",
            "text": "배송이 빨라요",
            "stars": 5,
            "price": 12_900.5,
            "repeat": True,
            "at": dt.datetime(2026, 11, 3, 9, 30, tzinfo=SEOUL),
        },
        {
            "id": "r-2",
            "text": "포장이 엉망이에요",
            "stars": 1,
            "price": 8_000.0,
            "repeat": False,
            "at": dt.datetime(2026, 11, 4, 21, 5, 7, 250_000, tzinfo=SEOUL),
        },
        {
            "id": "r-3",
            "text": "그저 그래요",
            "stars": None,
            "price": 0.1,
            "repeat": True,
            "at": dt.datetime(2026, 12, 1, 0, 0, tzinfo=SEOUL),
        },
    ]


async def labeled(engine: Engine, fakes: Fakes, table: Any) -> pa.Table:
    """Submit `table`, wait, and get the results as a table keeping its columns."""
    fakes["openai"].handler = labels  # type: ignore[assignment]
    report = await engine.submit_table(table, TEMPLATE)
    assert report.total == 3
    await engine.wait(report.job_id, timeout=30)
    return await engine.results_table(report.job_id, table=table, json_schema=LABEL)


def assert_labeled(result: pa.Table) -> None:
    rows = result.to_pylist()
    assert [r["id"] for r in rows] == ["r-1", "r-2", "r-3"] == [r["custom_id"] for r in rows]
    assert [r["text"] for r in rows] == ["배송이 빨라요", "포장이 엉망이에요", "그저 그래요"]
    assert [(r["label"], r["score"]) for r in rows] == [("positive", 5), ("negative", 1), ("positive", 5)]
    assert {r["status"] for r in rows} == {"succeeded"}
    assert [r["stars"] for r in rows] == [5, 1, None]
    assert [r["price"] for r in rows] == [12_900.5, 8_000.0, 0.1]
    assert [r["repeat"] for r in rows] == [True, False, True]
    assert rows[1]["at"] == dt.datetime(2026, 11, 4, 21, 5, 7, 250_000, tzinfo=SEOUL)
    assert result.column_names[:6] == ["id", "text", "stars", "price", "repeat", "at"]


async def test_a_list_of_dicts_comes_back_a_typed_table(engine: Engine, fakes: Fakes) -> None:
    result = await labeled(engine, fakes, reviews())
    assert_labeled(result)
    types = {f.name: f.type for f in result.schema}
    assert types["stars"] == pa.int64() and types["price"] == pa.float64() and types["repeat"] == pa.bool_()
    assert types["at"] == pa.timestamp("us", tz="Asia/Seoul") and types["score"] == pa.int64()
    [job] = await engine.jobs(limit=1)
    assert job.label == "list"


async def test_a_pyarrow_table_keeps_its_types_and_what_text_cannot_carry_comes_back_as_text(
    engine: Engine, fakes: Fakes
) -> None:
    table = pa.Table.from_pylist(reviews())
    table = table.append_column("won", pa.array([Decimal("12900.50"), Decimal("8000.00"), None], pa.decimal128(9, 2)))
    table = table.append_column("day", pa.array([dt.date(2026, 11, 3)] * 3, pa.date32()))
    table = table.append_column("stars8", table["stars"].cast(pa.int8()))
    table = table.append_column("tags", pa.array([["빠름"], [], None], pa.list_(pa.string())))
    result = await labeled(engine, fakes, table)
    assert_labeled(result)
    for name in ("stars", "price", "repeat", "at", "won", "day", "stars8"):
        assert result.schema.field(name).type == table.schema.field(name).type, name
    assert result["won"].to_pylist() == [Decimal("12900.50"), Decimal("8000.00"), None]
    assert result.schema.field("tags").type == pa.string()  # a list is sent as its text, and comes back so
    assert result["tags"].to_pylist()[0] == "['빠름']"


async def test_a_pandas_dataframe_becomes_a_labeled_dataframe(engine: Engine, fakes: Fakes) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(reviews()).set_index("id")  # a named index is a column like the others
    frame["stars"] = frame["stars"].astype("Int64")  # pandas' nullable integers
    result = await labeled(engine, fakes, frame)
    assert_labeled(result)
    out = result.to_pandas()
    assert list(out["label"]) == ["positive", "negative", "positive"]
    assert str(out["at"].dtype).startswith("datetime64") and str(out["at"].dt.tz) == "Asia/Seoul"
    assert out["repeat"].dtype == bool and out["price"].dtype == float


async def test_a_polars_dataframe_is_read_through_its_arrow_stream(engine: Engine, fakes: Fakes) -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(reviews())
    result = await labeled(engine, fakes, frame)
    assert_labeled(result)
    assert pl.from_arrow(result)["label"].to_list() == ["positive", "negative", "positive"]


class ArrowStream:
    """What polars (and duckdb, …) give: a table known only by its Arrow PyCapsule stream."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


async def test_any_table_with_an_arrow_c_stream_is_read(engine: Engine, fakes: Fakes) -> None:
    stream = ArrowStream(pa.Table.from_pylist(reviews()))
    assert_labeled(await labeled(engine, fakes, stream))


async def test_an_invalid_row_is_named_and_nothing_is_stored(engine: Engine) -> None:
    rows = reviews()
    rows[1]["text"] = "   "
    del rows[2]["text"]  # a dict without the column: empty as well
    with pytest.raises(InvalidInput) as refused:
        await engine.submit_table(rows, TEMPLATE)
    assert str(refused.value).splitlines()[1:] == [
        "  row 2, field 'text': column 'text' is empty: the prompt would be sent without it",
        "  row 3, field 'text': column 'text' is empty: the prompt would be sent without it",
    ]
    twins = reviews()
    twins[0]["id"] = "r-2"
    with pytest.raises(InvalidInput, match="row 2, field 'custom_id': duplicate custom_id 'r-2'"):
        await engine.submit_table(pa.Table.from_pylist(twins), TEMPLATE)
    with pytest.raises(UsageError, match="row 2: a str, not a dict"):
        await engine.submit_table([reviews()[0], "배송이 빨라요"], TEMPLATE)
    assert await engine.jobs() == []
    report = await engine.submit_table(reviews()[:1] + rows[1:], TEMPLATE, skip_invalid=True)
    assert report.total == 1 and [p.line for p in report.skipped] == [2, 3]


async def test_what_is_not_a_table_is_refused_saying_what_is(engine: Engine) -> None:
    with pytest.raises(UsageError, match="cannot read a dict as a table: give a CSV/TSV/Parquet path, a list of dicts"):
        await engine.submit_table({"text": ["배송이 빨라요"]}, TEMPLATE)
    with pytest.raises(UsageError, match="no column 'text'"):
        await engine.submit_table([{"body": "배송이 빨라요"}], TEMPLATE)


async def test_without_the_input_its_columns_come_as_metadata(engine: Engine, fakes: Fakes) -> None:
    fakes["openai"].handler = labels  # type: ignore[assignment]
    report = await engine.submit_table(reviews(), TEMPLATE)
    await engine.wait(report.job_id, timeout=30)
    result = await engine.results_table(report.job_id)
    assert "metadata" in result.column_names and "stars" not in result.column_names
    assert '"stars":"5"' in result["metadata"][0].as_py()


async def test_a_value_the_input_type_cannot_take_is_one_line_naming_the_column(
    engine: Engine, fakes: Fakes, tmp_path: Path
) -> None:
    """The job's cells are kept as text; an output typed by another table (here one whose `stars` are
    integers, the job's a word) fails on one line naming the column, and leaves no half-written file."""
    fakes["openai"].handler = labels  # type: ignore[assignment]
    rows = reviews()
    rows[0]["stars"] = "다섯"
    report = await engine.submit_table(rows, TEMPLATE)
    await engine.wait(report.job_id, timeout=30)
    typed = tmp_path / "typed.parquet"
    pq.write_table(pa.Table.from_pylist(reviews()), typed)
    out = tmp_path / "labeled.parquet"
    with pytest.raises(UsageError) as failed:
        await engine.write_results(report.job_id, out, table=typed, json_schema=LABEL)
    message = str(failed.value)
    assert "\n" not in message and message.startswith("column 'stars': the value '다섯' cannot be read as int64")
    assert not out.exists()
    with pytest.raises(UsageError, match="column 'stars': the value '다섯'"):
        await engine.results_table(report.job_id, table=typed)
    mixed = await engine.results_table(report.job_id, table=rows)  # the job's own input: a text column
    assert mixed["stars"].to_pylist() == ["다섯", "1", None]


NO_FRAME_LIBRARY = """
import sys

class Absent:  # as where neither is installed: importing them fails
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pandas", "polars"):
            raise ModuleNotFoundError(name)

sys.meta_path.insert(0, Absent())
import pyarrow as pa
from corthex.domain.templates import RowTemplate
from corthex.engine.tables import input_schema, read_table
rows = [{"id": "r-1", "text": "배송이 빨라요", "stars": 5}]
for table in (rows, pa.Table.from_pylist(rows)):
    intake = read_table(table, RowTemplate("gpt-5-mini", "분류: {text}"), skip_invalid=False)
    assert [r.custom_id for r in intake.requests()] == ["row-1"] and input_schema(table).names[2] == "stars"
print("read")
"""


def test_a_list_of_dicts_or_an_arrow_table_needs_no_dataframe_library() -> None:
    """pandas and polars are the user's, never required: tables are read where neither can be imported
    (pyarrow itself imports pandas when it is there; corthex never does)."""
    run = subprocess.run([sys.executable, "-c", NO_FRAME_LIBRARY], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "read"

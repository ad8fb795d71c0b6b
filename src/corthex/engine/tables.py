"""Tables in: a CSV or Parquet file read as requests, one per row (issue 14).

Read in record batches with pyarrow, twice like a JSONL file: once to validate (keeping only
ids), once when stored, so a 100,000-row table is never held whole. pyarrow is imported here
only: a job without a table never loads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.domain.templates import TABLE_SUFFIXES, RowTemplate, row_request
from corthex.engine.intake import Intake, streamed_intake
from corthex.errors import InputProblem, UsageError

_BATCH_ROWS = 2048


def read_table(
    path: Path, template: RowTemplate, *, skip_invalid: bool, encoding: str | None = None, strict_models: bool = False
) -> Intake:
    """Validate every row first (streaming); the rows are read again when stored."""
    template.check_columns(table_columns(path, encoding))
    return streamed_intake(
        lambda: enumerate(_requests(path, template, encoding), start=1),
        skip_invalid=skip_invalid,
        strict_models=strict_models,
        source=path.name,
        unit="row",
    )


def _requests(path: Path, template: RowTemplate, encoding: str | None) -> Iterator[LLMRequest | InputProblem]:
    seen: set[str] = set()
    for number, row in enumerate(table_rows(path, encoding), start=1):
        line = row_request(template, row, number)
        if isinstance(line, InputProblem):
            yield replace(line, unit="row")
            continue
        for parsed in parse_lines([orjson.dumps(line)], seen=seen, first_line=number):
            yield replace(parsed, unit="row") if isinstance(parsed, InputProblem) else parsed


def table_columns(path: Path, encoding: str | None = None) -> list[str]:
    """The column names, read from the header (CSV) or the footer (Parquet) alone."""
    if TABLE_SUFFIXES.get(path.suffix.lower()) == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return list(_csv_reader(path, encoding).schema.names)


def table_schema(path: Path, encoding: str | None = None) -> Any:
    """The table's pyarrow schema (the output casts the kept columns back to these types)."""
    if TABLE_SUFFIXES.get(path.suffix.lower()) == "parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path)
    return _csv_reader(path, encoding).schema


def table_rows(path: Path, encoding: str | None = None) -> Iterator[dict[str, Any]]:
    """Each row as {column: value}, a record batch at a time."""
    if TABLE_SUFFIXES.get(path.suffix.lower()) == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS):
            yield from batch.to_pylist()
        return
    for batch in _csv_reader(path, encoding):
        yield from batch.to_pylist()


def _csv_reader(path: Path, encoding: str | None) -> Any:
    """A streaming CSV reader whose every column is text, as the file wrote it: no type guessed
    from the first block (a later row would fail the guess; "007" would lose its zeros)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    read = pv.ReadOptions(encoding=encoding or "utf8", block_size=1 << 20)
    parse = pv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",", newlines_in_values=True)
    try:
        names = pv.open_csv(path, read_options=read, parse_options=parse).schema.names
        as_text = pv.ConvertOptions(column_types={name: pa.string() for name in names}, strings_can_be_null=False)
        return pv.open_csv(path, read_options=read, parse_options=parse, convert_options=as_text)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        hint = "; for a Korean Excel CSV try --encoding cp949" if encoding is None else ""
        raise UsageError(f"{path.name}: cannot be read as a table ({exc}){hint}") from None

"""Tables in: a CSV or Parquet file, or a table held in memory (a list of dicts, a pyarrow Table,
a pandas or polars DataFrame), read as requests, one per row (issue 14).

A file is read in record batches with pyarrow, twice like a JSONL file: once to validate (keeping
only ids), once when stored, so a 100,000-row table is never held whole. pyarrow is imported here
only: a job without a table never loads it; pandas and polars are never imported: a DataFrame is
recognised by its class's module (pandas) or its Arrow C stream (polars, and any other library that
speaks it), so neither is a dependency.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from corthex.domain.parsing import parse_lines
from corthex.domain.requests import LLMRequest
from corthex.domain.templates import TABLE_SUFFIXES, RowTemplate, row_request
from corthex.engine.intake import Intake, streamed_intake
from corthex.errors import InputProblem, UsageError

_BATCH_ROWS = 2048
ACCEPTED = "a CSV/TSV/Parquet path, a list of dicts, a pyarrow Table, or a pandas or polars DataFrame"


@dataclass(frozen=True)
class TableSource:
    """A table however it was given: its name (for messages and the job's label), its columns, its
    pyarrow schema (the output casts the kept columns back to it) and its rows, read anew each time."""

    name: str
    columns: list[str]
    schema: Callable[[], Any]
    rows: Callable[[], Iterator[dict[str, Any]]]


def open_table(table: Any, encoding: str | None = None) -> TableSource:
    """`table` as a source of rows: a path (str or Path) to a CSV, TSV or Parquet file, or a table
    in memory; anything else is a UsageError that says what is accepted."""
    if isinstance(table, str | os.PathLike):
        path = Path(table)
        return TableSource(
            path.name,
            table_columns(path, encoding),
            lambda: table_schema(path, encoding),
            lambda: table_rows(path, encoding),
        )
    if isinstance(table, Sequence) and not isinstance(table, bytes | bytearray):
        return _dicts_source(table)
    arrow = _as_arrow(table)
    if arrow is None:
        raise UsageError(f"cannot read a {type(table).__name__} as a table: give {ACCEPTED}")
    return TableSource(type(table).__name__, list(arrow.schema.names), lambda: arrow.schema, lambda: _arrow_rows(arrow))


def read_table(
    table: Any, template: RowTemplate, *, skip_invalid: bool, encoding: str | None = None, strict_models: bool = False
) -> Intake:
    """Validate every row first (streaming); the rows are read again when stored."""
    source = open_table(table, encoding)
    template.check_columns(source.columns)
    return streamed_intake(
        lambda: enumerate(_requests(source.rows(), template), start=1),
        skip_invalid=skip_invalid,
        strict_models=strict_models,
        source=source.name if isinstance(table, str | os.PathLike) else "",
        unit="row",
    )


def input_schema(table: Any, encoding: str | None = None) -> Any:
    """The pyarrow schema of a table given as `open_table` takes it (the output's kept columns)."""
    return open_table(table, encoding).schema()


def _requests(rows: Iterator[dict[str, Any]], template: RowTemplate) -> Iterator[LLMRequest | InputProblem]:
    """Each row's request or problem; a custom_id given twice is found by `streamed_intake`."""
    for number, row in enumerate(rows, start=1):
        line = row_request(template, row, number)
        if isinstance(line, InputProblem):
            yield replace(line, unit="row")
            continue
        for parsed in parse_lines([orjson.dumps(line)], first_line=number, unique=False):
            yield replace(parsed, unit="row") if isinstance(parsed, InputProblem) else parsed


def _dicts_source(rows: Sequence[Any]) -> TableSource:
    """A list of {column: value} dicts: the columns in order of first use, a row without one of
    them has it empty (null); the types are what pyarrow makes of each column's values."""
    columns: dict[str, None] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise UsageError(f"row {number}: a {type(row).__name__}, not a dict of column to value")
        columns.update(dict.fromkeys(str(name) for name in row))
    names = list(columns)

    def each() -> Iterator[dict[str, Any]]:
        return ({name: row.get(name) for name in names} for row in rows)

    return TableSource("list", names, lambda: _dicts_schema(rows, names), each)


def _dicts_schema(rows: Sequence[Mapping[str, Any]], names: list[str]) -> Any:
    """Each column's type as pyarrow infers it from its values; text when they mix types (the
    column then comes back as the text each value was sent as)."""
    import pyarrow as pa

    fields = []
    for name in names:
        try:
            kind = pa.array([row.get(name) for row in rows]).type
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            kind = pa.string()
        fields.append(pa.field(name, pa.string() if pa.types.is_null(kind) else kind))
    return pa.schema(fields)


def _as_arrow(table: Any) -> Any | None:
    """A pyarrow Table of a table in memory, or None for something that is not one. A pandas
    DataFrame goes through `Table.from_pandas` (a named index becomes a column, an unnamed one is
    dropped); polars (and any library with the Arrow PyCapsule interface) through its C stream."""
    import pyarrow as pa

    if isinstance(table, pa.Table):
        return table
    try:
        if _is_pandas_frame(table):
            named = any(name is not None for name in table.index.names)
            return pa.Table.from_pandas(table.reset_index() if named else table, preserve_index=False)
        if hasattr(table, "__arrow_c_stream__") or hasattr(table, "__arrow_c_array__"):
            return pa.table(table)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise UsageError(f"the {type(table).__name__} cannot be read as a table: {exc}") from None
    return None


def _is_pandas_frame(table: Any) -> bool:
    return any(c.__name__ == "DataFrame" and c.__module__.split(".")[0] == "pandas" for c in type(table).__mro__)


def _arrow_rows(table: Any) -> Iterator[dict[str, Any]]:
    for batch in table.to_batches(max_chunksize=_BATCH_ROWS):
        yield from batch.to_pylist()


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

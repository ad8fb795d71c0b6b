"""Results out as a file: JSONL (the output lines as they are), or a table, Parquet or CSV
(issue 14), written a few thousand rows at a time so that memory stays flat in the job's size.

A table has one row per request: the input table's columns first (cast back to their types,
when the job came from a table), then what came back. With the job's JSON schema, each of its
top-level properties is a column of its own instead of the `parsed` JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from corthex.errors import UsageError

OUTPUT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
_ROWS_PER_WRITE = 4096

#: the columns every table output has, after the input's: (name, arrow type name, value of a line)
_RESULT_COLUMNS: tuple[tuple[str, str, Callable[[dict[str, Any]], Any]], ...] = (
    ("custom_id", "string", lambda line: line["custom_id"]),
    ("status", "string", lambda line: line["status"]),
    ("content", "string", lambda line: line["content"]),
    ("finish_reason", "string", lambda line: line["finish_reason"]),
    ("model", "string", lambda line: line["model"]),
    ("provider", "string", lambda line: line["provider"]),
    ("input_tokens", "int64", lambda line: (line["usage"] or {}).get("input_tokens")),
    ("output_tokens", "int64", lambda line: (line["usage"] or {}).get("output_tokens")),
    ("cost_usd", "float64", lambda line: line["cost_usd"]),
    ("tier", "string", lambda line: line.get("tier")),
    ("error_type", "string", lambda line: (line["error"] or {}).get("type")),
    ("error_message", "string", lambda line: (line["error"] or {}).get("message")),
    ("attempts", "int64", lambda line: line["attempts"]),
    ("tool_calls", "string", lambda line: _json(line.get("tool_calls"))),
)
_SCHEMA_TYPES = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool"}


def output_format(path: Path) -> str:
    kind = OUTPUT_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(OUTPUT_SUFFIXES))
        raise UsageError(f"cannot tell the output format of {path.name}: end its name in one of {known}")
    return kind


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


@dataclass
class _Column:
    name: str
    arrow_type: Any
    value: Callable[[dict[str, Any]], Any]
    cast_from_text: bool = False  #: kept as text in metadata: cast back to `arrow_type`
    values: list[Any] = field(default_factory=list)


def table_columns(input_schema: Any | None, json_schema: dict[str, Any] | None, kind: str = "parquet") -> list[_Column]:
    """The output's columns: the input's, the results', and the schema's properties (or `parsed`)."""
    import pyarrow as pa

    columns = [_Column(n, getattr(pa, t)(), v) for n, t, v in _RESULT_COLUMNS] + _embedding_columns(kind)
    taken = {c.name for c in columns}
    kept = _kept_columns(input_schema, taken) if input_schema is not None else []
    if input_schema is None:
        columns.append(_Column("metadata", pa.string(), lambda line: _json(line.get("metadata"))))
    taken |= {c.name for c in kept}
    return kept + columns + _parsed_columns(json_schema, taken)


def _embedding_columns(kind: str) -> list[_Column]:
    """An embedding's vectors, one row per request: `embedding` for a string input (one vector),
    `embeddings` for a list input (one vector per text). Two columns, because a Parquet column has
    one type: list<float32> and list<list<float32>>. CSV has no lists: JSON text there."""
    import pyarrow as pa

    def one(line: dict[str, Any]) -> Any:
        vector = line.get("embedding")
        return vector if vector and not isinstance(vector[0], list) else None

    def many(line: dict[str, Any]) -> Any:
        vectors = line.get("embedding")
        return vectors if vectors and isinstance(vectors[0], list) else None

    if kind == "csv":
        return [
            _Column("embedding", pa.string(), lambda line: _json(one(line))),
            _Column("embeddings", pa.string(), lambda line: _json(many(line))),
        ]
    return [
        _Column("embedding", pa.list_(pa.float32()), one),
        _Column("embeddings", pa.list_(pa.list_(pa.float32())), many),
    ]


def _kept_columns(input_schema: Any, taken: set[str]) -> list[_Column]:
    """The input table's columns, from each line's metadata, under their names (`input.NAME`
    when a result column has that name), typed as in the input when text casts back to that type
    (a list, a struct, a time of day, bytes… come back as the text they were sent as)."""
    import pyarrow as pa

    kept = []
    for source in input_schema:
        name = f"input.{source.name}" if source.name in taken else source.name
        kind = source.type if _from_text(source.type) else pa.string()
        kept.append(_Column(name, kind, _metadata_value(source.name), cast_from_text=True))
    return kept


def _from_text(kind: Any) -> bool:
    """Whether pyarrow casts text to `kind` (what each kept cell is stored as)."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(kind):
        return _from_text(kind.value_type)
    return any(
        check(kind)
        for check in (t.is_integer, t.is_floating, t.is_boolean, t.is_string, t.is_large_string, t.is_date)
        + (t.is_timestamp, t.is_decimal)
    )


def _metadata_value(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda line: (line.get("metadata") or {}).get(key)


def _parsed_columns(json_schema: dict[str, Any] | None, taken: set[str]) -> list[_Column]:
    import pyarrow as pa

    properties = (json_schema or {}).get("properties") if (json_schema or {}).get("type") == "object" else None
    if not isinstance(properties, dict) or not properties:
        return [_Column("parsed", pa.string(), lambda line: _json(line.get("parsed")))]
    columns = []
    for prop, spec in properties.items():
        kind = _SCHEMA_TYPES.get(str(spec.get("type"))) if isinstance(spec, dict) else None
        name = f"parsed.{prop}" if prop in taken else prop
        value = _parsed_scalar(prop) if kind else _parsed_json(prop)
        columns.append(_Column(name, getattr(pa, kind or "string")(), value))
    return columns


def _parsed_scalar(prop: str) -> Callable[[dict[str, Any]], Any]:
    return lambda line: (line.get("parsed") or {}).get(prop) if isinstance(line.get("parsed"), dict) else None


def _parsed_json(prop: str) -> Callable[[dict[str, Any]], Any]:
    def value(line: dict[str, Any]) -> Any:
        parsed = line.get("parsed")
        return _json(parsed.get(prop)) if isinstance(parsed, dict) and prop in parsed else None

    return value


async def write_output(
    lines: AsyncIterator[dict[str, Any]],
    path: Path,
    *,
    input_schema: Any | None = None,
    json_schema: dict[str, Any] | None = None,
) -> int:
    """Write the lines to `path` in the format its suffix names; returns how many."""
    kind = output_format(path)
    if kind == "jsonl":
        return await _write_jsonl(lines, path)
    return await _write_table(lines, path, kind, table_columns(input_schema, json_schema, kind))


async def _write_jsonl(lines: AsyncIterator[dict[str, Any]], path: Path) -> int:
    count = 0
    with path.open("wb") as fh:
        async for line in lines:
            fh.write(orjson.dumps(line) + b"\n")
            count += 1
    return count


async def results_table(
    lines: AsyncIterator[dict[str, Any]], *, input_schema: Any | None = None, json_schema: dict[str, Any] | None = None
) -> Any:
    """The lines as one pyarrow Table, its columns as a Parquet output's (`.to_pandas()`,
    `polars.from_arrow(…)` make a DataFrame of it)."""
    import pyarrow as pa

    columns = table_columns(input_schema, json_schema)
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in columns])
    return pa.Table.from_batches([batch async for batch in _batches(lines, columns, schema)], schema=schema)


async def _batches(lines: AsyncIterator[dict[str, Any]], columns: list[_Column], schema: Any) -> AsyncIterator[Any]:
    """The lines as record batches of a few thousand rows (at least one batch, maybe empty)."""
    count = 0
    async for line in lines:
        for column in columns:
            column.values.append(column.value(line))
        count += 1
        if count % _ROWS_PER_WRITE == 0:
            yield _batch(columns, schema)
    if count % _ROWS_PER_WRITE or count == 0:
        yield _batch(columns, schema)


async def _write_table(lines: AsyncIterator[dict[str, Any]], path: Path, kind: str, columns: list[_Column]) -> int:
    """Write the table; on a value that cannot be written (a UsageError naming it) no half-written
    file is left."""
    import pyarrow as pa

    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in columns])
    writer = _table_writer(path, kind, schema)
    count, failed = 0, False
    try:
        async for batch in _batches(lines, columns, schema):
            writer.write_batch(batch)
            count += batch.num_rows
    except UsageError:
        failed = True
        raise
    finally:
        writer.close()
        if failed:
            _discard(path)
    return count


def _discard(path: Path) -> None:
    """A table left half-written: removed, so no one reads it as the results."""
    path.unlink(missing_ok=True)


def _table_writer(path: Path, kind: str, schema: Any) -> Any:
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema)
    import pyarrow.csv as pv

    return pv.CSVWriter(path, schema)


def _batch(columns: list[_Column], schema: Any) -> Any:
    import pyarrow as pa

    arrays = [_array(column) for column in columns]
    for column in columns:
        column.values = []
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _array(column: _Column) -> Any:
    import pyarrow as pa

    if column.cast_from_text:
        text = pa.array(column.values, pa.string())
        try:
            return text.cast(column.arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise UsageError(_cast_failure(column, text)) from None
    return pa.array(column.values, column.arrow_type)


def _cast_failure(column: _Column, text: Any) -> str:
    """One line naming the kept column and its first value the input's type cannot take."""
    bad = next((v for v in text.to_pylist() if not _casts(v, column.arrow_type)), None)
    return (
        f"column {column.name!r}: the value {bad!r} cannot be read as {column.arrow_type}, its type in the input "
        "table; give the table the job was submitted from, or write JSONL or CSV"
    )


def _casts(value: str | None, kind: Any) -> bool:
    import pyarrow as pa

    try:
        pa.array([value], pa.string()).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True

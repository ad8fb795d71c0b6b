"""A table's rows as request lines (issue 14, "tables in"): a prompt template filled from each
row's columns, one request per row, the row's columns kept as the request's metadata so that
the output keeps them beside each answer. Pure: rows in, request objects or problems out.

    corthex submit reviews.csv --model gpt-5-mini --prompt "Classify this review: {text}"
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from corthex.errors import InputProblem, UsageError

_FORMATTER = string.Formatter()

#: the table formats by file suffix
TABLE_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def is_table(path: PurePath) -> bool:
    """Whether a file is a table (read as rows) rather than JSONL request lines."""
    return path.suffix.lower() in TABLE_SUFFIXES


@dataclass(frozen=True, slots=True)
class RowTemplate:
    """How each row becomes a request: `prompt` (and `system`) name columns as `{column}`."""

    model: str
    prompt: str
    system: str | None = None
    json_schema: dict[str, Any] | None = None
    id_column: str | None = None  #: the column that holds each row's custom_id (else "row-N")
    max_output_tokens: int | None = None
    provider: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  #: more request fields, as a line gives them

    def fields(self) -> list[str]:
        """The columns the templates name, in order of first use."""
        names: list[str] = []
        for text in (self.system or "", self.prompt):
            for _, name, _, _ in _FORMATTER.parse(text):
                if name is not None and name not in names:
                    names.append(name)
        return names

    def check_columns(self, columns: Sequence[str]) -> None:
        """Fail before any row is read when a template or `id_column` names a missing column."""
        missing = [name for name in self.fields() if name not in columns]
        if self.id_column is not None and self.id_column not in columns:
            missing.append(self.id_column)
        if not self.fields():
            raise UsageError("the prompt names no column: write it with {column} fields, e.g. 'Classify: {text}'")
        if missing:
            raise UsageError(f"the table has no column {missing[0]!r} (its columns: {', '.join(columns)})")


def row_request(template: RowTemplate, row: Mapping[str, Any], number: int) -> dict[str, Any] | InputProblem:
    """Row `number` (1-based, as a spreadsheet counts data rows) as a request line, or the
    problem that names the row and the column."""
    values = {name: "" if value is None else value for name, value in row.items()}
    custom_id = _custom_id(template, values, number)
    if isinstance(custom_id, InputProblem):
        return custom_id
    empty = [name for name in template.fields() if str(values[name]).strip() == ""]
    if empty:
        return InputProblem(number, f"column {empty[0]!r} is empty: the prompt would be sent without it", empty[0])
    line: dict[str, Any] = {
        **template.extra,
        "custom_id": custom_id,
        "model": template.model,
        "prompt": template.prompt.format_map(values),
        "metadata": {name: _text(value) for name, value in row.items() if value is not None},
    }
    optional = {
        "system": template.system.format_map(values) if template.system else None,
        "json_schema": template.json_schema,
        "max_output_tokens": template.max_output_tokens,
        "provider": template.provider,
    }
    line.update({k: v for k, v in optional.items() if v is not None})
    return line


def _custom_id(template: RowTemplate, values: Mapping[str, Any], number: int) -> str | InputProblem:
    if template.id_column is None:
        return f"row-{number}"
    value = _text(values.get(template.id_column, ""))
    if not value.strip():
        return InputProblem(number, f"the id column {template.id_column!r} is empty", template.id_column)
    return value


def _text(value: Any) -> str:
    """A cell as metadata keeps it (strings; the output casts each column back to its input type)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else repr(value)
    return value if isinstance(value, str) else str(value)

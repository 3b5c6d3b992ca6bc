"""Which names of a measurement are tags and which are fields (from Arrow metadata)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from crisp.core.batch import KIND_FIELD, KIND_TAG, FieldType, column_kind
from crisp.query.influxql import ast

NUMERIC = frozenset({FieldType.FLOAT, FieldType.INTEGER, FieldType.UNSIGNED})


@dataclass(frozen=True)
class Columns:
    tags: tuple[str, ...]
    fields: dict[str, FieldType]

    @classmethod
    def from_schema(cls, schema: pa.Schema) -> Columns:
        tags = tuple(sorted(f.name for f in schema if column_kind(f) == KIND_TAG))
        fields = {
            f.name: FieldType.from_arrow(f.type) for f in schema if column_kind(f) == KIND_FIELD
        }
        return cls(tags, dict(sorted(fields.items())))

    def kind(self, ref: ast.VarRef) -> str | None:
        """'field', 'tag' or None (unknown); a field wins over a same-named tag unless cast."""
        if ref.type == "tag":
            return "tag" if ref.name in self.tags else None
        if ref.name in self.fields:
            return "field"
        if ref.type is None and ref.name in self.tags:
            return "tag"
        return None

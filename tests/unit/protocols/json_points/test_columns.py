"""The shared columnar builder every protocol parser uses."""

from __future__ import annotations

import pytest

from crisp.core.batch import KIND_FIELD, KIND_TAG, FieldType, column_kind
from crisp.protocols.columns import PointColumns

F = FieldType.FLOAT
I = FieldType.INTEGER  # noqa: E741


def test_sparse_points_and_series_share_columns() -> None:
    columns = PointColumns()
    assert columns.add("m", {"a": "1"}, {"x": (F, 1.0)}, 10) is None
    assert columns.add_series("m", {"b": "2", "a": ""}, "x", F, [2.0, 3.0], [20, 30]) is None
    assert columns.add("m", {"a": "4"}, {"y": (I, 7)}, 40) is None
    assert columns.add_series("m", {"a": "5"}, "x", F, [], []) is None
    table = columns.to_point_batch().measurements["m"].table
    assert [column_kind(f) for f in table.schema][1:] == [
        KIND_TAG,
        KIND_TAG,
        KIND_FIELD,
        KIND_FIELD,
    ]
    assert table.to_pylist() == [
        {"time": 10, "a": "1", "b": None, "x": 1.0, "y": None},
        {"time": 20, "a": None, "b": "2", "x": 2.0, "y": None},
        {"time": 30, "a": None, "b": "2", "x": 3.0, "y": None},
        {"time": 40, "a": "4", "b": None, "x": None, "y": 7},
    ]


@pytest.mark.parametrize(
    ("tags", "fields", "fragment"),
    [
        ({"x": "1"}, {"z": (F, 1.0)}, "also a field"),
        ({}, {"a": (F, 1.0)}, "already a tag"),
        ({}, {"x": (I, 1)}, "field type conflict"),
        ({"time": "1"}, {"z": (F, 1.0)}, "reserved"),
        ({"": "1"}, {"z": (F, 1.0)}, "empty tag key"),
        ({}, {"": (F, 1.0)}, "empty field key"),
        ({"q": "1"}, {"q": (F, 1.0)}, "also a field"),
    ],
)
def test_conflicts_are_reasons_not_rows(
    tags: dict[str, str], fields: dict[str, tuple[FieldType, float | int]], fragment: str
) -> None:
    columns = PointColumns()
    assert columns.add("m", {"a": "1"}, {"x": (F, 1.0)}, 1) is None
    reason = columns.add("m", tags, fields, 2)
    assert reason is not None
    assert fragment in reason
    assert columns.to_point_batch().num_points == 1


def test_add_series_checks_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        PointColumns().add_series("m", {}, "x", F, [1.0], [])

"""TagSetColumns gives the same points and refusals as PointColumns."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.core.batch import FieldType
from crisp.protocols.columns import PointColumns
from crisp.protocols.tag_sets import TagSetColumns

tag_dicts = st.dictionaries(
    st.sampled_from(["a", "b", "host", "time", "value", ""]), st.sampled_from(["", "x", "y"]),
    max_size=3,
)
points = st.lists(
    st.tuples(
        st.sampled_from(["m", "n"]),
        tag_dicts,
        st.one_of(
            st.tuples(st.just(FieldType.FLOAT), st.floats(allow_nan=False)),
            st.tuples(st.just(FieldType.INTEGER), st.integers(-(2**63), 2**63 - 1)),
        ),
        st.integers(-(2**62), 2**62),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(points)
def test_same_points_and_refusals_as_point_columns(
    added: list[tuple[str, dict[str, str], tuple[FieldType, float | int], int]],
) -> None:
    reference = PointColumns()
    columns = TagSetColumns("value")
    for measurement, tags, (field_type, value), time_ns in added:
        expected = reference.add(measurement, tags, {"value": (field_type, value)}, time_ns)
        got = columns.add(measurement, columns.tag_set(tags), field_type, value, time_ns)
        assert got == expected
    new = columns.to_point_batch()
    old = reference.to_point_batch()
    assert list(new.measurements) == list(old.measurements)
    for name, batch in old.measurements.items():
        assert new.measurements[name].table.equals(batch.table, check_metadata=True)


def test_a_repeated_tag_set_is_stored_once() -> None:
    columns = TagSetColumns("value")
    first = columns.tag_set({"host": "a", "dc": "x"})
    assert columns.tag_set({"host": "a", "dc": "x"}) == first
    assert columns.tag_set({"host": "b", "dc": "x"}) != first

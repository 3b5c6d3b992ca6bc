import math
from unittest.mock import patch

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.collector import lp_encode
from crisp.collector.lp_encode import encode_batch
from crisp.core.batch import FieldType as F
from crisp.core.batch import MeasurementBatch, PointBatch, measurement_schema
from crisp.protocols.line_protocol import parse_line_protocol
from tests.unit.collector.lp_reference import encode_batch as encode_row_by_row


def batch_of(measurement: str, rows: list[dict[str, object]], tags: list[str],
             fields: dict[str, F]) -> PointBatch:
    schema = measurement_schema(tags, fields)
    table = pa.Table.from_pylist(rows, schema=schema)
    return PointBatch({measurement: MeasurementBatch(measurement, table)})


def round_trip(batch: PointBatch) -> list[tuple[str, list[dict[str, object]]]]:
    encoded = encode_batch(batch)
    result = parse_line_protocol(encoded.body, default_time_ns=0)
    assert result.errors == [], (encoded.body, result.errors)
    return [(m.measurement, m.table.to_pylist()) for m in result.batch]


def test_every_field_type_round_trips() -> None:
    fields = {"f": F.FLOAT, "i": F.INTEGER, "u": F.UNSIGNED, "b": F.BOOLEAN, "s": F.STRING}
    rows: list[dict[str, object]] = [
        {"time": 1, "host": "a", "f": 1.5, "i": -(2**63), "u": 2**64 - 1, "b": True, "s": "x"},
        {"time": -5, "host": None, "f": 1e-300, "i": 7, "u": 0, "b": False, "s": ""},
        {"time": 3, "host": "b", "f": None, "i": None, "u": None, "b": None, "s": "only"},
    ]
    batch = batch_of("m", rows, ["host"], fields)
    [(name, parsed)] = round_trip(batch)
    assert name == "m"
    expected = [{k: v for k, v in row.items() if v is not None} for row in rows]
    assert [{k: v for k, v in row.items() if v is not None} for row in parsed] == expected


def test_escapes_in_names_tags_and_strings() -> None:
    measurement = "we ird,name=x"
    rows = [{"time": 9, "t k=,": "v a,l=ue\\x", "f, =x": 'a "quoted" \\ back\\slash'}]
    batch = batch_of(measurement, rows, ["t k=,"], {"f, =x": F.STRING})
    assert round_trip(batch) == [(measurement, rows)]


def test_nan_and_inf_values_are_dropped_and_counted() -> None:
    rows: list[dict[str, object]] = [
        {"time": 1, "a": math.nan, "b": 2.0},
        {"time": 2, "a": math.inf, "b": None},
    ]
    encoded = encode_batch(batch_of("m", rows, [], {"a": F.FLOAT, "b": F.FLOAT}))
    assert encoded.body == b"m b=2.0 1\n"
    assert (encoded.points, encoded.dropped_values, encoded.dropped_points) == (1, 2, 1)


def test_tags_are_sorted_and_empty_tags_left_out() -> None:
    rows = [{"time": 1, "b": "2", "a": "", "v": 1}]
    encoded = encode_batch(batch_of("m", rows, ["b", "a"], {"v": F.INTEGER}))
    assert encoded.body == b"m,b=2 v=1i 1\n"


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: not s.endswith("\\") and s != "time" and s.strip() == s and s[0] != "#")


@settings(max_examples=150, deadline=None)
@given(
    measurement=names,
    tag_value=names,
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20),
    number=st.floats(allow_nan=False, allow_infinity=False),
    time_ns=st.integers(min_value=-(2**62), max_value=2**62),
)
def test_fuzz_round_trip(
    measurement: str, tag_value: str, text: str, number: float, time_ns: int
) -> None:
    rows = [{"time": time_ns, "tag": tag_value, "num": number, "str": text}]
    batch = batch_of(measurement, rows, ["tag"], {"num": F.FLOAT, "str": F.STRING})
    assert round_trip(batch) == [(measurement, rows)]


tag_texts = st.one_of(st.none(), st.sampled_from(["", "a", "b c", "x,y=z", "new\nline", "é"]))
floats = st.one_of(st.none(), st.floats(), st.sampled_from([2.0, -0.0, 1e16, 1e17, 1e21, 0.1]))


@pytest.mark.parametrize("vector_min_rows", [0, 10**9])  # column-wise, row-wise
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "time": st.integers(-(2**62), 2**62),
                "h st": tag_texts,
                "dc": tag_texts,
                "f": floats,
                "i": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
                "b": st.one_of(st.none(), st.booleans()),
                "s": st.one_of(st.none(), st.text(max_size=6)),
            }
        ),
        max_size=6,
    ),
    st.sampled_from(["m", "we ird,m"]),
)
def test_fuzz_same_points_as_the_row_encoder(
    vector_min_rows: int, rows: list[dict[str, object]], name: str
) -> None:
    fields = {"f": F.FLOAT, "i": F.INTEGER, "b": F.BOOLEAN, "s": F.STRING}
    batch = batch_of(name, rows, ["h st", "dc"], fields)
    batch.add(batch_of("other", rows[:2], ["dc"], {"f": F.FLOAT}).measurements["other"])
    batch.add(batch_of("same", rows[1:], ["h st", "dc"], fields).measurements["same"])
    with patch.object(lp_encode, "VECTOR_MIN_ROWS", vector_min_rows):
        new = encode_batch(batch)
    old = encode_row_by_row(batch)
    assert (new.points, new.dropped_values, new.dropped_points) == (
        old.points,
        old.dropped_values,
        old.dropped_points,
    )
    parsed_new = parse_line_protocol(new.body, default_time_ns=0)
    parsed_old = parse_line_protocol(old.body, default_time_ns=0)
    assert parsed_new.errors == parsed_old.errors
    assert [(m.measurement, m.table.to_pylist()) for m in parsed_new.batch] == [
        (m.measurement, m.table.to_pylist()) for m in parsed_old.batch
    ]

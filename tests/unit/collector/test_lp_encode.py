import math

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from crisp.collector.lp_encode import encode_batch
from crisp.core.batch import FieldType as F
from crisp.core.batch import MeasurementBatch, PointBatch, measurement_schema
from crisp.protocols.line_protocol import parse_line_protocol


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

"""Every wire format round-trips through Crisp's own parser to the line-protocol points."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pytest

from crisp.bench.bodyfile import MAGIC, encoded_bodies, read_data_file, write_data_file
from crisp.bench.dataset import USE_CASES, DatasetSpec
from crisp.bench.encoders import FORMAT_NAMES, sample_name
from crisp.bench.timespec import NS_PER_S
from crisp.core.batch import KIND_FIELD, KIND_TAG, PointBatch, column_kind
from crisp.protocols.json_points import parse_json_points
from crisp.protocols.line_protocol import parse_line_protocol
from crisp.protocols.otlp import parse_otlp_metrics
from crisp.protocols.remote_write import parse_remote_write

SPEC = {"hosts": 3, "duration_ns": 60 * NS_PER_S}
Value = tuple[str, tuple[tuple[str, str], ...], str, object, int]


def values_of(batch: PointBatch) -> Counter[Value]:
    """(measurement, tags, field, value, time) per non-null field value."""
    out: Counter[Value] = Counter()
    for measurement in batch:
        table = measurement.table
        tag_names = [f.name for f in table.schema if column_kind(f) == KIND_TAG]
        field_names = [f.name for f in table.schema if column_kind(f) == KIND_FIELD]
        for row in table.to_pylist():
            tags = tuple(sorted((k, row[k]) for k in tag_names if row[k] is not None))
            for name in field_names:
                if row[name] is not None:
                    out[(measurement.measurement, tags, name, row[name], row["time"])] += 1
    return out


def as_samples(values: Counter[Value]) -> Counter[Value]:
    """What a Prometheus-style format can carry: numbers, one series per field."""
    out: Counter[Value] = Counter()
    for (measurement, tags, name, value, time_ns), count in values.items():
        if not isinstance(value, str):
            out[(sample_name(measurement, name), tags, "value", value, time_ns)] += count
    return out


def parsed(format_name: str, body: bytes) -> PointBatch:
    if format_name == "json":
        result = parse_json_points(body, default_time_ns=0)
    elif format_name == "remote-write":
        result = parse_remote_write(body)
    elif format_name == "otlp":
        result = parse_otlp_metrics(body, content_type="application/x-protobuf")
    else:
        result = parse_line_protocol(body, default_time_ns=0)
    assert result.errors == []
    return result.batch


def lp_values(spec: DatasetSpec) -> Counter[Value]:
    out: Counter[Value] = Counter()
    for body in encoded_bodies(spec, "lp", 40):
        out += values_of(parsed("lp", body.data))
    return out


@pytest.mark.parametrize("use_case", USE_CASES)
@pytest.mark.parametrize("format_name", ["json", "remote-write", "otlp"])
def test_format_carries_the_line_protocol_points(use_case: str, format_name: str) -> None:
    spec = DatasetSpec(use_case=use_case, **SPEC)  # type: ignore[arg-type]
    expected = lp_values(spec)
    got: Counter[Value] = Counter()
    counted = 0
    bodies = list(encoded_bodies(spec, format_name, 40))
    for body in bodies:
        batch = parsed(format_name, body.data)
        got += values_of(batch)
        counted += body.values
        assert body.values == batch.num_values
    if format_name == "json":
        assert got == expected
    else:
        # Integers arrive as doubles over remote-write; equal numbers compare equal.
        assert got == as_samples(expected)
    assert counted == sum(got.values())
    assert sum(body.lines for body in bodies) == len(
        b"".join(b.data for b in encoded_bodies(spec, "lp", 40)).splitlines()
    )


def test_otlp_keeps_integers_and_remote_write_drops_strings() -> None:
    spec = DatasetSpec(use_case="devops", **SPEC)  # type: ignore[arg-type]
    otlp = PointBatch()
    remote = PointBatch()
    for body in encoded_bodies(spec, "otlp", 1000):
        for measurement in parsed("otlp", body.data):
            otlp.add(measurement)
    for body in encoded_bodies(spec, "remote-write", 1000):
        for measurement in parsed("remote-write", body.data):
            remote.add(measurement)
    assert otlp.measurements["cpu_usage_user"].field_types == {"value": "integer"}
    assert otlp.measurements["mem_used_percent"].field_types == {"value": "float"}
    assert remote.measurements["cpu_usage_user"].field_types == {"value": "float"}
    assert "redis_role" not in remote.measurements
    assert "redis_role" not in otlp.measurements


@pytest.mark.parametrize("format_name", FORMAT_NAMES)
def test_data_file_reads_back_the_same_bodies(format_name: str, tmp_path: Path) -> None:
    spec = DatasetSpec(use_case="iot", **SPEC)  # type: ignore[arg-type]
    path = tmp_path / "data"
    with path.open("wb") as out:
        lines = write_data_file(spec, format_name, 25, out)
    loaded = read_data_file(path, 25)
    assert loaded.format == format_name
    expected = list(encoded_bodies(spec, format_name, 25))
    assert [b.data for b in loaded.bodies] == [b.data for b in expected]
    assert [(b.lines, b.values) for b in loaded.bodies] == [(b.lines, b.values) for b in expected]
    assert sum(b.lines for b in loaded.bodies) == lines
    assert path.read_bytes().startswith(MAGIC) == (format_name != "lp")


def test_prebuilt_file_refuses_another_batch_and_damage(tmp_path: Path) -> None:
    spec = DatasetSpec(**SPEC)  # type: ignore[arg-type]
    path = tmp_path / "data"
    buffer = io.BytesIO()
    write_data_file(spec, "remote-write", 10, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="remote-write bodies of 10 lines built by generate"):
        read_data_file(path, 20)
    assert len(read_data_file(path, None).bodies) == 2  # 3 hosts x 6 steps
    path.write_bytes(buffer.getvalue()[:-3])
    with pytest.raises(ValueError, match="damaged body record"):
        read_data_file(path, None)

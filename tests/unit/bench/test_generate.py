"""Generated data: deterministic, well-formed, the right count at the right interval."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest

from crisp.bench import api_latency, cpu_only
from crisp.bench.dataset import DatasetSpec
from crisp.bench.generate import generate_batches, write_dataset
from crisp.bench.timespec import NS_PER_S, parse_duration_ns, parse_rfc3339_ns

SMALL = {"hosts": 7, "duration_ns": 120 * NS_PER_S, "interval_ns": 10 * NS_PER_S}


def generated(**overrides: object) -> bytes:
    out = io.BytesIO()
    write_dataset(DatasetSpec(**{**SMALL, **overrides}), out)  # type: ignore[arg-type]
    return out.getvalue()


def parse(line: str) -> tuple[str, dict[str, str], dict[str, str], int]:
    key, fields, timestamp = line.split(" ")
    measurement, *tags = key.split(",")
    tag_map = dict(tag.split("=", 1) for tag in tags)
    field_map = dict(field.split("=", 1) for field in fields.split(","))
    return measurement, tag_map, field_map, int(timestamp)


@pytest.mark.parametrize("use_case", ["cpu-only", "api-latency"])
@pytest.mark.parametrize("floats", [False, True])
def test_same_seed_gives_the_same_bytes(use_case: str, floats: bool) -> None:
    first = generated(use_case=use_case, floats=floats, seed=42)
    assert first == generated(use_case=use_case, floats=floats, seed=42)
    assert first != generated(use_case=use_case, floats=floats, seed=43)


@pytest.mark.parametrize("use_case", ["cpu-only", "api-latency"])
@pytest.mark.parametrize("batch", [1, 5, 64, 100_000])
def test_batches_concatenate_to_the_file_whatever_their_size(use_case: str, batch: int) -> None:
    spec = DatasetSpec(use_case=use_case, **SMALL)  # type: ignore[arg-type]
    bodies = list(generate_batches(spec, batch))
    assert b"".join(bodies) == generated(use_case=use_case)
    assert all(body.count(b"\n") == batch for body in bodies[:-1])
    assert 1 <= bodies[-1].count(b"\n") <= batch


def test_chunking_does_not_change_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = generated(hosts=3, duration_ns=600 * NS_PER_S)
    monkeypatch.setattr(cpu_only, "CHUNK_LINES", 4)
    assert generated(hosts=3, duration_ns=600 * NS_PER_S) == whole


def test_cpu_only_schema_count_and_interval() -> None:
    lines = generated().decode().splitlines()
    assert len(lines) == 7 * 12  # hosts x (2 min / 10 s)
    start = parse_rfc3339_ns("2016-01-01T00:00:00Z")
    times: dict[str, list[int]] = {}
    for line in lines:
        measurement, tags, fields, timestamp = parse(line)
        assert measurement == "cpu"
        assert tuple(tags) == cpu_only.TAG_KEYS
        assert tags["datacenter"] in cpu_only.REGIONS[tags["region"]]
        assert tuple(fields) == cpu_only.FIELDS
        for value in fields.values():
            assert re.fullmatch(r"\d+i", value)
            assert 0 <= int(value[:-1]) <= 100
        times.setdefault(tags["hostname"], []).append(timestamp)
    assert sorted(times) == sorted(f"host_{i}" for i in range(7))
    for series in times.values():
        assert series == [start + i * 10 * NS_PER_S for i in range(12)]


def test_cpu_only_tags_are_fixed_per_host() -> None:
    seen: dict[str, dict[str, str]] = {}
    for line in generated().decode().splitlines():
        _, tags, _, _ = parse(line)
        assert seen.setdefault(tags["hostname"], tags) == tags


def test_cpu_only_floats() -> None:
    for line in generated(floats=True).decode().splitlines():
        _, _, fields, _ = parse(line)
        for value in fields.values():
            assert 0.0 <= float(value) <= 100.0
            assert not value.endswith("i")


def test_walk_moves_slowly() -> None:
    # A random walk, not noise: consecutive values of one series stay close.
    previous: dict[str, int] = {}
    jumps = []
    for line in generated(hosts=1, duration_ns=3600 * NS_PER_S).decode().splitlines():
        _, _, fields, _ = parse(line)
        value = int(fields["usage_user"][:-1])
        if "usage_user" in previous:
            jumps.append(abs(value - previous["usage_user"]))
        previous["usage_user"] = value
    assert max(jumps) <= 6


def test_api_latency_schema_and_count() -> None:
    lines = generated(use_case="api-latency").decode().splitlines()
    per_step = 7 * api_latency.ENDPOINTS_PER_SERVICE * 2
    assert len(lines) == per_step * 12
    measurements = set()
    for index, line in enumerate(lines):
        measurement, tags, fields, timestamp = parse(line)
        measurements.add(measurement)
        assert tuple(tags) == api_latency.TAG_KEYS
        assert tags["status"] in api_latency.STATUSES
        assert tags["service"] in api_latency.SERVICES
        if measurement == "api_latency":
            assert list(fields) == ["duration_ms"]
            assert float(fields["duration_ms"]) > 0
        else:
            assert measurement == "http_requests"
            assert list(fields) == ["count"]
            assert re.fullmatch(r"\d+i", fields["count"])
        step = index // per_step
        assert timestamp == parse_rfc3339_ns("2016-01-01T00:00:00Z") + step * 10 * NS_PER_S
    assert measurements == {"api_latency", "http_requests"}


def test_api_latency_has_a_slow_tail() -> None:
    spec = {"use_case": "api-latency", "hosts": 20, "duration_ns": 3600 * NS_PER_S}
    durations = sorted(
        float(parse(line)[2]["duration_ms"])
        for line in generated(**spec).decode().splitlines()
        if line.startswith("api_latency")
    )
    median = durations[len(durations) // 2]
    assert durations[-1] > 10 * median


def test_durations_and_times_parse() -> None:
    assert parse_duration_ns("1h30m") == 5400 * NS_PER_S
    assert parse_duration_ns("10s") == 10 * NS_PER_S
    assert parse_rfc3339_ns("1970-01-01T00:00:01.5+00:00") == 1_500_000_000
    for bad in ["", "10", "1x", "h"]:
        with pytest.raises(ValueError, match="bad duration"):
            parse_duration_ns(bad)
    with pytest.raises(ValueError, match="zone"):
        parse_rfc3339_ns("2016-01-01T00:00:00")


def test_cli_writes_the_same_bytes_to_stdout() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crisp",
            "bench",
            "generate",
            "--hosts",
            "7",
            "--duration",
            "2m",
            "--interval",
            "10s",
            "--seed",
            "1",
            "-o",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    assert result.stdout == generated(seed=1)

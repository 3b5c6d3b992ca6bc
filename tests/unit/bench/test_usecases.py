"""The devops and iot use cases: deterministic, TSBS's shape, and iot's defects."""

from __future__ import annotations

import io
import re
from collections import Counter
from itertools import accumulate

import pytest

from crisp.bench import cpu_only, devops, iot
from crisp.bench.dataset import DatasetSpec
from crisp.bench.generate import generate_batches, write_dataset
from crisp.bench.timespec import NS_PER_S, parse_rfc3339_ns

START = parse_rfc3339_ns("2016-01-01T00:00:00Z")


def generated(use_case: str, **overrides: object) -> bytes:
    settings: dict[str, object] = {
        "use_case": use_case,
        "hosts": 5,
        "duration_ns": 300 * NS_PER_S,
        **overrides,
    }
    out = io.BytesIO()
    write_dataset(DatasetSpec(**settings), out)  # type: ignore[arg-type]
    return out.getvalue()


def parse(line: str) -> tuple[str, dict[str, str], dict[str, str], int]:
    key, fields, timestamp = line.split(" ")
    measurement, *tags = key.split(",")
    return (
        measurement,
        dict(tag.split("=", 1) for tag in tags),
        dict(field.split("=", 1) for field in fields.split(",")),
        int(timestamp),
    )


@pytest.mark.parametrize("use_case", ["devops", "iot"])
def test_same_seed_same_bytes_other_seed_other_bytes(use_case: str) -> None:
    first = generated(use_case, seed=7)
    assert first == generated(use_case, seed=7)
    assert first != generated(use_case, seed=8)


@pytest.mark.parametrize(("use_case", "module"), [("devops", devops), ("iot", iot)])
@pytest.mark.parametrize("chunk_lines", [1, 7, 333])
def test_chunking_does_not_change_the_data(
    use_case: str, module: object, chunk_lines: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = generated(use_case, duration_ns=1200 * NS_PER_S)
    monkeypatch.setattr(module, "CHUNK_LINES", chunk_lines)
    assert generated(use_case, duration_ns=1200 * NS_PER_S) == whole


@pytest.mark.parametrize("use_case", ["devops", "iot"])
def test_batches_concatenate_to_the_file(use_case: str) -> None:
    spec = DatasetSpec(use_case=use_case, hosts=3, duration_ns=120 * NS_PER_S)
    assert b"".join(generate_batches(spec, 13)) == generated(
        use_case, hosts=3, duration_ns=120 * NS_PER_S
    )


def test_devops_has_tsbs_measurements_in_tsbs_order() -> None:
    lines = generated("devops").decode().splitlines()
    hosts, steps = 5, 30
    assert len(lines) == hosts * steps * len(devops.MEASUREMENTS)
    # Per interval: each measurement for every host, in TSBS's measurement order.
    first_interval = [parse(line)[0] for line in lines[: hosts * len(devops.MEASUREMENTS)]]
    assert first_interval == [m for m in devops.MEASUREMENTS for _ in range(hosts)]
    assert devops.MEASUREMENTS == (
        "cpu",
        "diskio",
        "disk",
        "kernel",
        "mem",
        "net",
        "nginx",
        "postgresl",
        "redis",
    )
    values = 0
    for index, line in enumerate(lines):
        measurement, tags, fields, timestamp = parse(line)
        step = index // (hosts * len(devops.MEASUREMENTS))
        assert timestamp == START + step * 10 * NS_PER_S
        host_keys = tuple(tags)[: len(cpu_only.TAG_KEYS)]
        assert host_keys == cpu_only.TAG_KEYS
        assert tuple(tags)[len(cpu_only.TAG_KEYS) :] == devops.MEASUREMENT_TAGS[measurement]
        values += len(fields)
    assert values == hosts * steps * devops.values_per_host_interval()


def test_devops_field_types_and_invariants() -> None:
    types: dict[tuple[str, str], set[str]] = {}
    counters: dict[tuple[str, str], list[int]] = {}
    for line in generated("devops").decode().splitlines():
        measurement, tags, fields, _ = parse(line)
        for name, value in fields.items():
            kind = (
                "int" if re.fullmatch(r"-?\d+i", value) else "str" if value[0] == '"' else "float"
            )
            types.setdefault((measurement, name), set()).add(kind)
        if measurement == "disk":
            total, free, used = (int(fields[k][:-1]) for k in ("total", "free", "used"))
            assert total == 1 << 40
            assert free + used == total
        if measurement == "mem":
            total, used, available = (int(fields[k][:-1]) for k in ("total", "used", "available"))
            assert total in devops.MEMORY_TOTALS
            assert used + available == total
            assert 0.0 <= float(fields["used_percent"]) <= 100.0
        if measurement == "net":
            counters.setdefault((tags["hostname"], "bytes_sent"), []).append(
                int(fields["bytes_sent"][:-1])
            )
        if measurement == "redis":
            assert fields["role"] in ('"master"', '"replica"')
    assert types[("mem", "used_percent")] == {"float"}
    assert types[("redis", "role")] == {"str"}
    assert types[("cpu", "usage_user")] == types[("postgresl", "temp_bytes")] == {"int"}
    strings = [key for key, kinds in types.items() if kinds == {"str"}]
    assert strings == [("redis", "role")]
    # Counters only go up.
    for series in counters.values():
        assert series == sorted(series)
        assert series[-1] > series[0]


def test_iot_shape() -> None:
    lines = generated("iot", hosts=20, duration_ns=3600 * NS_PER_S).decode().splitlines()
    fields_seen: dict[str, set[str]] = {"readings": set(), "diagnostics": set()}
    for line in lines:
        measurement, tags, fields, timestamp = parse(line)
        assert measurement in fields_seen
        assert set(tags) <= set(iot.TAG_KEYS)
        fields_seen[measurement] |= set(fields)
        assert (timestamp - START) % (10 * NS_PER_S) == 0
        for name, value in fields.items():
            if name == "status":
                assert re.fullmatch(r"\d+i", value)
            else:
                float(value)  # every other field is a float
                assert not value.endswith("i")
    assert fields_seen["readings"] == set(iot.READINGS_FIELDS)
    assert fields_seen["diagnostics"] == set(iot.DIAGNOSTICS_FIELDS)


def test_iot_has_tsbs_defects() -> None:
    trucks, steps = 20, 360
    lines = generated("iot", hosts=trucks, duration_ns=3600 * NS_PER_S).decode().splitlines()
    complete = trucks * steps * 2
    parsed = [parse(line) for line in lines]
    # About 1% of batches and 10% of lines never arrive.
    assert 0.85 * complete < len(lines) < 0.93 * complete
    # About 10% of lines lack one value, 1% one tag.
    short = sum(len(f) < (7 if m == "readings" else 3) for m, _, f, _ in parsed) / len(parsed)
    assert 0.07 < short < 0.13
    untagged = sum(len(t) < len(iot.TAG_KEYS) for _, t, _, _ in parsed) / len(parsed)
    assert 0.003 < untagged < 0.03
    # Out of order: lines arrive after later ones, some even after a later point
    # of their own series (with 20 trucks a line 2 batches late is a step late).
    stamps = [timestamp for _, _, _, timestamp in parsed]
    behind = sum(
        t < newest_so_far
        for t, newest_so_far in zip(stamps[1:], accumulate(stamps, max), strict=False)
    )
    assert behind > 0.1 * len(parsed)
    late = 0
    newest: dict[tuple[str, str], int] = {}
    for measurement, tags, _, timestamp in parsed:
        key = (measurement, tags.get("name", ""))
        if timestamp < newest.get(key, 0):
            late += 1
        newest[key] = max(newest.get(key, 0), timestamp)
    assert late > 0.005 * len(parsed)
    # Nothing is sent twice.
    assert max(Counter(lines).values()) == 1

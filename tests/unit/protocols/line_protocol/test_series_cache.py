"""The series-key cache the per-line path shares across bodies, and the vectorised path's
bodies (uniform layouts, many series, keys in any order)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crisp.core.batch import ParseResult
from crisp.protocols.line_protocol import DEFAULT_LIMITS, LineProtocolLimits, parse_line_protocol
from crisp.protocols.line_protocol.columnar_lines import parse_vectorised
from crisp.protocols.line_protocol.known_series import KnownSeries
from crisp.protocols.line_protocol.line_syntax import SHARED_SERIES_KEYS, SharedSeriesKeys
from crisp.protocols.line_protocol.parser import parse_sequentially
from crisp.protocols.line_protocol.single_line import LineParser

NOW = 1_700_000_000_000_000_000


def fresh_sequential(text: str, limits: LineProtocolLimits = DEFAULT_LIMITS) -> ParseResult:
    """Line by line with an empty private cache: what any cached parse must equal."""
    parser = LineParser(1, limits, SharedSeriesKeys())
    return parse_sequentially(enumerate(text.split("\n"), start=1), parser, NOW, [])


def cached_sequential(text: str, shared: SharedSeriesKeys) -> ParseResult:
    parser = LineParser(1, DEFAULT_LIMITS, shared)
    return parse_sequentially(enumerate(text.split("\n"), start=1), parser, NOW, [])


def assert_same(actual: ParseResult, expected: ParseResult) -> None:
    assert actual.errors == expected.errors
    assert list(actual.batch.measurements) == list(expected.batch.measurements)
    for name, batch in expected.batch.measurements.items():
        table = actual.batch.measurements[name].table
        assert table.schema.equals(batch.table.schema, check_metadata=True), name
        assert table.to_pylist() == batch.table.to_pylist(), name


def cpu_body(hosts: range, step: int, extra_tag: str = "") -> str:
    return "\n".join(
        f"cpu,hostname=h{h},region=r{h % 3}{extra_tag},rack={h % 7} "
        f"usage_user={(h + step) % 100}i,usage_system={h * step % 97}i,idle={h % 2}i "
        f"{step * 10_000_000_000 + h}"
        for h in hosts
    )


def in_threads(parse: Callable[[str], ParseResult]) -> None:
    """Four threads parse overlapping bodies with ``parse`` (sharing its cache); each
    result must equal an uncached parse."""
    bodies = [cpu_body(range(i * 30, i * 30 + 120), i) for i in range(6)]
    expected = [fresh_sequential(body) for body in bodies]
    failures: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for round_ in range(8):
                index = (offset + round_) % len(bodies)
                assert_same(parse(bodies[index]), expected[index])
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_repeated_and_changed_bodies_match_an_uncached_parse() -> None:
    bodies = [
        cpu_body(range(100), 0),
        cpu_body(range(100), 1),  # same series, new values
        cpu_body(range(50, 150), 2),  # half new series
        cpu_body(range(100), 3, extra_tag=",os=linux"),  # same hosts, other keys
        cpu_body(range(100), 0),
    ]
    for body in bodies * 2:
        result = parse_line_protocol(body.encode(), default_time_ns=NOW)
        assert result.errors == []
        assert_same(result, fresh_sequential(body))


def test_cached_keys_respect_each_callers_tag_limit() -> None:
    body = cpu_body(range(80), 0)
    assert parse_line_protocol(body.encode(), default_time_ns=NOW).errors == []
    limits = LineProtocolLimits(max_tags=2)
    result = parse_line_protocol(body.encode(), default_time_ns=NOW, limits=limits)
    assert len(result.errors) == 80
    assert {error.reason for error in result.errors} == {"too many tags (3 > 2)"}
    assert_same(result, fresh_sequential(body, limits))


def test_invalid_keys_are_cached_and_still_reported() -> None:
    lines = [f"cpu,host=h{i % 5},time=x v={i}i {i}" for i in range(70)]
    lines += [f"cpu,host=h{i % 5},host=y v={i}i {i}" for i in range(70)]
    body = "\n".join(lines)
    for _ in range(2):
        result = parse_line_protocol(body.encode(), default_time_ns=NOW)
        assert len(result.errors) == 140
        assert_same(result, fresh_sequential(body))


def test_cache_is_bounded_by_entries_and_by_size() -> None:
    by_entries = SharedSeriesKeys(max_entries=10)
    by_bytes = SharedSeriesKeys(max_bytes=5000)
    for start in range(0, 400, 100):
        body = cpu_body(range(start, start + 100), 0)
        for shared in (by_entries, by_bytes):
            assert_same(cached_sequential(body, shared), fresh_sequential(body))
    assert len(by_entries) == 10
    assert 0 < by_bytes.size_bytes <= 5000
    assert len(by_bytes) < 10
    assert len(SHARED_SERIES_KEYS) <= SHARED_SERIES_KEYS.max_entries


def test_least_recently_used_keys_are_evicted_first() -> None:
    shared = SharedSeriesKeys(max_entries=2)
    shared.get_many(["a,t=1", "b,t=1"], 8)
    shared.get_many(["a,t=1"], 8)  # a is now the most recent
    shared.get_many(["c,t=1"], 8)
    keys = shared.get_many(["a,t=1", "c,t=1"], 8)
    assert [key.measurement if key else None for key in keys] == ["a", "c"]
    assert len(shared) == 2
    shared.clear()
    assert len(shared) == 0
    assert shared.size_bytes == 0


def test_threads_sharing_a_small_cache_get_the_uncached_results() -> None:
    shared = SharedSeriesKeys(max_entries=64)
    in_threads(lambda body: cached_sequential(body, shared))
    assert len(shared) <= 64


def test_uniform_bodies_with_bad_and_escaped_lines_match_line_by_line() -> None:
    lines = []
    for i in range(150):
        lines.append(f"cpu,host=h{i % 9} a={i}i,b={i}.5,c=t {i}")
        if i % 10 == 0:
            lines.append(f"cpu,host=h{i % 9} a=x{i},b=1,c=t {i}")  # bad value, same keys
        if i % 13 == 0:
            lines.append(rf"cpu,host=h\ {i} a={i}i,b=2.5,c=f")  # escaped: per-line path
        if i % 17 == 0:
            lines.append(f"mem,host=h{i % 9} a={i}i,b={i}.5,c=f {i}")  # another measurement
    text = "\n".join(lines)
    result = parse_vectorised(text, LineParser(1, DEFAULT_LIMITS), NOW)
    assert result is not None
    expected = fresh_sequential(text)
    assert_same(result, expected)
    assert len(expected.errors) == 15
    assert_same(parse_line_protocol(text.encode(), default_time_ns=NOW), expected)


def test_same_keys_in_another_order_are_not_uniform_but_match() -> None:
    lines = [f"m,t=x a={i}i,b={i}i" if i % 2 else f"m,t=x b={i}i,a={i}i {i}" for i in range(100)]
    lines += [f"m,t=y a={i}i,a={i + 1}i" for i in range(10)]  # repeated key, last wins
    text = "\n".join(lines)
    result = parse_vectorised(text, LineParser(1, DEFAULT_LIMITS), NOW)
    assert result is not None
    assert_same(result, fresh_sequential(text))


_VALUES = st.sampled_from(
    ["1i", "-2i", "3u", "1.5", "-0.25e3", "t", "F", '"s"', '"a b"', "x", "1e999", "", "7"]
)
_TAGS = st.sampled_from(["", ",t=a", ",t=b", ",u=c,t=a", ",a=x", ",t=a,t=b", ",time=1"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keys=st.lists(st.sampled_from(["a", "b", "c", "t", "time"]), min_size=1, max_size=3),
    rows=st.lists(
        st.tuples(st.sampled_from(["m", "n"]), _TAGS, st.lists(_VALUES, min_size=3, max_size=3)),
        min_size=1,
        max_size=40,
    ),
)
def test_uniform_layouts_match_line_by_line(
    keys: list[str], rows: list[tuple[str, str, list[str]]]
) -> None:
    lines = [
        f"{name}{tags} "
        + ",".join(f"{key}={value}" for key, value in zip(keys, values, strict=False))
        for name, tags, values in rows
    ]
    text = "\n".join(lines)
    result = parse_vectorised(text, LineParser(1, DEFAULT_LIMITS), NOW)
    if result is not None:  # None: a type conflict made line order matter
        assert_same(result, fresh_sequential(text))


def test_a_body_of_many_new_series_in_any_tag_order_matches_line_by_line() -> None:
    # Every key new, tags unsorted as api clients write them, some absent, a few bad.
    lines = []
    for i in range(600):
        tags = [f"service=s{i % 7}", f"endpoint=/e{i % 16}", f"host=h{i}"]
        if i % 5:
            tags.append(f"status={200 + i % 3}")
        order = tags[i % len(tags):] + tags[: i % len(tags)]
        lines.append(f"api_latency,{','.join(order)} duration_ms={i}.5 {i}")
        if i % 97 == 0:
            lines.append(f"api_latency,host=h{i},host=x duration_ms=1 {i}")  # duplicate tag
            lines.append(f"api_latency,time=t{i} duration_ms=1 {i}")  # reserved tag key
            lines.append(f"api_latency,host= duration_ms=1 {i}")  # empty tag value
    text = "\n".join(lines)
    result = parse_vectorised(text, LineParser(1, DEFAULT_LIMITS), NOW)
    assert result is not None
    expected = fresh_sequential(text)
    assert len(expected.errors) == 3 * 7
    assert_same(result, expected)
    table = result.batch.measurements["api_latency"].table
    assert table.column_names == ["time", "endpoint", "host", "service", "status", "duration_ms"]
    assert table.column("status").null_count == 120


def vectorised_with(text: str, known: KnownSeries, limits: LineProtocolLimits = DEFAULT_LIMITS
                    ) -> ParseResult:
    result = parse_vectorised(text, LineParser(1, limits, SharedSeriesKeys(), known), NOW)
    assert result is not None
    return result


def test_known_series_serve_later_bodies_and_match_an_uncached_parse() -> None:
    known = KnownSeries()
    bodies = [
        cpu_body(range(100), 0),
        cpu_body(range(100), 1),  # every key known
        cpu_body(range(80, 120), 2),  # half known, half new: stored too
        cpu_body(range(100), 3, extra_tag=",os=linux"),  # same hosts, another layout
        "\n".join([cpu_body(range(10), 4), "cpu,host=a,host=b v=1i 1", "cpu,time=x v=1i 1"]),
    ]
    for body in bodies * 2:
        assert_same(vectorised_with(body, known), fresh_sequential(body))
    assert len(known) == 120 + 100 + 2  # invalid keys are remembered as invalid
    limited = LineProtocolLimits(max_tags=2)
    body = cpu_body(range(100), 5)  # three tags: all refused under this limit
    result = vectorised_with(body, known, limited)
    assert len(result.errors) == 100
    assert_same(result, fresh_sequential(body, limited))


def test_known_series_stay_within_their_budget_and_survive_churn() -> None:
    known = KnownSeries(max_bytes=20_000)
    steady = cpu_body(range(60), 0)
    vectorised_with(steady, known)
    stored = len(known)
    assert 0 < known.size_bytes <= 20_000
    for start in range(1000, 5000, 500):  # bodies of never-seen series
        churn = cpu_body(range(start, start + 300), 1)
        assert_same(vectorised_with(churn, known), fresh_sequential(churn))
        assert known.size_bytes <= 20_000
    assert len(known) == stored  # the churn was parsed, not stored over the steady keys
    assert_same(vectorised_with(steady, known), fresh_sequential(steady))


def test_threads_sharing_known_series_get_the_uncached_results() -> None:
    known = KnownSeries(max_bytes=30_000)
    in_threads(lambda body: vectorised_with(body, known))
    assert known.size_bytes <= 30_000

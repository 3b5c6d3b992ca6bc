"""The data set and queries of the InfluxDB compatibility suite."""

from __future__ import annotations

import random

DB = "compat"
START_S = 1_767_225_600  # 2026-01-01T00:00:00Z
HOSTS = [f"h{i}" for i in range(5)]
T0 = f"{START_S}s"
T_END = f"{START_S + 3600}s"
RANGE = f"time >= {START_S * 10**9} AND time < {(START_S + 3600) * 10**9}"


def compat_data() -> bytes:
    rng = random.Random(7)
    lines = []
    for step in range(360):
        ts = START_S + step * 10
        for index, host in enumerate(HOSTS):
            region = "eu" if index % 2 else "us"
            user = rng.randint(0, 100)
            system = round(rng.uniform(0, 50), 3)
            lines.append(
                f"cpu,host={host},region={region} usage_user={user}i,usage_system={system} {ts}"
            )
        if step % 3 == 0:
            for service in ("checkout", "cart"):
                for endpoint in ("/pay", "/view"):
                    duration = round(rng.lognormvariate(3, 0.6), 3)
                    lines.append(
                        f"api_latency,service={service},endpoint={endpoint},status=200 "
                        f"duration_ms={duration} {ts}"
                    )
    lines += _load_lines()
    return ("\n".join(lines) + "\n").encode()


def _load_lines() -> list[str]:
    """A minute apart on every host at once, values from tiny sets: equal values at equal
    times across series (the ties top()/bottom() must break like InfluxDB), a host
    without the ``dc`` tag, a string field, and a ten-minute gap for fill()."""
    rng = random.Random(11)
    lines = []
    for step in range(60):
        if 20 <= step < 30:
            continue
        ts = START_S + step * 60
        for index in range(6):
            tags = f"host=h{index}" if index == 5 else f"dc={'ab'[index % 2]},host=h{index}"
            procs = rng.choice([1, 2, 3])
            score = rng.choice([0.5, 1.5])
            state = rng.choice(["ok", "ok", "warn", "crit"])
            lines.append(f'load,{tags} procs={procs}i,score={score},state="{state}" {ts}')
    return lines


QUERIES = [
    "SHOW MEASUREMENTS",
    "SHOW TAG KEYS FROM cpu",
    'SHOW TAG VALUES FROM cpu WITH KEY = "host"',
    'SHOW TAG VALUES FROM api_latency WITH KEY IN ("service", "endpoint")',
    "SHOW FIELD KEYS FROM cpu",
    "SHOW SERIES FROM api_latency",
    f"SELECT usage_user, usage_system FROM cpu WHERE host = 'h1' AND {RANGE}",
    f"SELECT * FROM cpu WHERE host = 'h2' AND {RANGE} LIMIT 5",
    f"SELECT usage_user FROM cpu WHERE host = 'h1' AND {RANGE} ORDER BY time DESC LIMIT 3",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE}",
    f"SELECT count(usage_user), sum(usage_user), min(usage_user), max(usage_user) FROM cpu "
    f"WHERE {RANGE}",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT max(usage_system) FROM cpu WHERE {RANGE} GROUP BY host",
    f"SELECT mean(usage_system) FROM cpu WHERE {RANGE} GROUP BY time(15m), region",
    f"SELECT first(usage_user), last(usage_user) FROM cpu WHERE host = 'h3' AND {RANGE}",
    f"SELECT percentile(duration_ms, 95) FROM api_latency WHERE {RANGE} GROUP BY service",
    f"SELECT median(duration_ms), spread(duration_ms), stddev(duration_ms) FROM api_latency "
    f"WHERE {RANGE}",
    f"SELECT mean(usage_user) FROM cpu WHERE host =~ /h[12]/ AND {RANGE} GROUP BY time(20m), host",
    f"SELECT count(usage_user) FROM cpu WHERE host != 'h0' AND region = 'eu' AND {RANGE}",
    f"SELECT mean(usage_user) FROM cpu WHERE time >= {START_S * 10**9} AND "
    f"time < {(START_S + 7200) * 10**9} GROUP BY time(30m) fill(0)",
    f"SELECT mean(usage_user) FROM cpu WHERE time >= {START_S * 10**9} AND "
    f"time < {(START_S + 7200) * 10**9} GROUP BY time(30m) fill(none)",
    f"SELECT usage_user * 2 + 1 FROM cpu WHERE host = 'h4' AND {RANGE} LIMIT 4",
    f"SELECT derivative(mean(usage_user), 1m) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT cumulative_sum(max(usage_user)) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT max(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) SLIMIT 2",
    "SELECT nope FROM cpu WHERE time > 0",
    "SELECT mean(usage_user) FROM no_such_measurement WHERE time > 0",
]

R2 = f"time >= {START_S * 10**9} AND time < {(START_S + 7200) * 10**9}"

# Metadata, fills, transformations, selectors with tags, subqueries, tz(), regexes.
QUERIES += [
    "SHOW MEASUREMENTS WITH MEASUREMENT =~ /cp.*/",
    "SHOW MEASUREMENTS LIMIT 1",
    "SHOW TAG KEYS",
    'SHOW TAG VALUES WITH KEY = "region"',
    "SHOW TAG VALUES FROM cpu WITH KEY =~ /reg.*/",
    "SHOW TAG VALUES FROM cpu WITH KEY = \"host\" WHERE region = 'eu'",
    'SHOW TAG VALUES FROM cpu WITH KEY = "host" LIMIT 2 OFFSET 1',
    "SHOW FIELD KEYS",
    "SHOW SERIES FROM cpu WHERE region = 'eu'",
    "SHOW SERIES LIMIT 3",
    "SHOW DATABASES",
    "SHOW RETENTION POLICIES ON compat",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) ORDER BY time DESC",
    f"SELECT mean(usage_user) FROM cpu WHERE {R2} GROUP BY time(30m) fill(previous)",
    f"SELECT mean(usage_user) FROM cpu WHERE {R2} GROUP BY time(30m) fill(linear)",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m, 5m)",
    f"SELECT moving_average(mean(usage_user), 3) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT difference(max(usage_user)) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT non_negative_derivative(max(usage_system), 1s) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT derivative(usage_user) FROM cpu WHERE host = 'h0' AND {RANGE} LIMIT 4",
    f"SELECT difference(usage_user) FROM cpu WHERE host = 'h0' AND {RANGE} LIMIT 4",
    f"SELECT elapsed(usage_user, 1s) FROM cpu WHERE host = 'h0' AND {RANGE} LIMIT 3",
    f"SELECT cumulative_sum(usage_user) FROM cpu WHERE host = 'h0' AND {RANGE} LIMIT 4",
    f"SELECT moving_average(usage_user, 2) FROM cpu WHERE host = 'h0' AND {RANGE} LIMIT 4",
    f"SELECT top(usage_user, 3) FROM cpu WHERE {RANGE}",
    f"SELECT max(usage_user), host FROM cpu WHERE {RANGE}",
    f"SELECT min(usage_system), usage_user FROM cpu WHERE {RANGE} GROUP BY region",
    f"SELECT mode(usage_user) FROM cpu WHERE {RANGE}",
    f"SELECT count(distinct(usage_user)) FROM cpu WHERE {RANGE}",
    f"SELECT distinct(region) FROM cpu WHERE {RANGE}",
    f"SELECT integral(usage_user, 1m) FROM cpu WHERE host = 'h0' AND {RANGE}",
    f"SELECT spread(usage_user) FROM cpu WHERE {RANGE} GROUP BY *",
    f"SELECT percentile(usage_user, 50), percentile(usage_user, 99.9) FROM cpu WHERE {RANGE}",
    f"SELECT mean(usage_user) AS avg, max(usage_user) - min(usage_user) AS range FROM cpu WHERE {RANGE}",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m), host SLIMIT 2 SOFFSET 1",
    f"SELECT usage_user FROM cpu WHERE {RANGE} AND usage_user > 98 AND host = 'h1'",
    f"SELECT usage_user FROM cpu WHERE {RANGE} AND (host = 'h1' OR host = 'h2') AND usage_user < 2",
    f"SELECT usage_user FROM cpu WHERE {RANGE} AND host !~ /h[0-3]/ LIMIT 3 OFFSET 2",
    f"SELECT usage_user FROM /c.u/ WHERE host = 'h1' AND {RANGE} LIMIT 2",
    f"SELECT usage_user FROM compat.autogen.cpu WHERE host = 'h1' AND {RANGE} LIMIT 2",
    f'SELECT "usage_user" FROM "cpu" WHERE "host" = \'h1\' AND {RANGE} LIMIT 2',
    f"SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY time(10m), host)",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T01:00:00Z'",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(1h) tz('Europe/Paris')",
    f"SELECT sum(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(7m)",
    f"SELECT count(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) LIMIT 2 OFFSET 1",
    f"SELECT first(usage_user) FROM cpu WHERE {RANGE} GROUP BY host LIMIT 1",
    f"SELECT usage_user, usage_system FROM cpu WHERE {RANGE} AND host = 'h0' ORDER BY time DESC LIMIT 2",
    f"SELECT mean(duration_ms), count(duration_ms) FROM api_latency WHERE {RANGE} GROUP BY service, endpoint",
    f"SELECT stddev(usage_user), median(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(20m)",
    f"SELECT last(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(20m), host fill(none)",
    f"SELECT usage_user::float FROM cpu WHERE host = 'h1' AND {RANGE} LIMIT 2",
    f"SELECT sum(usage_user) / count(usage_user) FROM cpu WHERE {RANGE}",
    f"SELECT * FROM cpu WHERE host = 'nope' AND {RANGE}",
    f"SELECT mean(*) FROM cpu WHERE {RANGE}",
    f"SELECT max(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) fill(none) LIMIT 3",
    "SELECT mean(usage_user) FROM cpu WHERE time > now() - 1h",
    f"SELECT mean(usage_user) FROM cpu, api_latency WHERE {RANGE}",
]

# top()/bottom(): tag arguments, other columns, GROUP BY time/tags, the ties of `load`
# (equal values at equal times across series), and the forms InfluxDB refuses.
QUERIES += [
    f"SELECT top(usage_user, host, 3) FROM cpu WHERE {RANGE}",
    f"SELECT bottom(usage_user, host, 3) FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_system, host, 3) FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_user, host, 2) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT top(usage_user, host, region, 3) FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_user, region, 3) FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_user, host, 2) FROM cpu WHERE {RANGE} GROUP BY region",
    f"SELECT top(usage_user, host, 3), usage_system FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_user, 3), host FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_user, host, 10) FROM cpu WHERE {RANGE}",
    f"SELECT top(usage_user, host, 3) FROM cpu WHERE {RANGE} GROUP BY host",
    f"SELECT top(usage_user, 2) FROM cpu WHERE {RANGE} GROUP BY time(20m), host",
    f"SELECT top(usage_user, host, 3) FROM cpu WHERE {RANGE} GROUP BY time(10m) fill(0)",
    f"SELECT top(duration_ms, service, endpoint, 3) FROM api_latency WHERE {RANGE}",
    f"SELECT top(procs, host, 3) FROM load WHERE {RANGE}",
    f"SELECT bottom(procs, host, 3) FROM load WHERE {RANGE}",
    f"SELECT top(procs, dc, 2) FROM load WHERE {RANGE}",
    f"SELECT bottom(score, dc, 3) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2) FROM load WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT bottom(procs, host, 2) FROM load WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT top(procs, host, dc, 4) FROM load WHERE {RANGE} GROUP BY time(15m)",
    f"SELECT top(procs, 3), host FROM load WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT bottom(procs, 4), host, state FROM load WHERE {RANGE} GROUP BY time(5m)",
    f"SELECT bottom(score, host, 2), state FROM load WHERE {RANGE} GROUP BY dc",
    f"SELECT top(procs, 5) FROM load WHERE {RANGE} GROUP BY time(20m), dc",
    f"SELECT top(procs, host, 3) FROM load WHERE {RANGE} GROUP BY time(20m) ORDER BY time DESC",
    f"SELECT bottom(procs, 3), host FROM load WHERE {RANGE} ORDER BY time DESC",
    f"SELECT bottom(procs, 3), host FROM load WHERE {RANGE} GROUP BY time(10m) ORDER BY time DESC",
    f"SELECT host, top(procs, host, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2) AS most, score FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2), * FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2), procs * 10 FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2) FROM load WHERE {RANGE} LIMIT 1",
    f"SELECT top(procs, host, 3) FROM load WHERE {RANGE} GROUP BY time(10m) LIMIT 4 OFFSET 1",
    f"SELECT max(most) FROM (SELECT top(procs, host, 2) AS most FROM load WHERE {RANGE} "
    "GROUP BY time(10m))",
    f"SELECT top(procs, host, 2) FROM load, cpu WHERE {RANGE}",
    f"SELECT top(procs, nosuch, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, score, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2) FROM load WHERE {RANGE} AND dc = 'a' GROUP BY time(30m)",
    f"SELECT top(procs, 2), time FROM load WHERE {RANGE}",
    f"SELECT top(procs::integer, host::tag, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 2) FROM load WHERE {RANGE} GROUP BY *",
    f"SELECT top(procs, 2), max(score) FROM load WHERE {RANGE}",
    f"SELECT mean(procs), bottom(procs, host, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, 'host', 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 0) FROM load WHERE {RANGE}",
    f"SELECT top(procs, 2.5) FROM load WHERE {RANGE}",
    f"SELECT top(*, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs) FROM load WHERE {RANGE}",
    f"SELECT top(state, 2) FROM load WHERE {RANGE}",
    f"SELECT top(state, host, 2) FROM load WHERE {RANGE}",
    f"SELECT top(procs, host, 3) FROM load WHERE {RANGE} LIMIT 2",
]

# Transformations of GROUP BY time() aggregates read one bucket before the range (the
# range starts mid-data here, and once off the bucket grid); ORDER BY time DESC runs
# transformations over the descending sequence.
LATE = f"time >= {(START_S + 900) * 10**9} AND time < {(START_S + 3600) * 10**9}"
LATE_OFF_GRID = f"time >= {(START_S + 930) * 10**9} AND time < {(START_S + 3600) * 10**9}"
QUERIES += [
    f"SELECT derivative(mean(procs)) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT non_negative_derivative(max(procs), 1s) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT difference(sum(procs)) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT non_negative_difference(sum(procs)) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT moving_average(mean(procs), 3) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT moving_average(mean(procs), 3) FROM load WHERE {LATE} GROUP BY time(5m) fill(0)",
    f"SELECT cumulative_sum(sum(procs)) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT elapsed(max(procs), 1m) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT derivative(mean(procs)) FROM load WHERE {LATE} GROUP BY time(5m) fill(0)",
    f"SELECT derivative(mean(procs)) FROM load WHERE {LATE} GROUP BY time(5m), host "
    "fill(previous) SLIMIT 1",
    f"SELECT mean(procs), derivative(mean(procs)) FROM load WHERE {LATE} GROUP BY time(5m)",
    f"SELECT derivative(mean(procs)) FROM load WHERE {LATE} GROUP BY time(5m) ORDER BY time DESC",
    f"SELECT derivative(mean(procs)) FROM load WHERE {LATE_OFF_GRID} GROUP BY time(5m)",
    f"SELECT mean(procs) FROM load WHERE {LATE_OFF_GRID} GROUP BY time(5m)",
    f"SELECT derivative(mean(procs)) FROM load WHERE {LATE} GROUP BY time(5m) LIMIT 2",
    f"SELECT elapsed(procs, 1m) FROM load WHERE host = 'h0' AND {RANGE} ORDER BY time DESC LIMIT 3",
    f"SELECT cumulative_sum(procs) FROM load WHERE host = 'h0' AND {RANGE} "
    "ORDER BY time DESC LIMIT 3",
    f"SELECT derivative(procs, 1m) FROM load WHERE host = 'h0' AND {RANGE} "
    "ORDER BY time DESC LIMIT 3",
    f"SELECT difference(procs) FROM load WHERE host = 'h0' AND {RANGE} ORDER BY time DESC LIMIT 3",
    f"SELECT moving_average(procs, 2) FROM load WHERE host = 'h0' AND {RANGE} "
    "ORDER BY time DESC LIMIT 3",
    f"SELECT non_negative_derivative(max(usage_user), 1s) FROM cpu WHERE {RANGE} "
    "GROUP BY time(10m) ORDER BY time DESC",
    f"SELECT cumulative_sum(mean(procs)) FROM load WHERE {RANGE} GROUP BY time(10m) "
    "ORDER BY time DESC",
]

# Math functions, per row and over aggregates (null where the result is not a number).
H1 = f"host = 'h1' AND {RANGE}"
QUERIES += [
    f"SELECT abs(usage_system - 25) FROM cpu WHERE {H1} LIMIT 3",
    f"SELECT floor(usage_user), round(usage_user / 3) FROM cpu WHERE {H1} LIMIT 3",
    f"SELECT floor(usage_system), ceil(usage_system), round(usage_system) FROM cpu "
    f"WHERE {H1} LIMIT 3",
    f"SELECT sqrt(usage_user), pow(usage_user, 2), ln(usage_system), log(usage_system, 10) "
    f"FROM cpu WHERE {H1} LIMIT 3",
    f"SELECT log2(usage_user), log10(usage_user), exp(procs) FROM cpu WHERE {H1} LIMIT 3",
    f"SELECT sqrt(usage_system - 30), ln(usage_system - 30) FROM cpu WHERE {H1} LIMIT 3",
    f"SELECT sin(usage_system), cos(usage_system), tan(usage_system), "
    f"atan2(usage_system, usage_user) FROM cpu WHERE {H1} LIMIT 2",
    f"SELECT asin(score - 1), acos(score - 1), atan(score) FROM load WHERE {H1} LIMIT 2",
    f"SELECT round(mean(usage_user)) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT abs(mean(usage_system)) FROM cpu WHERE {RANGE}",
    f"SELECT round(mean(usage_user)) * 2, ceil(max(usage_system)) FROM cpu WHERE {RANGE} "
    "GROUP BY host",
    f"SELECT round(usage_system) * 10 + 1 FROM cpu WHERE {H1} LIMIT 2",
    f"SELECT round(usage_system) AS r, usage_user FROM cpu WHERE {H1} LIMIT 2",
    f"SELECT floor(state) FROM load WHERE {H1} LIMIT 2",
    f"SELECT round(mean(procs)) FROM load WHERE {RANGE} GROUP BY time(10m) fill(0)",
    f"SELECT abs(derivative(mean(procs))) FROM load WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT derivative(abs(mean(procs))) FROM load WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT mean(abs(procs)) FROM load WHERE {RANGE}",
    f"SELECT round(usage_system, 1) FROM cpu WHERE {H1} LIMIT 2",
    f"SELECT pow(usage_user) FROM cpu WHERE {H1} LIMIT 2",
    f"SELECT abs(host) FROM cpu WHERE {H1} LIMIT 2",
    f"SELECT * FROM cpu WHERE {H1} AND round(usage_system) = 33",
]

# distinct() lists values by first appearance; ORDER BY time DESC reverses the series
# order too; SLIMIT/SOFFSET count per measurement; count() of a field the measurement
# lacks is null.
QUERIES += [
    f"SELECT distinct(state) FROM load WHERE {RANGE} GROUP BY host",
    f"SELECT distinct(usage_user) FROM cpu WHERE host = 'h1' AND {RANGE} GROUP BY time(30m) "
    "LIMIT 2",
    f"SELECT distinct(procs) FROM load WHERE {RANGE} GROUP BY time(10m), dc",
    f"SELECT distinct(score) FROM load WHERE {RANGE} GROUP BY time(20m)",
    f"SELECT distinct(usage_user) FROM cpu WHERE {RANGE} GROUP BY region LIMIT 5",
    f"SELECT count(distinct(state)) FROM load WHERE {RANGE} GROUP BY dc",
    f"SELECT distinct(state) FROM load WHERE {RANGE} ORDER BY time DESC",
    f"SELECT distinct(procs) FROM load WHERE {RANGE} GROUP BY time(20m) ORDER BY time DESC",
    f"SELECT distinct(state) FROM load WHERE {RANGE} GROUP BY host ORDER BY time DESC",
    f"SELECT usage_user FROM cpu WHERE {RANGE} GROUP BY host ORDER BY time DESC LIMIT 1",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(30m), host ORDER BY time DESC",
    f"SELECT mean(duration_ms) FROM api_latency WHERE {RANGE} GROUP BY service, endpoint "
    "ORDER BY time DESC",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY host ORDER BY time DESC SLIMIT 2",
    f"SELECT last(usage_user) FROM cpu WHERE {RANGE} GROUP BY host ORDER BY time DESC",
    f"SELECT max(usage_user) FROM /c.*/ WHERE {RANGE} GROUP BY time(30m), host "
    "ORDER BY time DESC SLIMIT 1 SOFFSET 1",
    f"SELECT count(usage_user), count(procs) FROM cpu, load WHERE {RANGE} GROUP BY host SLIMIT 3",
    f"SELECT max(usage_user), max(procs) FROM cpu, load WHERE {RANGE} GROUP BY host "
    "ORDER BY time DESC",
    f"SELECT max(usage_user), max(procs) FROM cpu, load WHERE {RANGE} GROUP BY host "
    "ORDER BY time DESC SLIMIT 2 SOFFSET 1",
    f"SELECT usage_user, procs FROM cpu, load WHERE host = 'h1' AND {RANGE} "
    "ORDER BY time DESC LIMIT 2",
    f"SELECT count(usage_user), count(procs) FROM cpu, load WHERE {RANGE} "
    "GROUP BY time(20m), host SLIMIT 2",
    f"SELECT count(usage_user), count(procs) FROM cpu WHERE {RANGE} GROUP BY time(20m)",
]

# SHOW ... CARDINALITY, and SHOW ... ON db.
QUERIES += [
    "SHOW SERIES CARDINALITY",
    "SHOW SERIES CARDINALITY ON compat",
    "SHOW SERIES CARDINALITY FROM cpu",
    "SHOW MEASUREMENT CARDINALITY",
    "SHOW MEASUREMENT CARDINALITY ON compat",
    'SHOW TAG VALUES CARDINALITY WITH KEY = "host"',
    'SHOW TAG VALUES CARDINALITY FROM load WITH KEY = "dc"',
    "SHOW TAG KEY CARDINALITY",
    "SHOW FIELD KEY CARDINALITY",
    "SHOW SERIES EXACT CARDINALITY",
    "SHOW MEASUREMENT EXACT CARDINALITY",
    'SHOW TAG VALUES EXACT CARDINALITY WITH KEY = "host"',
    "SHOW SERIES CARDINALITY WHERE host = 'h1'",
    "SHOW SERIES EXACT CARDINALITY FROM cpu WHERE host = 'h1'",
    "SHOW MEASUREMENT CARDINALITY FROM /c.*/",
    "SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'h1'",
    "SHOW TAG KEY EXACT CARDINALITY FROM load",
    "SHOW TAG KEY CARDINALITY WHERE dc = 'a'",
    "SHOW FIELD KEY EXACT CARDINALITY FROM cpu",
    "SHOW TAG VALUES CARDINALITY WITH KEY =~ /h.*/ WHERE dc = 'a'",
    "SHOW TAG VALUES CARDINALITY WITH KEY IN (host, dc)",
    "SHOW SERIES CARDINALITY LIMIT 1",
    "SHOW TAG KEY CARDINALITY LIMIT 1 OFFSET 1",
    "SHOW TAG VALUES EXACT CARDINALITY FROM cpu WITH KEY = \"region\" WHERE host = 'h1'",
    "SHOW SERIES CARDINALITY WHERE time > now() - 1h",
    "SHOW FIELD KEY CARDINALITY WHERE host = 'h1'",
    'SHOW TAG VALUES FROM cpu WITH KEY = "host"',
    "SHOW FIELD KEYS ON compat",
    "SHOW FIELD KEYS ON compat FROM load",
    "SHOW MEASUREMENTS ON compat",
    "SHOW TAG KEYS ON compat FROM load",
    "SHOW SERIES ON compat FROM load WHERE dc = 'a'",
]

# percentile() with other fields (float data: InfluxDB's order among equal values is its
# sort's, not replayed); a rank outside the points selects nothing.
QUERIES += [
    f"SELECT percentile(usage_system, 90), host FROM cpu WHERE {RANGE}",
    f"SELECT percentile(usage_system, 50), host, usage_user FROM cpu WHERE {RANGE} GROUP BY region",
    f"SELECT percentile(duration_ms, 95), endpoint FROM api_latency WHERE {RANGE} GROUP BY service",
    f"SELECT percentile(usage_system, 50), host FROM cpu WHERE {RANGE} GROUP BY time(20m)",
    f"SELECT percentile(usage_user, 0) FROM cpu WHERE {RANGE}",
    f"SELECT percentile(usage_system, 0), host FROM cpu WHERE {RANGE}",
    f"SELECT percentile(usage_system, 0), percentile(usage_system, 50) FROM cpu WHERE {RANGE}",
    f"SELECT median(procs), host FROM load WHERE {RANGE}",
    f"SELECT distinct(procs), max(score) FROM load WHERE {RANGE}",
]

# SHOW ... WHERE time: series with points in the range (InfluxDB: per shard; the
# ranges here are far from any shard's edge), refused where InfluxDB refuses it.
QUERIES += [
    "SHOW SERIES WHERE time > now() - 1h",
    "SHOW MEASUREMENTS WHERE time > now() - 1h",
    "SHOW TAG KEYS WHERE time > now() - 1h",
    'SHOW TAG VALUES WITH KEY = "host" WHERE time >= 1767225600000000000 AND time < 1767225610000000000',
    "SHOW TAG VALUES FROM cpu WITH KEY = \"host\" WHERE time > now() - 1h AND host = 'h1'",
    "SHOW SERIES FROM cpu WHERE time > '2020-01-01T00:00:00Z'",
    'SHOW TAG VALUES CARDINALITY WITH KEY = "host" WHERE time > now() - 1h',
    "SHOW MEASUREMENT EXACT CARDINALITY WHERE time > now() - 1h",
    "SHOW TAG KEY CARDINALITY WHERE time > now() - 1h",
    'SHOW TAG VALUES FROM cpu WITH KEY = "host" WHERE time > now() - 1h',
    "SHOW TAG KEYS FROM load WHERE time >= '2026-01-01T00:00:00Z' AND dc = 'a'",
    "SHOW SERIES FROM api_latency WHERE time >= 1767225600000000000 AND service = 'cart'",
]

# sample() of more points than there are (so deterministic) keeps the points' times.
QUERIES += [
    f"SELECT sample(procs, 1000) FROM load WHERE host = 'h3' AND {RANGE} GROUP BY time(10m) "
    "LIMIT 5",
    f"SELECT sample(usage_user, 1000) FROM cpu WHERE host = 'h3' AND {RANGE} "
    "GROUP BY time(30m) ORDER BY time DESC LIMIT 3",
    f"SELECT sample(procs, 1000) FROM load WHERE host = 'h3' AND {RANGE} LIMIT 3",
    f"SELECT sample(usage_user, 1000) FROM cpu WHERE host = 'h3' AND {RANGE} "
    "ORDER BY time DESC LIMIT 3",
]

# Wildcards over several measurements expand over the union of their columns.
QUERIES += [
    f"SELECT * FROM cpu, load WHERE host = 'h1' AND {RANGE} ORDER BY time DESC LIMIT 2",
    f"SELECT * FROM cpu, load WHERE host = 'h1' AND {RANGE} LIMIT 2",
    f"SELECT count(*) FROM cpu, load WHERE {RANGE} GROUP BY host",
    f"SELECT count(*) FROM cpu, load WHERE {RANGE} GROUP BY host ORDER BY time DESC SLIMIT 3",
    f"SELECT mean(*) FROM /.*/ WHERE {RANGE}",
    f"SELECT max(*) FROM cpu, api_latency WHERE {RANGE} GROUP BY time(30m)",
    f"SELECT *::field FROM cpu, load WHERE host = 'h2' AND {RANGE} LIMIT 1",
    f"SELECT /usage|procs/ FROM cpu, load WHERE host = 'h2' AND {RANGE} LIMIT 1",
    f"SELECT count(/usage|procs/) AS c FROM cpu, load WHERE {RANGE}",
    f"SELECT * FROM cpu, load WHERE {RANGE} GROUP BY host LIMIT 1 SLIMIT 2",
    f"SELECT count(*) AS c FROM cpu WHERE {RANGE}",
    f"SELECT max(/usage/) AS m FROM cpu WHERE {RANGE}",
]

# Queries as dashboards send them (quoted names, epoch ms bounds, field conditions,
# offsets, fills); first()/last() over several series break equal times by value.
QUERIES += [
    'SELECT mean("usage_user") FROM "cpu" WHERE ("host" =~ /^(h1|h2)$/) AND time >= 1767225600000ms and time <= 1767229199999ms GROUP BY time(5m), "host" fill(null)',
    'SELECT last("usage_user") FROM "cpu" WHERE time >= 1767225600000ms and time <= 1767229199999ms GROUP BY time(10m) fill(previous)',
    'SELECT non_negative_derivative(mean("usage_user"), 1s) FROM "cpu" WHERE time >= 1767225600000ms and time <= 1767229199999ms GROUP BY time(5m) fill(none)',
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} AND usage_user > 50 GROUP BY host",
    f"SELECT count(usage_user) FROM cpu WHERE {RANGE} AND usage_system < 10.5 AND usage_user >= 90",
    f"SELECT * FROM cpu WHERE {RANGE} AND usage_user = 100 AND host = 'h1'",
    f"SELECT state, procs FROM load WHERE {RANGE} AND state != 'ok' AND host = 'h1' LIMIT 4",
    f"SELECT count(state) FROM load WHERE {RANGE} AND state =~ /^(crit|warn)$/ GROUP BY host",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m, -3m)",
    "SELECT mean(usage_user) FROM cpu WHERE time >= 1767225600000000000 AND time <= 1767229200000000000 GROUP BY time(1h)",
    f"SELECT mean(procs) FROM load WHERE {RANGE} GROUP BY time(10m), host fill(previous) SLIMIT 2",
    f"SELECT mean(procs) FROM load WHERE {RANGE} GROUP BY time(10m), dc fill(linear)",
    f"SELECT max(procs) FROM load WHERE {RANGE} GROUP BY time(10m) fill(100)",
    "SELECT usage_user FROM cpu WHERE time > now() - 1000d AND host = 'h1' ORDER BY time DESC LIMIT 1",
    "SELECT mean(usage_user) FROM cpu WHERE (time >= 1767225600000000000 AND time < 1767227400000000000) AND host = 'h1'",
    "SELECT mean(usage_user) FROM cpu WHERE time = 1767225600000000000",
    "SELECT usage_user FROM cpu WHERE time = 1767225600000000000 AND host = 'h2'",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} AND region = 'eu' GROUP BY region, host",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY /reg.*/",
    f"SELECT count(usage_user) FROM cpu WHERE {RANGE} AND host <> 'h1' GROUP BY host",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} AND nosuchtag = 'x'",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} AND nosuchtag = ''",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} AND host = 'h1' AND host = 'h2'",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) LIMIT 2",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m), host LIMIT 1 OFFSET 2 SLIMIT 2",
    f"SELECT first(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(30m), host fill(none)",
    f"SELECT max(usage_user), min(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(30m)",
    f"SELECT max(usage_user), time FROM cpu WHERE {RANGE}",
    f"SELECT last(*) FROM cpu WHERE {RANGE} GROUP BY host",
    f"SELECT first(state) FROM load WHERE {RANGE} GROUP BY dc",
    f"SELECT spread(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(15m)",
    f'SELECT "usage_user" FROM "autogen"."cpu" WHERE host = \'h1\' AND {RANGE} LIMIT 1',
    f"SELECT mean(value) FROM cpu WHERE {RANGE}",
    f"SELECT usage_user FROM cpu WHERE {RANGE} AND host = 'h1' AND usage_user > 95 ORDER BY time DESC",
    f"SELECT sum(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) fill(none) ORDER BY time DESC LIMIT 2",
    f"SELECT median(duration_ms) FROM api_latency WHERE {RANGE} GROUP BY time(20m), service fill(0)",
    f"SELECT mean(duration_ms) * 1000 FROM api_latency WHERE {RANGE} GROUP BY endpoint",
    f"SELECT count(usage_user) / 60 FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT mean(usage_user) - mean(usage_system) AS diff FROM cpu WHERE {RANGE} GROUP BY time(30m), host SLIMIT 1",
    f"SELECT first(usage_user), last(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m)",
    f"SELECT first(usage_user), host, usage_system FROM cpu WHERE {RANGE} GROUP BY region",
]

# integral() with GROUP BY time(): one running sum per series, cut at bucket ends by
# interpolation; buckets without points are left out whatever the fill.
QUERIES += [
    f"SELECT integral(procs, 1m) FROM load WHERE host = 'h1' AND {RANGE} GROUP BY time(15m)",
    f"SELECT integral(usage_user, 1m) FROM cpu WHERE host = 'h1' AND {RANGE} GROUP BY time(15m)",
    f"SELECT integral(usage_system) FROM cpu WHERE host = 'h2' AND {RANGE} GROUP BY time(7m)",
    f"SELECT integral(procs, 1m) FROM load WHERE host = 'h1' AND {RANGE} GROUP BY time(30m) "
    "fill(0)",
]

# More metadata and SELECT forms dashboards and people send: LIMIT/OFFSET on SHOW,
# regex flags, fills at gaps, several statements, time literals, tz(), arithmetic.
QUERIES += [
    "SHOW MEASUREMENTS WHERE host = 'h1'",
    "SHOW MEASUREMENTS LIMIT 2 OFFSET 1",
    "SHOW TAG KEYS FROM cpu LIMIT 1 OFFSET 1",
    "SHOW TAG KEYS WHERE host = 'h1'",
    "SHOW FIELD KEYS FROM /c.*|lo.*/",
    "SHOW TAG VALUES WITH KEY = host LIMIT 1",
    "SHOW TAG VALUES WITH KEY != host",
    'SHOW TAG VALUES FROM cpu, load WITH KEY = "host" WHERE host =~ /^h[0-1]$/',
    "SHOW SERIES FROM cpu LIMIT 2 OFFSET 1",
    "SHOW SERIES WHERE host =~ /h1/ AND region = 'eu'",
    "SHOW RETENTION POLICIES",
    f"SELECT usage_user FROM cpu WHERE host =~ /(?i)H1/ AND {RANGE} LIMIT 2",
    f"SELECT usage_user FROM cpu WHERE host = 'h1' AND {RANGE} ORDER BY time ASC LIMIT 2",
    "SELECT mean(procs) FROM load WHERE time >= 1767226740000000000 AND time < 1767227700000000000 GROUP BY time(2m) fill(previous)",
    "SELECT mean(procs) FROM load WHERE time >= 1767226740000000000 AND time < 1767227700000000000 GROUP BY time(2m) fill(linear)",
    "SELECT mean(procs) FROM load WHERE time >= 1767226800000000000 AND time < 1767227700000000000 GROUP BY time(2m) fill(previous)",
    "SELECT max(procs) FROM load WHERE time >= 1767226800000000000 AND time < 1767227700000000000 GROUP BY time(2m), host fill(linear) SLIMIT 1",
    f"SELECT usage_user FROM cpu WHERE {RANGE} AND host = 'h1' LIMIT 0",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE}; SELECT max(procs) FROM load WHERE {RANGE}",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE}; SELECT nope( FROM x",
    "SELECT usage_user FROM cpu WHERE host = 'h1' AND time >= '2026-01-01T00:00:00.5Z' AND time < '2026-01-01T00:00:30Z'",
    "SELECT usage_user FROM cpu WHERE host = 'h1' AND time >= '2026-01-01 00:00:00' AND time < '2026-01-01 00:00:30'",
    "SELECT usage_user FROM cpu WHERE host = 'h1' AND time >= 1767225600s AND time < 1767225630s",
    "SELECT usage_user FROM cpu WHERE host = 'h1' AND time >= 1767225600000000000 + 10s AND time < 1767225630000000000",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) tz('America/New_York')",
    f"SELECT count(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(1d) tz('Asia/Kolkata')",
    f"SELECT usage_user FROM cpu WHERE host = 'h1' AND {RANGE} LIMIT 2 tz('Asia/Kolkata')",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) fill(none) tz('Europe/Paris') LIMIT 2",
    f"SELECT mean(usage_user) FROM cpu WHERE {RANGE} GROUP BY host, region",
    f"SELECT * FROM cpu WHERE {RANGE} AND host = 'h1' AND region = 'eu' AND usage_user > 98",
    f"SELECT usage_user + usage_system AS total FROM cpu WHERE host = 'h1' AND {RANGE} LIMIT 2",
    f"SELECT usage_user % 7, usage_user / 0 FROM cpu WHERE host = 'h1' AND {RANGE} LIMIT 2",
    f"SELECT mean(usage_user) / 100 FROM cpu WHERE {RANGE} GROUP BY time(30m)",
    f"SELECT -usage_user FROM cpu WHERE host = 'h1' AND {RANGE} LIMIT 1",
    f"SELECT usage_user FROM cpu WHERE host = 'h1' AND {RANGE} AND usage_user > -1 LIMIT 1",
    f"SELECT mean(score) FROM load WHERE {RANGE} AND state = 'ok' GROUP BY dc",
    f"SELECT max(usage_user) FROM cpu WHERE {RANGE} GROUP BY time(10m) fill(previous) LIMIT 3 OFFSET 2",
    "SHOW SERIES CARDINALITY ON nodb",
    "SHOW MEASUREMENT CARDINALITY ON nodb",
]

# top()/bottom() of more than 12 points: InfluxDB's unstable sort orders the ties.
QUERIES += [
    f"SELECT top(procs, 15), host FROM load WHERE {RANGE}",
    f"SELECT bottom(procs, 13), host FROM load WHERE {RANGE} GROUP BY time(30m)",
    f"SELECT top(procs, 60), host FROM load WHERE {RANGE}",
    f"SELECT bottom(procs, 100), host, state FROM load WHERE {RANGE}",
    f"SELECT top(usage_user, 25), host FROM cpu WHERE {RANGE} GROUP BY time(20m)",
    f"SELECT top(procs, 200), host FROM load WHERE {RANGE}",
]

# Subqueries: aggregates of aggregates, outer WHERE on inner tags and values, raw inner
# queries whose points keep their tags.
QUERIES += [
    f"SELECT sum(m) FROM (SELECT last(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY host)",
    f"SELECT * FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY time(30m), host)",
    f"SELECT max(usage_user) FROM (SELECT usage_user FROM cpu WHERE {RANGE}) GROUP BY host",
    f"SELECT max(usage_user) FROM (SELECT usage_user, host FROM cpu WHERE {RANGE}) GROUP BY host",
    f"SELECT mean(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY host) WHERE host = 'h1'",
    f"SELECT derivative(m) FROM (SELECT max(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY time(10m))",
    f"SELECT top(m, 2) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY host)",
    f"SELECT top(m, host, 2) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY host)",
    f"SELECT count(*) FROM (SELECT usage_user, usage_system FROM cpu WHERE {RANGE})",
    f"SELECT mean(m) FROM (SELECT max(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY time(10m), host) WHERE time >= 1767226800000000000",
    f"SELECT max(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY time(10m), host) GROUP BY host",
    f"SELECT percentile(m, 50) FROM (SELECT mean(duration_ms) AS m FROM api_latency WHERE {RANGE} GROUP BY time(5m), service)",
    f"SELECT sum(c) FROM (SELECT count(usage_user) AS c FROM cpu WHERE {RANGE} GROUP BY time(10m))",
    f"SELECT mean(d) FROM (SELECT non_negative_derivative(max(usage_user), 1s) AS d FROM cpu WHERE {RANGE} GROUP BY time(10m), host)",
    f"SELECT min(m), max(m) FROM (SELECT mean(procs) AS m FROM load WHERE {RANGE} GROUP BY time(10m), dc fill(0))",
    f"SELECT last(m) FROM (SELECT mean(usage_user) AS m FROM cpu WHERE {RANGE} GROUP BY time(10m))",
    f"SELECT mean(usage_user) FROM (SELECT * FROM cpu WHERE {RANGE}) GROUP BY region",
]

# top()/bottom() with the other clauses: LIMIT, tz(), field conditions, SLIMIT, OFFSET,
# subqueries, GROUP BY a tag beside a tag argument.
QUERIES += [
    f"SELECT top(usage_user, host, 2) FROM cpu WHERE {RANGE} GROUP BY time(10m) LIMIT 3",
    f"SELECT top(usage_user, host, 2) FROM cpu WHERE {RANGE} GROUP BY time(10m) tz('Europe/Paris')",
    f"SELECT bottom(usage_system, region, 1), usage_user FROM cpu WHERE {RANGE} GROUP BY time(20m)",
    f"SELECT top(usage_user, host, 3) FROM cpu WHERE {RANGE} AND usage_user < 90",
    f"SELECT top(usage_user, host, 3) FROM cpu WHERE {RANGE} GROUP BY time(10m) SLIMIT 1",
    f"SELECT top(m, host, 2) FROM (SELECT max(usage_user) AS m FROM cpu WHERE {RANGE} "
    "GROUP BY time(10m), host)",
    f"SELECT top(duration_ms, endpoint, 2), service FROM api_latency WHERE {RANGE} "
    "GROUP BY service",
    f"SELECT top(usage_user, host, 2) FROM cpu WHERE {RANGE} GROUP BY time(10m) fill(none) "
    "OFFSET 2",
]

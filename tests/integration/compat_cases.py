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
    return ("\n".join(lines) + "\n").encode()


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
# Known gap (not yet listed): top()/bottom() with tag arguments or extra fields.
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

"""TSBS's "cpu-only" use case: one ``cpu`` line per host per interval, ten usage fields.

Like TSBS, each host gets fixed tags drawn once from the seed (region and a
datacenter inside it, rack, OS, team, service…) and every field is a random walk
clamped to 0..100, so values look like real CPU percentages and compress like them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from crisp.bench import line_format
from crisp.bench.dataset import DatasetSpec

MEASUREMENT = "cpu"
FIELDS = (
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
)
TAG_KEYS = (
    "hostname",
    "region",
    "datacenter",
    "rack",
    "os",
    "arch",
    "team",
    "service",
    "service_version",
    "service_environment",
)
# The same value sets TSBS draws from, so cardinality per tag matches its data.
REGIONS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"),
    "us-west-1": ("us-west-1a", "us-west-1b"),
    "us-west-2": ("us-west-2a", "us-west-2b", "us-west-2c"),
    "eu-west-1": ("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    "eu-central-1": ("eu-central-1a", "eu-central-1b"),
    "ap-southeast-1": ("ap-southeast-1a", "ap-southeast-1b"),
    "ap-southeast-2": ("ap-southeast-2a", "ap-southeast-2b"),
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1c"),
    "sa-east-1": ("sa-east-1a", "sa-east-1b", "sa-east-1c"),
}
OPERATING_SYSTEMS = ("Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10")
ARCHITECTURES = ("x64", "x86")
TEAMS = ("SF", "NYC", "LON", "CHI")
ENVIRONMENTS = ("production", "staging", "test")
RACKS = 100
SERVICES = 20
SERVICE_VERSIONS = 2

# Lines formatted per Arrow call: big enough to amortise the calls, small enough
# to keep memory flat for any --hosts. Output never depends on it.
CHUNK_LINES = 50_000
# The walk's step is N(0, 1) per interval, as TSBS's clamped random walk.
STEP_STDDEV = 1.0


def host_tags(spec: DatasetSpec) -> list[dict[str, str]]:
    """Each host's tags, drawn from a stream of the seed used for nothing else."""
    rng = np.random.default_rng([spec.seed, 0])
    regions = list(REGIONS)
    hosts = []
    for host in range(spec.hosts):
        region = regions[int(rng.integers(len(regions)))]
        datacenters = REGIONS[region]
        hosts.append(
            {
                "hostname": f"host_{host}",
                "region": region,
                "datacenter": datacenters[int(rng.integers(len(datacenters)))],
                "rack": str(int(rng.integers(RACKS))),
                "os": OPERATING_SYSTEMS[int(rng.integers(len(OPERATING_SYSTEMS)))],
                "arch": ARCHITECTURES[int(rng.integers(len(ARCHITECTURES)))],
                "team": TEAMS[int(rng.integers(len(TEAMS)))],
                "service": str(int(rng.integers(SERVICES))),
                "service_version": str(int(rng.integers(SERVICE_VERSIONS))),
                "service_environment": ENVIRONMENTS[int(rng.integers(len(ENVIRONMENTS)))],
            }
        )
    return hosts


def series_keys(spec: DatasetSpec) -> pa.Array:
    keys = [
        MEASUREMENT + "".join(f",{key}={tags[key]}" for key in TAG_KEYS) for tags in host_tags(spec)
    ]
    return pa.array(keys, pa.string())


def line_chunks(spec: DatasetSpec) -> Iterator[pa.Array]:
    """All lines in time order (every host at t0, then t1…), as Arrow string chunks."""
    keys = series_keys(spec)
    rng = np.random.default_rng([spec.seed, 1])
    state = rng.uniform(0.0, 100.0, size=(spec.hosts, len(FIELDS)))
    steps_per_chunk = max(1, CHUNK_LINES // spec.hosts)
    for first in range(0, spec.steps, steps_per_chunk):
        count = min(steps_per_chunk, spec.steps - first)
        moves = rng.normal(0.0, STEP_STDDEV, size=(count, spec.hosts, len(FIELDS)))
        values = np.empty_like(moves)
        for step in range(count):
            # Clamped walk: sequential in time, vectorised over hosts x fields.
            state = np.clip(state + moves[step], 0.0, 100.0)
            values[step] = state
        flat = values.reshape(count * spec.hosts, len(FIELDS))
        if spec.floats:
            rounded = np.round(flat, 2)
            fields = [line_format.float_field(name, rounded[:, i]) for i, name in enumerate(FIELDS)]
        else:
            whole = np.rint(flat).astype(np.int64)
            fields = [line_format.integer_field(name, whole[:, i]) for i, name in enumerate(FIELDS)]
        times = np.repeat(
            spec.start_ns + (first + np.arange(count, dtype=np.int64)) * spec.interval_ns,
            spec.hosts,
        )
        chunk_keys = keys.take(pa.array(np.tile(np.arange(spec.hosts, dtype=np.int32), count)))
        yield line_format.lines(chunk_keys, fields, pa.array(times))


def values_per_line(spec: DatasetSpec) -> int:
    return len(FIELDS)

"""TSBS's "devops" use case: nine measurements per host per interval.

Every host reports ``cpu``, ``diskio``, ``disk``, ``kernel``, ``mem``, ``net``,
``nginx``, ``postgresl`` (TSBS's spelling) and ``redis`` each interval, all carrying
the host's ``cpu-only`` tags plus the measurement's own (disk path and file system,
network interface, nginx/redis port and server, disk serial). Fields and their
walks are TSBS's: counters for cumulative values, clamped walks for gauges, integers
written as TSBS writes them (``reads=51i``), ``mem``'s three percentages as floats.

One addition to TSBS, which writes no string field: ``redis`` carries ``role``
(``master`` or ``replica``, fixed per host), so the string column path is exercised
too, as real Telegraf data does.

Lines come in TSBS's order: per interval, per measurement, every host.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from crisp.bench import cpu_only, line_format
from crisp.bench.dataset import DatasetSpec
from crisp.bench.timespec import NS_PER_S
from crisp.bench.walks import FieldWalk, Walks, clamped, counter, free

TERABYTE = 1 << 40
GIGABYTE = 1 << 30
INODE_BYTES = 4096
MEMORY_TOTALS = (8 << 30, 12 << 30, 16 << 30)
FILE_SYSTEMS = ("ext3", "ext4", "btrfs")
REDIS_ROLES = ("master", "replica")
CHUNK_LINES = 50_000

DISK_FIELDS = (
    "total",
    "free",
    "used",
    "used_percent",
    "inodes_total",
    "inodes_free",
    "inodes_used",
)
MEM_FIELDS = (
    "total",
    "available",
    "used",
    "free",
    "cached",
    "buffered",
    "used_percent",
    "available_percent",
    "buffered_percent",
)
CPU_FIELDS = tuple(clamped(name, 0.0, 1.0, 0.0, 100.0, start=None) for name in cpu_only.FIELDS)
DISKIO_FIELDS = (
    counter("reads", 50),
    counter("writes", 50),
    counter("read_bytes", 100),
    counter("write_bytes", 100),
    counter("read_time", 5),
    counter("write_time", 5),
    counter("io_time", 5),
)
KERNEL_FIELDS = tuple(
    counter(name, 5)
    for name in (
        "interrupts",
        "context_switches",
        "processes_forked",
        "disk_pages_in",
        "disk_pages_out",
    )
)
NET_FIELDS = (
    *(counter(name, 50) for name in ("bytes_sent", "bytes_recv", "packets_sent", "packets_recv")),
    *(counter(name, 5) for name in ("err_in", "err_out", "drop_in", "drop_out")),
)
NGINX_FIELDS = (
    counter("accepts", 5),
    clamped("active", 5, 1, 0, 100),
    counter("handled", 5),
    clamped("reading", 5, 1, 0, 100),
    counter("requests", 5),
    clamped("waiting", 5, 1, 0, 100),
    clamped("writing", 5, 1, 0, 100),
)
POSTGRES_FIELDS = tuple(
    clamped(name, 1024, 1, 0, GIGABYTE) if name == "temp_bytes" else clamped(name, 5, 1, 0, 1000)
    for name in (
        "numbackends",
        "xact_commit",
        "xact_rollback",
        "blks_read",
        "blks_hit",
        "tup_returned",
        "tup_fetched",
        "tup_inserted",
        "tup_updated",
        "tup_deleted",
        "conflicts",
        "temp_files",
        "temp_bytes",
        "deadlocks",
        "blk_read_time",
        "blk_write_time",
    )
)
SIXTEEN_GB = 16.0 * GIGABYTE
REDIS_FIELDS = (
    counter("total_connections_received", 5),
    *(counter(n, 50) for n in ("expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses")),
    *(
        free(n, 1)
        for n in (
            "instantaneous_ops_per_sec",
            "instantaneous_input_kbps",
            "instantaneous_output_kbps",
        )
    ),
    clamped("connected_clients", 50, 1, 0, 10000),
    *(
        clamped(n, 50, 1, 0, SIXTEEN_GB, start=SIXTEEN_GB / 2)
        for n in ("used_memory", "used_memory_rss", "used_memory_peak", "used_memory_lua")
    ),
    clamped("rdb_changes_since_last_save", 50, 1, 0, 10000),
    *(
        clamped(n, 5, 1, 0, 1000)
        for n in (
            "sync_full",
            "sync_partial_ok",
            "sync_partial_err",
            "pubsub_channels",
            "pubsub_patterns",
            "latest_fork_usec",
            "connected_slaves",
            "master_repl_offset",
            "repl_backlog_active",
            "repl_backlog_size",
            "repl_backlog_histlen",
        )
    ),
    clamped("mem_fragmentation_ratio", 5, 1, 0, 100),
    *(
        clamped(n, 5, 1, 0, 1000)
        for n in (
            "used_cpu_sys",
            "used_cpu_user",
            "used_cpu_sys_children",
            "used_cpu_user_children",
        )
    ),
)
# Each measurement's own tag keys, after the host's.
MEASUREMENT_TAGS: dict[str, tuple[str, ...]] = {
    "cpu": (),
    "diskio": ("serial",),
    "disk": ("path", "fstype"),
    "kernel": (),
    "mem": (),
    "net": ("interface",),
    "nginx": ("port", "server"),
    "postgresl": (),
    "redis": ("port", "server"),
}
MEASUREMENTS = tuple(MEASUREMENT_TAGS)

Rows = npt.NDArray[np.float64]  # (steps x hosts, fields), step-major
FieldMaker = Callable[[int, int], list[pa.Array]]  # (first step, steps) -> field strings


@dataclass(frozen=True)
class HostExtras:
    """Per-host constants beyond the cpu-only tags, drawn once from the seed."""

    tags: dict[str, list[str]]  # measurement -> per-host ",k=v..." suffix
    memory_total: npt.NDArray[np.int64]
    boot_time: npt.NDArray[np.int64]
    redis_role: list[str]


def host_extras(spec: DatasetSpec) -> HostExtras:
    rng = np.random.default_rng([spec.seed, 2])
    suffixes: dict[str, list[str]] = {name: [] for name in MEASUREMENTS}
    totals, boots, roles = [], [], []
    for _ in range(spec.hosts):
        serial = "-".join(f"{int(v):03d}" for v in rng.integers(1000, size=3))
        own = {
            "diskio": {"serial": serial},
            "disk": {
                "path": f"/dev/sda{int(rng.integers(10))}",
                "fstype": FILE_SYSTEMS[int(rng.integers(len(FILE_SYSTEMS)))],
            },
            "net": {"interface": f"eth{int(rng.integers(4))}"},
            "nginx": {
                "port": str(int(rng.integers(20000)) + 1024),
                "server": f"nginx_{int(rng.integers(100000))}",
            },
            "redis": {
                "port": str(int(rng.integers(20000)) + 1024),
                "server": f"redis_{int(rng.integers(100000))}",
            },
        }
        for name in MEASUREMENTS:
            tags = own.get(name, {})
            suffixes[name].append("".join(f",{k}={tags[k]}" for k in MEASUREMENT_TAGS[name]))
        totals.append(MEMORY_TOTALS[int(rng.integers(len(MEMORY_TOTALS)))])
        boots.append(int(rng.integers(240)))
        roles.append(REDIS_ROLES[int(rng.random() < 0.2)])
    return HostExtras(suffixes, np.array(totals, np.int64), np.array(boots, np.int64), roles)


def _flat(values: npt.NDArray[np.float64]) -> Rows:
    steps, hosts, fields = values.shape
    return values.reshape(steps * hosts, fields)


def _ints(rows: Rows) -> npt.NDArray[np.int64]:
    # Go's int64() truncates toward zero; TSBS converts every walk value so.
    return np.trunc(rows).astype(np.int64)


def _int_fields(walks: tuple[FieldWalk, ...], rows: Rows) -> list[pa.Array]:
    whole = _ints(rows)
    return [line_format.integer_field(f.name, whole[:, i]) for i, f in enumerate(walks)]


def _walk_maker(walks: tuple[FieldWalk, ...], hosts: int, seed: int, stream: int) -> FieldMaker:
    state = Walks(walks, hosts, seed, stream)

    def make(first: int, steps: int) -> list[pa.Array]:
        return _int_fields(walks, _flat(state.advance(steps)))

    return make


def _disk_maker(hosts: int, seed: int) -> FieldMaker:
    walk = (clamped("free", 50, 1, 0, TERABYTE, start=TERABYTE / 2),)
    state = Walks(walk, hosts, seed, 13)

    def make(first: int, steps: int) -> list[pa.Array]:
        free_bytes = _ints(_flat(state.advance(steps)))[:, 0]
        used = TERABYTE - free_bytes
        inodes_total = TERABYTE // INODE_BYTES
        inodes_free = free_bytes // INODE_BYTES
        columns = (
            np.full_like(free_bytes, TERABYTE),
            free_bytes,
            used,
            np.trunc(100.0 * used / TERABYTE).astype(np.int64),
            np.full_like(free_bytes, inodes_total),
            inodes_free,
            inodes_total - inodes_free,
        )
        return [
            line_format.integer_field(name, v) for name, v in zip(DISK_FIELDS, columns, strict=True)
        ]

    return make


def _kernel_maker(extras: HostExtras, seed: int) -> FieldMaker:
    walks = _walk_maker(KERNEL_FIELDS, len(extras.boot_time), seed, 14)

    def make(first: int, steps: int) -> list[pa.Array]:
        boot = line_format.integer_field("boot_time", np.tile(extras.boot_time, steps))
        return [boot, *walks(first, steps)]

    return make


def _mem_maker(extras: HostExtras, seed: int) -> FieldMaker:
    # TSBS walks bytes with steps N(0, total/64); walking the fraction of total with
    # steps N(0, 1/64) is the same walk, whatever each host's total.
    walk = tuple(
        clamped(name, 0, 1 / 64, 0, 1, start=None) for name in ("used", "cached", "buffered")
    )
    state = Walks(walk, len(extras.memory_total), seed, 15)

    def make(first: int, steps: int) -> list[pa.Array]:
        total = np.tile(extras.memory_total, steps)
        share = _flat(state.advance(steps))
        used, cached, buffered = (np.trunc(share[:, i] * total).astype(np.int64) for i in range(3))
        available = total - used
        # "free" repeats "available", as in TSBS, whose model has no separate free.
        ints = (total, available, used, available, cached, buffered)
        floats = (100.0 * used / total, 100.0 * available / total, 100.0 * buffered / total)
        names = iter(MEM_FIELDS)
        return [line_format.integer_field(next(names), v) for v in ints] + [
            line_format.float_field(next(names), v) for v in floats
        ]

    return make


def _redis_maker(extras: HostExtras, interval_s: int, seed: int) -> FieldMaker:
    walks = _walk_maker(REDIS_FIELDS, len(extras.redis_role), seed, 18)
    roles = pa.array(extras.redis_role, pa.string())
    hosts = len(extras.redis_role)

    def make(first: int, steps: int) -> list[pa.Array]:
        uptime = np.repeat((first + 1 + np.arange(steps, dtype=np.int64)) * interval_s, hosts)
        role = line_format.string_field(
            "role", roles.take(pa.array(np.tile(np.arange(hosts), steps)))
        )
        return [line_format.integer_field("uptime_in_seconds", uptime), *walks(first, steps), role]

    return make


def field_makers(spec: DatasetSpec, extras: HostExtras) -> dict[str, FieldMaker]:
    hosts, seed = spec.hosts, spec.seed
    return {
        "cpu": _walk_maker(CPU_FIELDS, hosts, seed, 11),
        "diskio": _walk_maker(DISKIO_FIELDS, hosts, seed, 12),
        "disk": _disk_maker(hosts, seed),
        "kernel": _kernel_maker(extras, seed),
        "mem": _mem_maker(extras, seed),
        "net": _walk_maker(NET_FIELDS, hosts, seed, 16),
        "nginx": _walk_maker(NGINX_FIELDS, hosts, seed, 17),
        "postgresl": _walk_maker(POSTGRES_FIELDS, hosts, seed, 19),
        "redis": _redis_maker(extras, max(1, spec.interval_ns // NS_PER_S), seed),
    }


def series_keys(spec: DatasetSpec, extras: HostExtras) -> dict[str, pa.Array]:
    hosts = cpu_only.host_tags(spec)
    host_part = ["".join(f",{key}={tags[key]}" for key in cpu_only.TAG_KEYS) for tags in hosts]
    return {
        name: pa.array(
            [name + part + extras.tags[name][i] for i, part in enumerate(host_part)], pa.string()
        )
        for name in MEASUREMENTS
    }


def line_chunks(spec: DatasetSpec) -> Iterator[pa.Array]:
    extras = host_extras(spec)
    keys = series_keys(spec, extras)
    makers = field_makers(spec, extras)
    hosts, count_m = spec.hosts, len(MEASUREMENTS)
    steps_per_chunk = max(1, CHUNK_LINES // (hosts * count_m))
    for first in range(0, spec.steps, steps_per_chunk):
        count = min(steps_per_chunk, spec.steps - first)
        times = pa.array(
            np.repeat(
                spec.start_ns + (first + np.arange(count, dtype=np.int64)) * spec.interval_ns,
                hosts,
            )
        )
        host_index = pa.array(np.tile(np.arange(hosts, dtype=np.int32), count))
        blocks = [
            line_format.lines(keys[name].take(host_index), makers[name](first, count), times)
            for name in MEASUREMENTS
        ]
        # Blocks are (step, host) ordered; TSBS's order is step, measurement, host.
        step, measurement, host = np.meshgrid(
            np.arange(count), np.arange(count_m), np.arange(hosts), indexing="ij"
        )
        order = (measurement * count * hosts + step * hosts + host).ravel()
        yield pa.concat_arrays(blocks).take(pa.array(order))


def values_per_host_interval() -> int:
    """Field values one host writes per interval (TSBS's 101, plus redis' role)."""
    walked = (CPU_FIELDS, DISKIO_FIELDS, KERNEL_FIELDS, NET_FIELDS, NGINX_FIELDS)
    constants = 1 + 1 + 1  # kernel boot_time, redis uptime_in_seconds and role
    return (
        sum(len(group) for group in walked)
        + len(DISK_FIELDS)
        + len(MEM_FIELDS)
        + len(POSTGRES_FIELDS)
        + len(REDIS_FIELDS)
        + constants
    )

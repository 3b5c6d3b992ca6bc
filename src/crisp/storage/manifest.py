"""The manifest: the one file that says which Parquet files and WAL segments are live.

Every change to the set of files (flush, compaction, delete, retention) and every
catalog DDL (databases, retention policies) is committed by writing a new manifest to
a temporary file, fsyncing it and renaming it over ``manifest.json``. Rename is atomic
on POSIX, so after a crash the manifest is either the old or the new one, never a mix;
files on disk that it does not list are leftovers of an interrupted change.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from crisp.core.durable import fsync_dir
from crisp.storage.api import RetentionPolicy, StorageError

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """One live Parquet file of one shard group."""

    file_id: int
    database: str
    rp: str
    measurement: str
    shard_start_ns: int
    shard_end_ns: int
    path: str  # relative to the data directory, '/'-separated
    rows: int
    min_time_ns: int
    max_time_ns: int
    max_seq: int
    size_bytes: int
    # No (series, time) of this file is in a file the manifest held when it was
    # committed; a merge or rewrite keeps it when all its inputs had it. Two files that
    # both have it share no row (by induction over commits), so reads need not merge
    # their rows where their time ranges overlap (``snapshot.dedupe_ranges``).
    disjoint: bool = False

    @property
    def shard_key(self) -> tuple[str, str, str, int]:
        return (self.database, self.rp, self.measurement, self.shard_start_ns)


@dataclass
class Manifest:
    # WAL segments with a smaller id hold only persisted data; replay starts here.
    wal_first_segment: int = 1
    # Next write sequence number (every row gets one; last write wins by it).
    next_seq: int = 1
    next_file_id: int = 1
    # database → {rp name → policy}; exactly one policy per database has default=True.
    databases: dict[str, dict[str, RetentionPolicy]] = field(default_factory=dict)
    files: list[FileEntry] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "wal_first_segment": self.wal_first_segment,
            "next_seq": self.next_seq,
            "next_file_id": self.next_file_id,
            "databases": {
                db: [asdict(rp) for rp in rps.values()] for db, rps in self.databases.items()
            },
            "files": [asdict(f) for f in self.files],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise StorageError(f"unsupported manifest format_version {version!r}")
        return cls(
            wal_first_segment=int(data["wal_first_segment"]),
            next_seq=int(data["next_seq"]),
            next_file_id=int(data["next_file_id"]),
            databases={
                db: {rp["name"]: RetentionPolicy(**rp) for rp in rps}
                for db, rps in data["databases"].items()
            },
            files=[FileEntry(**f) for f in data["files"]],
        )


def load_manifest(data_dir: Path) -> Manifest:
    path = data_dir / MANIFEST_NAME
    if not path.exists():
        return Manifest()
    try:
        return Manifest.from_json(json.loads(path.read_text("utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"manifest {path} is unreadable: {exc}") from exc


def save_manifest(data_dir: Path, manifest: Manifest) -> None:
    """Atomically replace the manifest (temp file, fsync, rename, fsync directory)."""
    final = data_dir / MANIFEST_NAME
    tmp = data_dir / (MANIFEST_NAME + ".tmp")
    payload = json.dumps(manifest.to_json(), separators=(",", ":")).encode("utf-8")
    with open(tmp, "wb") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, final)
    fsync_dir(data_dir)


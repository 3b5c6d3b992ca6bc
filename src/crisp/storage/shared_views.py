"""``points`` views kept between snapshots of the same sources, one per thread.

Creating a snapshot's view (a cursor, the buffer registered, the view bound over files
and buffer) costs about as much as running a small query. Dashboards and alert rules
send many small queries over the same measurement in a row; while no write or flush
changed what they read, the view of the previous one is still right. A thread keeps
its last view here, with its files pinned, and gets it back when the next snapshot it
asks for has the same sources.

Such a view is not filtered by the snapshot's time range (the key would never match:
``now() - 5m`` moves with every query), so only callers whose SQL applies the range
themselves and create nothing on the connection may ask for one (``shared=True``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

# A view nobody asked for in this long is closed: its thread may be gone, and its pins
# keep compacted files on disk.
IDLE_SECONDS = 10.0


@dataclass
class SharedView:
    key: Hashable
    cursor: Any
    schema: pa.Schema
    paths: list[Path]
    # Held so the buffer chunks in ``key`` (by identity) cannot be freed and their ids
    # reused by other chunks while the key is compared against.
    chunks: list[pa.Table]
    last_used: float = field(default_factory=time.monotonic)
    in_use: bool = False


class SharedViews:
    """At most one view per thread; ``unpin`` releases a closed view's files."""

    def __init__(self, unpin: Callable[[list[Path]], None]) -> None:
        self._unpin = unpin
        self._lock = threading.Lock()
        self._views: dict[int, SharedView] = {}
        self._closed = False

    def take(self, key: Hashable) -> SharedView | None:
        """This thread's view if it has ``key`` and is free (then marked in use)."""
        with self._lock:
            view = self._views.get(threading.get_ident())
            if view is None or view.in_use or view.key != key:
                return None
            view.in_use = True
            return view

    def can_keep(self) -> bool:
        """Whether this thread may keep a new view (its current one is not in use, as
        it is when one query opens two snapshots)."""
        with self._lock:
            view = self._views.get(threading.get_ident())
            return not self._closed and (view is None or not view.in_use)

    def keep(self, view: SharedView) -> None:
        """Make ``view`` (in use by this thread) its shared view, replacing the old."""
        with self._lock:
            if self._closed:
                old: SharedView | None = view
            else:
                old = self._views.get(threading.get_ident())
                self._views[threading.get_ident()] = view
        if old is not None:
            self._close(old)

    def release(self, view: SharedView) -> None:
        now = time.monotonic()
        idle: list[SharedView] = []
        with self._lock:
            view.in_use = False
            view.last_used = now
            if self._views.get(threading.get_ident()) is not view:
                idle.append(view)  # dropped by close() while it was in use
            for ident, other in list(self._views.items()):
                if not other.in_use and now - other.last_used > IDLE_SECONDS:
                    idle.append(self._views.pop(ident))
        for other in idle:
            self._close(other)

    def close(self) -> None:
        """Close every view that is not in use (the engine closes when reads are done)."""
        with self._lock:
            self._closed = True
            views = [v for v in self._views.values() if not v.in_use]
            self._views.clear()
        for view in views:
            self._close(view)

    def _close(self, view: SharedView) -> None:
        try:
            view.cursor.close()
        finally:
            self._unpin(view.paths)

"""TSBS's value distributions, vectorised over series and fields.

TSBS models every metric as a walk driven by a step distribution: clamped (a gauge
that stays in a range, e.g. CPU percent), monotonic (a counter: the step's absolute
value is added) or free. Here a walk advances a whole ``(series, fields)`` state
matrix per interval, so one NumPy call covers every host at once.

Each walk draws from its own random stream (``seed`` plus a stream number): how many
intervals a chunk holds then never changes the values, only how they are cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


class Kind(Enum):
    CLAMPED = "clamped"  # state = clip(state + step, low, high)
    MONOTONIC = "monotonic"  # state += |step|: a counter
    FREE = "free"  # state += step


@dataclass(frozen=True)
class FieldWalk:
    """One field: its name, walk kind and step distribution.

    The step is N(a, b) (mean, standard deviation), or uniform in [a, b) when
    ``uniform``. A clamped walk stays in [low, high]; ``refill`` sends it back to
    ``high`` when it reaches ``low`` (TSBS's truck that refuels when empty).
    """

    name: str
    kind: Kind
    a: float
    b: float
    low: float = 0.0
    high: float = 0.0
    start: float | None = 0.0  # None: uniform in [low, high) per series
    uniform: bool = False
    refill: bool = False


def clamped(
    name: str, mean: float, stddev: float, low: float, high: float, start: float | None = 0.0
) -> FieldWalk:
    return FieldWalk(name, Kind.CLAMPED, mean, stddev, low, high, start)


def clamped_uniform(
    name: str, step: float, low: float, high: float, start: float | None = 0.0
) -> FieldWalk:
    """A clamped walk whose step is uniform in [-step, step)."""
    return FieldWalk(name, Kind.CLAMPED, -step, step, low, high, start, uniform=True)


def counter(name: str, mean: float, stddev: float = 1.0) -> FieldWalk:
    return FieldWalk(name, Kind.MONOTONIC, mean, stddev)


def free(name: str, mean: float, stddev: float = 1.0) -> FieldWalk:
    return FieldWalk(name, Kind.FREE, mean, stddev)


class Walks:
    """The state of a group of field walks for ``series`` series."""

    def __init__(self, fields: tuple[FieldWalk, ...], series: int, seed: int, stream: int) -> None:
        self.fields = fields
        self._rng = np.random.default_rng([seed, stream])
        start_rng = np.random.default_rng([seed, stream, 0])
        self._a = np.array([f.a for f in fields])
        self._b = np.array([f.b for f in fields])
        self._uniform = np.array([f.uniform for f in fields])
        self._refill = np.array([f.refill for f in fields])
        self._low = np.array([f.low if f.kind is Kind.CLAMPED else -np.inf for f in fields])
        self._high = np.array([f.high if f.kind is Kind.CLAMPED else np.inf for f in fields])
        self._monotonic = np.array([f.kind is Kind.MONOTONIC for f in fields])
        uniform = start_rng.random((series, len(fields)))
        # A field without a fixed start begins anywhere in its range.
        low = np.array([f.low for f in fields])
        high = np.array([f.high for f in fields])
        starts = np.array([0.0 if f.start is None else f.start for f in fields])
        random_start = np.array([f.start is None for f in fields])
        self.state: Matrix = np.where(random_start, low + uniform * (high - low), starts)

    def advance(self, steps: int) -> Matrix:
        """Values after each of the next ``steps`` intervals: shape (steps, series, fields)."""
        shape = (steps, *self.state.shape)
        if self._uniform.all():
            moves = self._a + self._rng.random(shape) * (self._b - self._a)
        else:
            if self._uniform.any():
                raise ValueError("a walk group mixes normal and uniform steps")
            moves = self._a + self._rng.standard_normal(shape) * self._b
        moves = np.where(self._monotonic, np.abs(moves), moves)
        values: Matrix = np.empty_like(moves)
        state = self.state
        refill = self._refill.any()
        for step in range(steps):
            # Sequential in time (clamping makes it so), vectorised over series x fields.
            state = np.clip(state + moves[step], self._low, self._high)
            if refill:
                state = np.where(self._refill & (state <= self._low), self._high, state)
            values[step] = state
        self.state = state
        return values

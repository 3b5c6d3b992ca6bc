"""TSBS's "iot" use case: a fleet of trucks reporting ``readings`` and ``diagnostics``.

Each truck (``--hosts`` sets how many) has fixed tags — ``name``, ``fleet``,
``driver``, ``model``, ``device_version`` and the model's ``load_capacity``,
``fuel_capacity``, ``nominal_fuel_consumption`` — and every interval reports its
position and motion (``readings``: seven float fields) and its state
(``diagnostics``: ``fuel_state`` and ``current_load`` floats, ``status`` integer).

What makes iot differ from devops is that its data is messy, as TSBS makes it:
lines are grouped in batches of 10 and 1% of batches and 10% of lines never arrive;
10% of lines lack one field value and 1% one tag; 30% of lines and 5% of batches
arrive late, after later lines (out of order). Each of these draws has its own
random stream and lateness is counted in line positions, so the output does not
depend on how lines are chunked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crisp.bench import line_format
from crisp.bench.dataset import DatasetSpec
from crisp.bench.walks import FieldWalk, Kind, Walks, clamped, clamped_uniform

TAG_KEYS = (
    "name",
    "fleet",
    "driver",
    "model",
    "device_version",
    "load_capacity",
    "fuel_capacity",
    "nominal_fuel_consumption",
)
FLEETS = ("East", "West", "North", "South")
DRIVERS = ("Derek", "Rodney", "Albert", "Andy", "Seth", "Trish")
# model name, load capacity, fuel capacity, nominal fuel consumption
MODELS = (("F-150", 2000, 200, 15), ("G-2000", 5000, 300, 19), ("H-2", 1500, 150, 12))
DEVICE_VERSIONS = ("v1.0", "v1.5", "v2.0", "v2.3")

# (walk, decimals kept) per field, TSBS's ranges and steps.
READINGS = (
    (clamped_uniform("latitude", 0.005, -90.0, 90.0), 5),
    (clamped_uniform("longitude", 0.005, -180.0, 180.0), 5),
    (clamped_uniform("elevation", 10.0, 0.0, 5000.0), 0),
    (clamped_uniform("velocity", 10.0, 0.0, 100.0), 0),
    (clamped_uniform("heading", 5.0, 0.0, 360.0, start=None), 0),
    (clamped_uniform("grade", 5.0, 0.0, 100.0), 0),
    (clamped_uniform("fuel_consumption", 5.0, 0.0, 50.0, start=25.0), 1),
)
# TSBS starts these in [0, high): latitude [0, 90), not the whole range.
READINGS_START_HIGH = {"latitude": 90.0, "longitude": 180.0, "elevation": 500.0}
FUEL = FieldWalk("fuel_state", Kind.CLAMPED, -0.001, 0.0, 0.0, 1.0, 1.0, uniform=True, refill=True)
STATUS = clamped("status", 0.0, 1.0, 0.0, 5.0)
MAX_LOAD = 5000.0
LOAD_CHANGE_CHANCE = 0.05
DIAGNOSTICS_FIELDS = ("fuel_state", "current_load", "status")
READINGS_FIELDS = tuple(walk.name for walk, _ in READINGS)

BATCH = 10  # TSBS's iot batch of entries, the unit of missing and late batches
BATCH_MISSING = 0.01
BATCH_LATE = 0.05
LINE_MISSING = 0.1
LINE_LATE = 0.3
FIELD_MISSING = 0.1
TAG_MISSING = 0.01
LATE_CHANCE_PER_BATCH = 0.5  # a late entry or batch is sent with each later batch at 50%
CHUNK_LINES = 50_000


def truck_tags(spec: DatasetSpec) -> list[dict[str, str]]:
    rng = np.random.default_rng([spec.seed, 0])
    trucks = []
    for truck in range(spec.hosts):
        model = MODELS[int(rng.integers(len(MODELS)))]
        trucks.append(
            {
                "name": f"truck_{truck}",
                "fleet": FLEETS[int(rng.integers(len(FLEETS)))],
                "driver": DRIVERS[int(rng.integers(len(DRIVERS)))],
                "model": model[0],
                "device_version": DEVICE_VERSIONS[int(rng.integers(len(DEVICE_VERSIONS)))],
                "load_capacity": str(model[1]),
                "fuel_capacity": str(model[2]),
                "nominal_fuel_consumption": str(model[3]),
            }
        )
    return trucks


@dataclass
class _Late:
    """Lines held back, with the line position after which each is sent."""

    lines: list[pa.Array] = field(default_factory=list)
    due: list[npt.NDArray[np.int64]] = field(default_factory=list)


class _Fleet:
    """Walk state of every truck, advanced chunk by chunk."""

    def __init__(self, spec: DatasetSpec) -> None:
        trucks, seed = spec.hosts, spec.seed
        self.readings = Walks(tuple(w for w, _ in READINGS), trucks, seed, 21)
        start = np.random.default_rng([spec.seed, 21, 1]).random((trucks, len(READINGS)))
        for index, (walk, _) in enumerate(READINGS):
            if walk.name in READINGS_START_HIGH:
                self.readings.state[:, index] = start[:, index] * READINGS_START_HIGH[walk.name]
        self.fuel = Walks((FUEL,), trucks, seed, 22)
        self.status = Walks((STATUS,), trucks, seed, 23)
        self.change_rng = np.random.default_rng([seed, 24])
        self.new_load_rng = np.random.default_rng([seed, 25])
        self.load = np.zeros(trucks)

    def advance_load(self, steps: int) -> npt.NDArray[np.float64]:
        # TSBS's "lazy" distribution: keeps its value, 5% of the time takes a new one.
        change = self.change_rng.random((steps, len(self.load))) < LOAD_CHANGE_CHANCE
        fresh = self.new_load_rng.random((steps, len(self.load))) * MAX_LOAD
        values = np.empty((steps, len(self.load)))
        for step in range(steps):
            self.load = np.where(change[step], fresh[step], self.load)
            values[step] = self.load
        return values


def _float_fields(
    names: tuple[str, ...], values: npt.NDArray[np.float64], decimals: tuple[int, ...]
) -> list[pa.Array]:
    # Adding 0.0 turns a rounded -0.0 into 0.0, so no "-0" appears in the text.
    return [
        line_format.float_field(name, np.round(values[:, i], decimals[i]) + 0.0)
        for i, name in enumerate(names)
    ]


def _base_lines(
    spec: DatasetSpec, fleet: _Fleet, keys: pa.Array, first: int, count: int
) -> pa.Array:
    """TSBS's order before any defect: per interval, readings then diagnostics, every truck."""
    trucks = spec.hosts
    rows = count * trucks
    times = pa.array(
        np.repeat(
            spec.start_ns + (first + np.arange(count, dtype=np.int64)) * spec.interval_ns, trucks
        )
    )
    readings = fleet.readings.advance(count).reshape(rows, len(READINGS))
    readings_fields = _float_fields(READINGS_FIELDS, readings, tuple(d for _, d in READINGS))
    fuel = fleet.fuel.advance(count).reshape(rows)
    load = fleet.advance_load(count).reshape(rows)
    status = np.trunc(fleet.status.advance(count).reshape(rows)).astype(np.int64)
    diagnostics_fields = [
        line_format.float_field("fuel_state", np.round(fuel, 1) + 0.0),
        line_format.float_field("current_load", np.round(load, 0) + 0.0),
        line_format.integer_field("status", status),
    ]
    truck = np.tile(np.arange(trucks, dtype=np.int32), count)
    readings_keys = pc.binary_join_element_wise("readings", keys.take(pa.array(truck)), "")
    diagnostics_keys = pc.binary_join_element_wise("diagnostics", keys.take(pa.array(truck)), "")
    blocks = [
        line_format.lines(readings_keys, readings_fields, times),
        line_format.lines(diagnostics_keys, diagnostics_fields, times),
    ]
    step, measurement, index = np.meshgrid(
        np.arange(count), np.arange(2), np.arange(trucks), indexing="ij"
    )
    order = (measurement * rows + step * trucks + index).ravel()
    return pa.concat_arrays(blocks).take(pa.array(order))


class _Defects:
    """Missing lines, values and tags, and late lines, in TSBS's proportions."""

    def __init__(self, seed: int) -> None:
        self.batch_rng = np.random.default_rng([seed, 31])
        self.line_rng = np.random.default_rng([seed, 32])
        self.field_rng = np.random.default_rng([seed, 33])
        self.tag_rng = np.random.default_rng([seed, 34])
        # Draws of batches from first_batch on: a batch may span two chunks.
        self.batch_draws = np.empty((0, 3))
        self.first_batch = 0

    def apply(self, lines: pa.Array, first_position: int) -> tuple[pa.Array, npt.NDArray[np.int64]]:
        """The lines that arrive, with the line position after which each is due."""
        count = len(lines)
        positions = first_position + np.arange(count, dtype=np.int64)
        batch_of = positions // BATCH  # counted from the data set's start
        last_batch = int(batch_of[-1])
        missing = last_batch + 1 - (self.first_batch + len(self.batch_draws))
        if missing > 0:
            self.batch_draws = np.concatenate(
                [self.batch_draws, self.batch_rng.random((missing, 3))]
            )
        batch = self.batch_draws[batch_of - self.first_batch]
        line = self.line_rng.random((count, 3))
        keep = (batch[:, 0] >= BATCH_MISSING) & (line[:, 0] >= LINE_MISSING)
        # Lateness in whole batches, geometric: sent with each later batch at 50%.
        late_batches = np.where(batch[:, 1] < BATCH_LATE, _geometric(batch[:, 2]), 0) + np.where(
            line[:, 1] < LINE_LATE, _geometric(line[:, 2]), 0
        )
        due = positions + late_batches.astype(np.int64) * BATCH
        self.batch_draws = self.batch_draws[last_batch - self.first_batch :]
        self.first_batch = last_batch
        lines = self._drop_values(lines)
        chosen = np.flatnonzero(keep)
        return lines.take(pa.array(chosen)), due[chosen]

    def _drop_values(self, lines: pa.Array) -> pa.Array:
        """10% of lines lose one field value, 1% one tag (whole ``k=v`` items)."""
        count = len(lines)
        field_draw = self.field_rng.random((count, 2))
        tag_draw = self.tag_rng.random((count, 2))
        texts = lines.to_pylist()
        for index in np.flatnonzero(
            (field_draw[:, 0] < FIELD_MISSING) | (tag_draw[:, 0] < TAG_MISSING)
        ):
            key, fields, stamp = texts[index].split(" ")
            if field_draw[index, 0] < FIELD_MISSING:
                items = fields.split(",")
                del items[int(field_draw[index, 1] * len(items))]
                fields = ",".join(items)
            if tag_draw[index, 0] < TAG_MISSING:
                measurement, *tags = key.split(",")
                del tags[int(tag_draw[index, 1] * len(tags))]
                key = ",".join([measurement, *tags])
            texts[index] = f"{key} {fields} {stamp}"
        return pa.array(texts, pa.string())


def _geometric(uniform: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Trials until the first success at LATE_CHANCE_PER_BATCH, from uniform draws."""
    trials: npt.NDArray[np.float64] = np.ceil(np.log1p(-uniform) / np.log1p(-LATE_CHANCE_PER_BATCH))
    return np.maximum(1.0, trials)


def line_chunks(spec: DatasetSpec) -> Iterator[pa.Array]:
    tags = truck_tags(spec)
    keys = pa.array(
        ["".join(f",{key}={truck[key]}" for key in TAG_KEYS) for truck in tags], pa.string()
    )
    fleet = _Fleet(spec)
    defects = _Defects(spec.seed)
    late = _Late()
    lines_per_step = 2 * spec.hosts
    steps_per_chunk = max(1, CHUNK_LINES // lines_per_step)
    for first in range(0, spec.steps, steps_per_chunk):
        count = min(steps_per_chunk, spec.steps - first)
        base = _base_lines(spec, fleet, keys, first, count)
        arrived, due = defects.apply(base, first * lines_per_step)
        late.lines.append(arrived)
        late.due.append(due)
        # Everything due before the next chunk's first line can be sent now: later
        # lines are all due at or after their own (larger) positions.
        horizon = (first + count) * lines_per_step
        chunk = _release(late, horizon)
        if len(chunk):
            yield chunk
    chunk = _release(late, None)
    if len(chunk):
        yield chunk


def _release(late: _Late, horizon: int | None) -> pa.Array:
    lines = pa.concat_arrays(late.lines) if late.lines else pa.array([], pa.string())
    due = np.concatenate(late.due) if late.due else np.array([], np.int64)
    # Stable: lines due at the same position keep their order of arrival.
    order = np.argsort(due, kind="stable")
    ready = order if horizon is None else order[due[order] < horizon]
    rest = np.setdiff1d(np.arange(len(due)), ready, assume_unique=True)
    late.lines = [lines.take(pa.array(rest))] if len(rest) else []
    late.due = [due[rest]] if len(rest) else []
    return lines.take(pa.array(ready))

"""Vectorised line-protocol formatting with Arrow compute: no Python object per value.

Every line is built column-wise (series key, field set, timestamp joined with spaces)
and ends with ``\\n``, so a run of lines is one contiguous slice of the Arrow data
buffer and turns into a request body without copying line by line.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc


def integer_field(name: str, values: npt.NDArray[np.int64]) -> pa.Array:
    return pc.binary_join_element_wise(f"{name}=", pc.cast(pa.array(values), pa.string()), "i", "")


def float_field(name: str, values: npt.NDArray[np.float64]) -> pa.Array:
    # Arrow prints the shortest text that round-trips, so the output is stable.
    return pc.binary_join_element_wise(f"{name}=", pc.cast(pa.array(values), pa.string()), "")


def string_field(name: str, values: pa.Array) -> pa.Array:
    """``name="value"``; generated strings hold no quote or backslash to escape."""
    return pc.binary_join_element_wise(f'{name}="', values, '"', "")


def lines(series_keys: pa.Array, fields: Sequence[pa.Array], timestamps_ns: pa.Array) -> pa.Array:
    """``key fields ts\\n`` per row; ``fields`` are already ``name=value`` strings.

    A null field string is a value the point lacks: it is left out of the line.
    """
    field_set = (
        fields[0]
        if len(fields) == 1
        else pc.binary_join_element_wise(*fields, ",", null_handling="skip")
    )
    text = pc.cast(timestamps_ns, pa.string())
    stamped = pc.binary_join_element_wise(text, "\n", "")
    return pc.binary_join_element_wise(series_keys, field_set, stamped, " ")


def to_bytes(line_array: pa.Array) -> bytes:
    """The lines of a (possibly sliced) string array as one body, copied once."""
    if len(line_array) == 0:
        return b""
    array = line_array
    width = np.int64 if array.type == pa.large_string() else np.int32
    offsets = np.frombuffer(array.buffers()[1], dtype=width)
    begin = int(offsets[array.offset])
    end = int(offsets[array.offset + len(array)])
    data: bytes = array.buffers()[2][begin:end].to_pybytes()
    return data

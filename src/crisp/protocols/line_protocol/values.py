"""Field values and timestamps: text → typed Python value, or a reason it is invalid.

Python's ``int()``/``float()`` accept far more than line protocol does (``1_000``,
``+1``, `` 1``, ``inf``, non-ASCII digits), so text is checked against the
InfluxDB grammar before conversion.
"""

from __future__ import annotations

import math
import re

from crisp.core.batch import FieldType

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

# InfluxDB 1.x accepts "1.", ".5", "-1e3", "1E+3"; not "+1", "1e", ".", "0x1".
_FLOAT_TEXT = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

_BOOLEANS: dict[str, bool] = {
    "t": True,
    "T": True,
    "true": True,
    "True": True,
    "TRUE": True,
    "f": False,
    "F": False,
    "false": False,
    "False": False,
    "FALSE": False,
}

FieldValue = float | int | bool | str
TypedValue = tuple[FieldType, FieldValue]


class InvalidValue(Exception):
    """A field value or timestamp that the grammar rejects; ``str()`` is the reason."""


def _is_unsigned_text(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _is_signed_text(text: str) -> bool:
    if text[:1] == "-":
        text = text[1:]
    return text.isascii() and text.isdigit()


def parse_unquoted_value(text: str) -> TypedValue:
    """Type and value of a non-string field value (``12i``, ``12u``, ``1.5``, ``t``)."""
    boolean = _BOOLEANS.get(text)
    if boolean is not None:
        return FieldType.BOOLEAN, boolean
    # No number starts with these letters, so "tru" is a misspelt boolean.
    if text[:1] in ("t", "T", "f", "F"):
        raise InvalidValue("invalid boolean")
    last = text[-1:]
    if last == "i":
        digits = text[:-1]
        if not _is_signed_text(digits):
            raise InvalidValue("invalid number")
        integer = int(digits)
        if not INT64_MIN <= integer <= INT64_MAX:
            raise InvalidValue("integer out of range")
        return FieldType.INTEGER, integer
    if last == "u":
        digits = text[:-1]
        if not _is_unsigned_text(digits):
            raise InvalidValue("invalid number")
        unsigned = int(digits)
        if unsigned > UINT64_MAX:
            raise InvalidValue("unsigned integer out of range")
        return FieldType.UNSIGNED, unsigned
    if _FLOAT_TEXT.fullmatch(text) is None:
        raise InvalidValue("invalid number")
    number = float(text)
    if not math.isfinite(number):
        # Only overflow reaches here ("1e999"): NaN/Inf spellings fail the grammar above.
        raise InvalidValue("float out of range")
    return FieldType.FLOAT, number


def parse_timestamp(text: str, multiplier: int) -> int:
    """Nanoseconds since the epoch for a timestamp in the request's precision."""
    if not _is_signed_text(text):
        raise InvalidValue("invalid timestamp")
    nanoseconds = int(text) * multiplier
    if not INT64_MIN <= nanoseconds <= INT64_MAX:
        raise InvalidValue("invalid timestamp: out of range for int64 nanoseconds")
    return nanoseconds

"""InfluxDB line protocol (1.x grammar, 1.x and 2.x precisions) → ``PointBatch``.

``parse_line_protocol`` is the entry point. Behaviour, and where it departs from
InfluxDB 1.x:

* Good lines are kept; each bad line becomes a ``LineError`` (1-based line number,
  the line shortened to 100 characters, a reason).
* Duplicate tag keys in a line are rejected, as in 1.x. A repeated field key keeps the
  last value (what 1.x ends up storing); repeating it with another type is a conflict.
* A tag or field key named ``time`` is rejected (1.x rejects the tag and drops the
  field); a name that is both a tag and a field of a measurement is rejected (1.x
  allows it, but a Crisp table has one column per name): the later line loses.
* Within a body the first type of a measurement's field wins; later lines with another
  type fail with "field type conflict", as 1.x does within a shard.
* Every ``\\n`` ends a line, also inside a quoted string (1.x lets strings span lines;
  2.x documents newlines in values as unsupported). Tabs are ordinary characters, not
  separators; runs of spaces separate sections.
* A name cannot end with a backslash: as in 1.x, the backslash would escape the
  separator after it.
* Points without a timestamp get ``default_time_ns`` as given (1.x also truncates it
  to the precision).

Module map: ``parser`` (entry point, line-by-line path), ``columnar_lines`` (the
vectorised path), ``single_line`` and ``line_syntax`` (one line's grammar), ``values``
(field values and timestamps), ``columns`` (per-measurement column accumulation for
the line-by-line path), ``limits``, ``precision``.
"""

from crisp.protocols.line_protocol.limits import DEFAULT_LIMITS, LineProtocolLimits
from crisp.protocols.line_protocol.parser import parse_line_protocol

__all__ = ["DEFAULT_LIMITS", "LineProtocolLimits", "parse_line_protocol"]

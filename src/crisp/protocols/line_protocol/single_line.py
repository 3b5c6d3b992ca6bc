"""One line at a time: strip, skip comments, check the length, then the grammar.

Used for whole bodies on the line-by-line path and, on the vectorised path, for the
lines the kernels leave aside.
"""

from __future__ import annotations

from crisp.core.batch import LineError
from crisp.protocols.line_protocol.known_series import KNOWN_SERIES, KnownSeries
from crisp.protocols.line_protocol.limits import LineProtocolLimits
from crisp.protocols.line_protocol.line_syntax import (
    LineSyntaxError,
    ParsedLine,
    SeriesKeyCache,
    SharedSeriesKeys,
    parse_escaped_line,
    parse_plain_line,
)

SHOWN_LINE_CHARS = 100
SURROUNDING_WHITESPACE = " \t\r"


def shorten(line: str) -> str:
    """The line as shown in an error: enough to find it, not a whole 64 KiB echo."""
    if len(line) <= SHOWN_LINE_CHARS:
        return line
    return line[: SHOWN_LINE_CHARS - 3] + "..."


def _byte_length(line: str) -> int:
    return len(line) if line.isascii() else len(line.encode("utf-8"))


class LineParser:
    """Parses single lines with the per-line parsers, sharing a series-key cache.

    One per body; ``shared_series`` (default: the process-wide ``SHARED_SERIES_KEYS``)
    keeps the per-line path's parsed series keys across bodies, ``known_series``
    (default: ``KNOWN_SERIES``) the vectorised path's.
    """

    def __init__(
        self,
        multiplier: int,
        limits: LineProtocolLimits,
        shared_series: SharedSeriesKeys | None = None,
        known_series: KnownSeries | None = None,
    ) -> None:
        self.multiplier = multiplier
        self.limits = limits
        self.series_cache = SeriesKeyCache(limits, shared_series)
        self.known_series = KNOWN_SERIES if known_series is None else known_series

    def parse(self, number: int, raw_line: str) -> ParsedLine | LineError | None:
        """The parsed line, its error, or ``None`` for blank and comment lines."""
        line = raw_line.strip(SURROUNDING_WHITESPACE)
        if not line or line[0] == "#":
            return None
        max_bytes = self.limits.max_line_bytes
        # Characters never outnumber bytes, so only long lines pay for the exact count.
        if len(line) > max_bytes // 4 and (size := _byte_length(line)) > max_bytes:
            return LineError(number, shorten(line), f"line too long ({size} bytes > {max_bytes})")
        parsed = None
        if "\\" not in line:
            parsed = parse_plain_line(line, self.series_cache, self.multiplier, self.limits)
        if parsed is None:
            try:
                parsed = parse_escaped_line(line, self.multiplier, self.limits)
            except LineSyntaxError as error:
                return LineError(number, shorten(line), str(error))
        return parsed

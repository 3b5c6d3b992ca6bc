"""Retry delays for a failing sink: exponential, capped, with full jitter.

Full jitter (a uniform draw between 0 and the exponential cap) spreads the retries of
many collectors that lost the same sink at the same moment, so they do not hammer it
in lockstep when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float
    maximum: float
    random_fraction: Callable[[], float] = field(default=random.random)
    attempt: int = 0

    def ceiling(self, attempt: int) -> float:
        """The cap of the delay before retry number ``attempt`` (0-based)."""
        # Bound the exponent: 2**attempt overflows a float after ~1000 failures.
        return min(self.maximum, self.initial * 2.0 ** min(attempt, 62))

    def next_delay(self) -> float:
        ceiling = self.ceiling(self.attempt)
        self.attempt += 1
        # Never zero: at least a tenth of the initial delay, so a dead sink is not spun on.
        return max(self.initial / 10, ceiling * self.random_fraction())

    def reset(self) -> None:
        self.attempt = 0


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds`` before a retry; ``stop`` being set ends the wait at once."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

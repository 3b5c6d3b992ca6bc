"""Errors a query statement reports to the user instead of raising to the caller."""

from __future__ import annotations


class QueryError(Exception):
    """A user-facing failure of one statement; ``str()`` is the message InfluxDB clients see."""

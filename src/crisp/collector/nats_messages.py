"""Batches as JetStream messages, and back.

The collector publishes each batch as the spool's own record encoding
(``records.encode_record``: Arrow IPC per measurement, exact field types, no parse on
the way out), ``Content-Type: application/vnd.crisp.record``. Headers repeat the
database and retention policy (``Crisp-Database``, ``Crisp-Retention-Policy``) so
tools can route or inspect messages without decoding them.

``Nats-Msg-Id`` is a hash of the payload: a publish retried after a lost ack within
the stream's duplicate window is stored once. Two different batches with the same
bytes hold the same points, which storage would overwrite anyway.

A message larger than NATS takes (the server's ``max_payload``, 1 MB by default, or
the stream's own limits: ``nats_stream.message_limit``) is split by measurement, then
by rows, until every part fits.

The consumer also reads plain line protocol (any other or no ``Content-Type``), with
the database from ``Crisp-Database`` (else the default) and ``Crisp-Precision``: so
Telegraf's NATS output (``data_format = "influx"``) can feed the same stream.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import pyarrow as pa

from crisp.collector.records import SpoolRecord, decode_record, encode_record
from crisp.core.batch import MeasurementBatch, PointBatch
from crisp.protocols.line_protocol import parse_line_protocol

RECORD_CONTENT_TYPE = "application/vnd.crisp.record"
HEADER_CONTENT_TYPE = "Content-Type"
HEADER_DATABASE = "Crisp-Database"
HEADER_RP = "Crisp-Retention-Policy"
HEADER_PRECISION = "Crisp-Precision"
HEADER_MSG_ID = "Nats-Msg-Id"
# Room left under the limit for the subject and headers (at most a quarter of it).
HEADER_ALLOWANCE = 4096


class PayloadTooLarge(ValueError):
    """One point alone is larger than the server accepts in a message."""


class BadMessage(ValueError):
    """A message the consumer cannot decode: it is dead-lettered, never retried."""


@dataclass(frozen=True)
class OutgoingMessage:
    headers: dict[str, str]
    payload: bytes
    points: int


@dataclass(frozen=True)
class IncomingBatch:
    record: SpoolRecord
    # Line protocol lines that did not parse: the message is dead-lettered for them
    # once its good points are written.
    rejected: str | None = None


def encode_messages(
    database: str, rp: str | None, batch: PointBatch, max_message_bytes: int
) -> list[OutgoingMessage]:
    """``batch`` as one or more messages, each under ``max_message_bytes`` with headers."""
    limit = max_message_bytes - min(HEADER_ALLOWANCE, max_message_bytes // 4)
    messages: list[OutgoingMessage] = []
    pending = [batch]
    while pending:
        part = pending.pop()
        payload = encode_record(database, rp, part)
        if len(payload) <= limit:
            messages.append(_message(database, rp, payload, part.num_points))
            continue
        halves = _split(part)
        if halves is None:
            raise PayloadTooLarge(
                f"one point of {next(iter(part)).measurement!r} encodes to {len(payload)} "
                f"bytes, more than NATS takes in one message ({max_message_bytes} bytes: "
                "the server's max_payload or the stream's limits)"
            )
        pending.extend(reversed(halves))  # keep the original order of points
    return messages


def _message(database: str, rp: str | None, payload: bytes, points: int) -> OutgoingMessage:
    headers = {
        HEADER_CONTENT_TYPE: RECORD_CONTENT_TYPE,
        HEADER_DATABASE: database,
        HEADER_MSG_ID: hashlib.blake2b(payload, digest_size=16).hexdigest(),
    }
    if rp:
        headers[HEADER_RP] = rp
    return OutgoingMessage(headers, payload, points)


def _split(batch: PointBatch) -> tuple[PointBatch, PointBatch] | None:
    measurements = list(batch)
    if len(measurements) > 1:
        middle = len(measurements) // 2
        return _batch(measurements[:middle]), _batch(measurements[middle:])
    only = measurements[0]
    rows = only.table.num_rows
    if rows < 2:
        return None
    middle = rows // 2
    first = MeasurementBatch(only.measurement, only.table.slice(0, middle))
    second = MeasurementBatch(only.measurement, only.table.slice(middle))
    return _batch([first]), _batch([second])


def _batch(measurements: list[MeasurementBatch]) -> PointBatch:
    return PointBatch({m.measurement: m for m in measurements})


def decode_message(
    headers: dict[str, str] | None, payload: bytes, *, default_db: str, now_ns: int
) -> IncomingBatch:
    """Raise :class:`BadMessage` for a payload that cannot be read at all."""
    headers = headers or {}
    if headers.get(HEADER_CONTENT_TYPE) == RECORD_CONTENT_TYPE:
        try:
            return IncomingBatch(decode_record(payload))
        except (struct.error, pa.ArrowException, UnicodeDecodeError, ValueError) as error:
            raise BadMessage(f"undecodable {RECORD_CONTENT_TYPE} payload: {error}") from None
    database = headers.get(HEADER_DATABASE) or default_db
    rp = headers.get(HEADER_RP) or None
    try:
        result = parse_line_protocol(
            payload, precision=headers.get(HEADER_PRECISION, "ns"), default_time_ns=now_ns
        )
    except ValueError as error:  # a bad Crisp-Precision header
        raise BadMessage(str(error)) from None
    rejected = None
    if result.errors:
        first = result.errors[0]
        more = f" and {len(result.errors) - 1} more" if len(result.errors) > 1 else ""
        rejected = f"line {first.line_number}: {first.reason}{more}"
    return IncomingBatch(SpoolRecord(database, rp, result.batch), rejected)

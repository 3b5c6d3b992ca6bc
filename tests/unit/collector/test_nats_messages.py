import pytest
from nats.js.api import StreamConfig

from crisp.collector.nats_messages import (
    HEADER_DATABASE,
    HEADER_MSG_ID,
    HEADER_PRECISION,
    HEADER_RP,
    BadMessage,
    PayloadTooLarge,
    decode_message,
    encode_messages,
)
from crisp.collector.nats_stream import message_limit
from tests.unit.collector.helpers import lp_batch, seqs

MB = 1024 * 1024


def test_a_batch_round_trips_with_exact_types_and_routing_headers() -> None:
    batch = lp_batch("m,host=a seq=1i,u=2u,f=1.5,ok=true,s=\"x y\" 10\nother v=3 11")
    [message] = encode_messages("db1", "week", batch, MB)
    assert message.headers[HEADER_DATABASE] == "db1"
    assert message.headers[HEADER_RP] == "week"
    assert message.points == 2
    incoming = decode_message(message.headers, message.payload, default_db="x", now_ns=0)
    assert incoming.rejected is None
    assert (incoming.record.database, incoming.record.rp) == ("db1", "week")
    decoded = incoming.record.batch.measurements["m"].table
    assert decoded.equals(batch.measurements["m"].table)


def test_identical_payloads_share_a_message_id_and_different_ones_do_not() -> None:
    first = encode_messages("db", None, lp_batch("m seq=1i 1"), MB)[0]
    again = encode_messages("db", None, lp_batch("m seq=1i 1"), MB)[0]
    other = encode_messages("db", None, lp_batch("m seq=2i 1"), MB)[0]
    assert first.headers[HEADER_MSG_ID] == again.headers[HEADER_MSG_ID]
    assert first.headers[HEADER_MSG_ID] != other.headers[HEADER_MSG_ID]
    assert HEADER_RP not in first.headers


def test_a_batch_larger_than_max_payload_is_split_in_order() -> None:
    lines = "".join(f"m,host=h{i} seq={i}i,pad=\"{'x' * 200}\" {i}\n" for i in range(600))
    lines += "n seq=600i 600\n"
    messages = encode_messages("db", None, lp_batch(lines), 64 * 1024)
    assert len(messages) > 2
    assert all(len(m.payload) <= 64 * 1024 for m in messages)
    decoded = [
        seq
        for m in messages
        for seq in seqs(decode_message(m.headers, m.payload, default_db="", now_ns=0).record.batch)
    ]
    assert decoded == list(range(601))


def test_one_point_larger_than_max_payload_is_refused() -> None:
    batch = lp_batch(f"m s=\"{'x' * 20_000}\" 1")
    with pytest.raises(PayloadTooLarge, match="more than NATS takes in one message"):
        encode_messages("db", None, batch, 8 * 1024)


def test_plain_line_protocol_uses_headers_or_the_default_database() -> None:
    incoming = decode_message(
        {HEADER_DATABASE: "tele", HEADER_PRECISION: "s"}, b"cpu v=1 5\n", default_db="x", now_ns=0
    )
    assert incoming.record.database == "tele"
    table = incoming.record.batch.measurements["cpu"].table
    assert table.column("time").to_pylist() == [5_000_000_000]
    bare = decode_message(None, b"cpu v=1\n", default_db="metrics", now_ns=42)
    assert bare.record.database == "metrics"
    assert bare.record.batch.measurements["cpu"].table.column("time").to_pylist() == [42]


def test_bad_line_protocol_lines_are_named_and_good_ones_kept() -> None:
    incoming = decode_message(None, b"cpu v=1 1\ncpu v=\nmem v=2 2\n", default_db="d", now_ns=0)
    assert incoming.record.batch.num_points == 2
    assert incoming.rejected is not None
    assert incoming.rejected.startswith("line 2:")


def test_an_undecodable_record_is_a_bad_message() -> None:
    headers = {"Content-Type": "application/vnd.crisp.record"}
    with pytest.raises(BadMessage, match="undecodable"):
        decode_message(headers, b"\x05\x00ab", default_db="d", now_ns=0)


def test_the_message_limit_respects_the_stream_as_well_as_the_server() -> None:
    assert message_limit(MB, StreamConfig(max_bytes=-1, max_msg_size=-1)) == MB
    assert message_limit(MB, StreamConfig(max_bytes=40_000, max_msg_size=-1)) == 10_000
    assert message_limit(MB, StreamConfig(max_bytes=-1, max_msg_size=5_000)) == 5_000

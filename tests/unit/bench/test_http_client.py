"""The raw load client reads every response framing a server may choose."""

from __future__ import annotations

import asyncio

import pytest

from crisp.bench.http_client import CONNECTION_ERROR, RawConnection, split_base_url

RESPONSES = [
    b"HTTP/1.1 204 No Content\r\nX-Influxdb-Version: 1.6.7\r\n\r\n",
    b'HTTP/1.1 400 Bad Request\r\nContent-Length: 15\r\n\r\n{"error":"bad"}',
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
    b"HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
    b"HTTP/1.0 200 OK\r\n\r\nto the end",
]
EXPECTED = [
    (204, b""),
    (400, b'{"error":"bad"}'),
    (200, b"abcde"),
    (500, b"no"),
    (200, b"to the end"),
]


async def exchange_all() -> tuple[list[tuple[int, bytes]], list[bytes], int]:
    answers = iter(RESPONSES)
    bodies: list[bytes] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            bodies.append(await reader.readexactly(length))
            answer = next(answers)
            writer.write(answer)
            await writer.drain()
            if b"close" in answer or b"HTTP/1.0" in answer:
                writer.close()
                return

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = RawConnection("127.0.0.1", port)
    results = [await client.post("/write?db=x", f"line {i}\n".encode()) for i in range(5)]
    await client.aclose()
    server.close()
    await server.wait_closed()
    return results, bodies, connections


def test_every_framing_is_read_and_connections_are_reused_until_closed() -> None:
    results, bodies, connections = asyncio.run(exchange_all())
    assert results == EXPECTED
    assert bodies == [f"line {i}\n".encode() for i in range(5)]
    assert connections == 2  # one kept alive for four requests, one after the close


def test_refused_connection_is_reported_not_raised() -> None:
    async def post() -> tuple[int, bytes]:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return await RawConnection("127.0.0.1", port).post("/write", b"x")

    assert asyncio.run(post()) == (CONNECTION_ERROR, b"")


def test_base_url() -> None:
    assert split_base_url("http://127.0.0.1:8086") == ("127.0.0.1", 8086)
    with pytest.raises(ValueError, match="expected http"):
        split_base_url("https://example.com")

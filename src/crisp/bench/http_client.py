"""The load client's HTTP POST: a minimal asyncio HTTP/1.1 client, or httpx.

The raw client exists because the load generator shares the machine with the server
under test: every CPU cycle it spends is taken from the server. It writes the
request head and body with one ``write`` and reads only the status line, the
headers it needs and the body, on a kept-alive connection per task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

CONNECTION_ERROR = 0  # status recorded when no HTTP answer came back
SMALL_BODY = 64 * 1024
Headers = Sequence[tuple[str, str]]
LINE_PROTOCOL_HEADERS: Headers = (("Content-Type", "text/plain; charset=utf-8"),)


class PostClient(Protocol):
    async def post(self, path: str, body: bytes) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


def split_base_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"bad URL {url!r}: expected http://HOST:PORT")
    return parts.hostname, parts.port or 80


class RawConnection:
    """One keep-alive HTTP/1.1 connection; reconnects after an error or ``close``."""

    def __init__(self, host: str, port: int, headers: Headers = LINE_PROTOCOL_HEADERS) -> None:
        self._host = host
        self._port = port
        # Built once: every request of a load carries the same headers.
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in headers)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            return await self._exchange(path, body)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.aclose()
            return CONNECTION_ERROR, b""

    async def _exchange(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"{self._headers}Content-Length: {len(body)}\r\n\r\n"
        ).encode("ascii")
        if len(body) < SMALL_BODY:
            writer.write(head + body)  # one segment for small requests
        else:
            writer.write(head)  # no copy of a large body into a new bytes object
            writer.write(body)
        await writer.drain()
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked = close = False
        while True:
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            payload = await _read_chunked(reader)
        elif length is not None:
            payload = await reader.readexactly(length)
        elif status in (204, 304) or status < 200:
            payload = b""  # these never have a body
        else:
            # No length: the body runs to the end of the connection (HTTP/1.0 style).
            payload, close = await reader.read(), True
        if close:
            await self.aclose()
        return status, payload

    async def aclose(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


class HttpxConnection:
    """The same interface over httpx, to compare client cost against the raw one."""

    def __init__(self, base_url: str, headers: Headers = LINE_PROTOCOL_HEADERS) -> None:
        import httpx

        self._client = httpx.AsyncClient(base_url=base_url, timeout=60.0, headers=list(headers))

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        import httpx

        try:
            response = await self._client.post(path, content=body)
        except httpx.HTTPError:
            return CONNECTION_ERROR, b""
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


def connect(kind: str, base_url: str, headers: Headers = LINE_PROTOCOL_HEADERS) -> PostClient:
    if kind == "httpx":
        return HttpxConnection(base_url, headers)
    host, port = split_base_url(base_url)
    return RawConnection(host, port, headers)

"""Reading request bodies with a size cap, gzip included, before anything is parsed."""

from __future__ import annotations

import zlib

from starlette.requests import Request

from crisp.influxapi.errors import HTTPError


async def read_body(
    request: Request, max_bytes: int, payload_encodings: frozenset[str] = frozenset()
) -> bytes:
    """The decoded body; 413 past ``max_bytes`` (compressed or not), 400 on bad gzip.

    ``payload_encodings`` are Content-Encodings that belong to the payload format and
    are left for its parser (remote_write's ``snappy``), not undone here.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        return _gunzip(body, max_bytes)
    if encoding not in ("", "identity") and encoding not in payload_encodings:
        raise HTTPError(415, f"unsupported Content-Encoding: {encoding}; use gzip or none")
    return body


def _gunzip(body: bytes, max_bytes: int) -> bytes:
    # A gzip bomb must not get past the cap: decompress incrementally and stop early.
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(body, max_bytes + 1)
    except zlib.error as error:
        raise HTTPError(400, f"invalid gzip body: {error}") from None
    if len(out) > max_bytes:
        raise _too_large(max_bytes)
    if not decompressor.eof:
        raise HTTPError(400, "invalid gzip body: truncated stream")
    return out


def _too_large(max_bytes: int) -> HTTPError:
    return HTTPError(413, f"request entity too large: the limit is {max_bytes} bytes")

"""The record framing of Crisp's append-only logs (storage WAL, collector spool).

Each record is ``u32 length | u32 crc32 | payload``, little-endian. A record that is
cut short or fails its CRC at the very end of a log is what a crash during an append
leaves behind (a torn tail); anywhere else it is corruption.
"""

from __future__ import annotations

import struct
import zlib

FRAME = struct.Struct("<II")  # payload length, CRC32 of payload


def frame(payload: bytes) -> bytes:
    return FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def frame_end(data: bytes, pos: int) -> tuple[int, str | None]:
    """(end of the record starting at ``pos``, None) or (its end, what is wrong).

    A problem whose end is at or past ``len(data)`` is a torn tail.
    """
    if len(data) - pos < FRAME.size:
        return len(data), "partial record header"
    length, crc = FRAME.unpack_from(data, pos)
    end = pos + FRAME.size + length
    if end > len(data):
        return end, f"record of {length} bytes runs past end of file"
    if zlib.crc32(data[pos + FRAME.size : end]) != crc:
        return end, "CRC mismatch"
    return end, None

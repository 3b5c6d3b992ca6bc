"""Remote-write 1.0 message classes built by the protobuf package at import time.

The tests encode requests with the real protobuf library, independent of Crisp's
hand-written reader, from the schema in the remote-write 1.0 specification.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory  # type: ignore[import-untyped]

_LABEL = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
_REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
_T = descriptor_pb2.FieldDescriptorProto


def _message(file: Any, name: str, fields: list[tuple[str, int, int, int, str | None]]) -> None:
    message = file.message_type.add(name=name)
    for field_name, number, field_type, label, type_name in fields:
        field = message.field.add(name=field_name, number=number, type=field_type, label=label)
        if type_name is not None:
            field.type_name = type_name


def _build() -> dict[str, Any]:
    file = descriptor_pb2.FileDescriptorProto(
        name="crisp_test_remote.proto", package="crisptest", syntax="proto3"
    )
    _message(
        file,
        "Label",
        [("name", 1, _T.TYPE_STRING, _LABEL, None), ("value", 2, _T.TYPE_STRING, _LABEL, None)],
    )
    _message(
        file,
        "Sample",
        [("value", 1, _T.TYPE_DOUBLE, _LABEL, None), ("timestamp", 2, _T.TYPE_INT64, _LABEL, None)],
    )
    _message(
        file,
        "TimeSeries",
        [
            ("labels", 1, _T.TYPE_MESSAGE, _REPEATED, ".crisptest.Label"),
            ("samples", 2, _T.TYPE_MESSAGE, _REPEATED, ".crisptest.Sample"),
            # Stands in for exemplars/histograms: a field the reader must skip.
            ("extra", 9, _T.TYPE_STRING, _LABEL, None),
        ],
    )
    _message(
        file,
        "WriteRequest",
        [
            ("timeseries", 1, _T.TYPE_MESSAGE, _REPEATED, ".crisptest.TimeSeries"),
            ("note", 7, _T.TYPE_FIXED32, _LABEL, None),
        ],
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"crisptest.{name}"))
        for name in ("Label", "Sample", "TimeSeries", "WriteRequest")
    }


CLASSES = _build()


def write_request(
    series: list[tuple[list[tuple[str, str]], list[tuple[float, int]]]],
    *,
    extra: str = "",
    note: int = 0,
) -> bytes:
    """Serialized ``WriteRequest`` from ``[(labels, [(value, timestamp_ms)])]``."""
    request = CLASSES["WriteRequest"](note=note)
    for labels, samples in series:
        timeseries = request.timeseries.add(extra=extra)
        for name, value in labels:
            timeseries.labels.add(name=name, value=value)
        for sample_value, timestamp in samples:
            timeseries.samples.add(value=sample_value, timestamp=timestamp)
    return bytes(request.SerializeToString())

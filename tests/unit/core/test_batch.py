import pyarrow as pa

from crisp.core.batch import (
    FieldType,
    MeasurementBatch,
    PointBatch,
    measurement_schema,
)


def cpu_batch(rows: list[tuple[int, str, float | None, int | None]]) -> MeasurementBatch:
    schema = measurement_schema(["host"], {"load": FieldType.FLOAT, "procs": FieldType.INTEGER})
    columns = list(zip(*rows, strict=True))
    return MeasurementBatch(
        "cpu", pa.Table.from_arrays([pa.array(c) for c in columns], schema=schema)
    )


def test_counts_points_and_non_null_values() -> None:
    batch = cpu_batch([(1, "a", 0.5, 3), (2, "b", None, 4)])
    assert batch.num_points == 2
    assert batch.num_values == 3
    assert batch.tag_keys == ["host"]
    assert batch.field_types == {"load": FieldType.FLOAT, "procs": FieldType.INTEGER}


def test_adding_the_same_measurement_appends_rows() -> None:
    points = PointBatch()
    points.add(cpu_batch([(1, "a", 0.5, 3)]))
    points.add(cpu_batch([(2, "b", 1.5, None)]))
    assert points.num_points == 2
    assert points.num_values == 3
    assert points.measurements["cpu"].table.column("host").to_pylist() == ["a", "b"]

"""Read-only SQL over one measurement, for users who think in SQL rather than InfluxQL.

The text is checked first (``sql_sandbox``), then runs on a storage snapshot where the
measurement is a view with ``time`` as a TIMESTAMP_NS column, tags and fields as
columns. Rows are limited to the request's time range before the user's SQL sees
them, so a query never scans more than that range; guards cap rows and time.
"""

from __future__ import annotations

import pyarrow as pa

from crisp.core.batch import TIME_COLUMN
from crisp.query.deadline import Deadline
from crisp.query.errors import QueryError
from crisp.query.guards import QueryGuards
from crisp.query.sql import quote_ident
from crisp.query.sql_sandbox import check_sql
from crisp.storage.api import Storage, TimeRange

_BATCH_ROWS = 10_000


def run_sql(
    text: str,
    *,
    storage: Storage,
    database: str,
    rp: str | None,
    time_range: TimeRange,
    guards: QueryGuards,
) -> pa.Table:
    """The result as Arrow, so nanosecond timestamps survive (Python datetimes do not)."""
    checked = check_sql(text, set(storage.measurements(database)))
    deadline = Deadline(guards.timeout_seconds)
    limit = guards.max_points if guards.max_points > 0 else None
    with storage.snapshot(database, rp, checked.measurement, time_range) as snapshot:
        connection = snapshot.connection
        view = quote_ident(checked.measurement)
        time = quote_ident(TIME_COLUMN)
        connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS "
            f"SELECT * REPLACE (make_timestamp_ns({time}) AS {time}) FROM points"
        )

        def fetch() -> pa.Table:
            reader = connection.sql(checked.text).to_arrow_reader(_BATCH_ROWS)
            batches: list[pa.RecordBatch] = []
            rows = 0
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if limit is not None and rows > limit:
                    raise QueryError(
                        f"SQL query returned more than {limit} rows: add a LIMIT or aggregate"
                    )
            return pa.Table.from_batches(batches, schema=reader.schema)

        return deadline.run(connection, fetch)

"""Crisp's embedded time-series storage: WAL, in-memory buffer, Parquet files, DuckDB reads."""

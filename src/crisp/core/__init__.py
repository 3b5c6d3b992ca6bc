"""Config, the data model (point batches), logging: imported by every other package.

Imports neither Django nor DuckDB.
"""

"""InfluxQL: scanner, typed syntax tree, parser and renderer."""

from crisp.query.influxql.parser import ParseError, parse_expr, parse_query, parse_statement

__all__ = ["ParseError", "parse_expr", "parse_query", "parse_statement"]

"""Recursive-descent InfluxQL parser producing ``crisp.query.influxql.ast`` nodes.

Errors follow InfluxDB 1.x's wording ("found X, expected Y at line 1, char 8") because
clients and people match on it.
"""

from __future__ import annotations

from collections.abc import Callable

from crisp.query.influxql import ast
from crisp.query.influxql.durations import parse_duration
from crisp.query.influxql.lexer import Kind, Token, line_char, scan, scan_regex

_INT64_MAX = 2**63 - 1

# Binding strength of binary operators (higher binds tighter), as in InfluxQL.
# fmt: off
_PRECEDENCE: dict[str, int] = {
    "OR": 1,
    "AND": 2,
    "=": 4, "!=": 4, "<>": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "=~": 4, "!~": 4,
    "+": 5, "-": 5, "|": 5, "^": 5,
    "*": 6, "/": 6, "%": 6, "&": 6,
}
# fmt: on
_CASTS = frozenset({"float", "integer", "unsigned", "string", "boolean", "field", "tag"})


class ParseError(Exception):
    def __init__(self, message: str, line: int, char: int) -> None:
        super().__init__(f"{message} at line {line}, char {char}")
        self.message = message
        self.line = line
        self.char = char


def parse_query(text: str) -> ast.Query:
    """Parse ``;``-separated statements; raises ParseError."""
    return Parser(text).parse_query()


def parse_statement(text: str) -> ast.Statement:
    return Parser(text).parse_single()


def parse_expr(text: str) -> ast.Expr:
    return Parser(text).parse_single_expr()


class Parser:
    def __init__(self, text: str) -> None:
        self.src = text
        self.pos = 0
        # scan() depends only on (text, pos), and the parser peeks the same position
        # several times before consuming it: remember each position's token.
        self._tokens: dict[int, Token] = {}

    # ------------------------------------------------------------ token plumbing

    def peek(self) -> Token:
        tok = self._tokens.get(self.pos)
        if tok is None:
            tok = self._tokens[self.pos] = scan(self.src, self.pos)
        return tok

    def next(self) -> Token:
        tok = self.peek()
        self.pos = tok.end
        return tok

    def error(self, tok: Token, expected: str) -> ParseError:
        if tok.kind is Kind.BADSTRING:
            return self.fail(tok, "unterminated string literal")
        if tok.kind is Kind.BADESCAPE:
            return self.fail(tok, f"bad escape: {tok.raw}")
        if tok.kind is Kind.BADREGEX:
            return self.fail(tok, "unterminated regex literal")
        return self.fail(tok, f"found {tok.describe()}, expected {expected}")

    def fail(self, tok: Token, message: str) -> ParseError:
        line, char = line_char(self.src, tok.start)
        return ParseError(message, line, char)

    def accept_keyword(self, *names: str) -> Token | None:
        tok = self.peek()
        if tok.is_keyword(*names):
            self.pos = tok.end
            return tok
        return None

    def expect_keyword(self, *names: str) -> Token:
        tok = self.next()
        if not tok.is_keyword(*names):
            raise self.error(tok, ", ".join(names))
        return tok

    def accept_op(self, *symbols: str) -> Token | None:
        tok = self.peek()
        if tok.is_op(*symbols):
            self.pos = tok.end
            return tok
        return None

    def expect_op(self, symbol: str) -> Token:
        tok = self.next()
        if not tok.is_op(symbol):
            raise self.error(tok, symbol)
        return tok

    def ident(self) -> str:
        tok = self.next()
        if tok.kind is not Kind.IDENT:
            raise self.error(tok, "identifier")
        return tok.text

    def ident_list(self) -> tuple[str, ...]:
        names = [self.ident()]
        while self.accept_op(","):
            names.append(self.ident())
        return tuple(names)

    def duration(self) -> int:
        tok = self.next()
        if tok.kind is not Kind.DURATION:
            raise self.error(tok, "duration")
        return parse_duration(tok.text)

    def integer(self, minimum: int = 0) -> int:
        tok = self.next()
        if tok.kind is not Kind.INTEGER:
            raise self.error(tok, "integer")
        value = int(tok.text)
        if value < minimum or value > _INT64_MAX:
            bounds = f"must be {minimum} <= n <= {_INT64_MAX}"
            raise self.fail(tok, f"invalid value {tok.text}: {bounds}")
        return value

    # ------------------------------------------------------------ statements

    def parse_query(self) -> ast.Query:
        statements: list[ast.Statement] = []
        while True:
            while self.accept_op(";"):
                pass
            if self.peek().kind is Kind.EOF:
                return ast.Query(tuple(statements))
            statements.append(self.statement())
            tok = self.peek()
            if tok.kind is not Kind.EOF and not tok.is_op(";"):
                raise self.error(tok, ";")

    def parse_single(self) -> ast.Statement:
        statement = self.statement()
        self.accept_op(";")
        tok = self.peek()
        if tok.kind is not Kind.EOF:
            raise self.error(tok, "EOF")
        return statement

    def parse_single_expr(self) -> ast.Expr:
        expr = self.expr()
        tok = self.peek()
        if tok.kind is not Kind.EOF:
            raise self.error(tok, "EOF")
        return expr

    def statement(self) -> ast.Statement:
        tok = self.next()
        handlers: dict[str, Callable[[], ast.Statement]] = {
            "SELECT": self.select_body,
            "DELETE": self.delete,
            "SHOW": self.show,
            "CREATE": self.create,
            "DROP": self.drop,
            "ALTER": self.alter,
        }
        if tok.kind is Kind.KEYWORD and tok.text in handlers:
            return handlers[tok.text]()
        raise self.error(tok, "SELECT, DELETE, SHOW, CREATE, DROP, ALTER")

    def create(self) -> ast.Statement:
        tok = self.expect_keyword("DATABASE", "RETENTION")
        if tok.text == "DATABASE":
            return self.create_database()
        self.expect_keyword("POLICY")
        return self.create_retention_policy()

    def create_database(self) -> ast.CreateDatabaseStatement:
        name = self.ident()
        if not self.accept_keyword("WITH"):
            return ast.CreateDatabaseStatement(name)
        duration = replication = shard = None
        rp_name = None
        if self.accept_keyword("DURATION"):
            duration = self.rp_duration()
        if self.accept_keyword("REPLICATION"):
            replication = self.integer(minimum=1)
        if self.accept_keyword("SHARD"):
            self.expect_keyword("DURATION")
            shard = self.rp_duration()
        if self.accept_keyword("NAME"):
            rp_name = self.ident()
        if (duration, replication, shard, rp_name) == (None, None, None, None):
            raise self.error(self.peek(), "DURATION, REPLICATION, SHARD, NAME")
        return ast.CreateDatabaseStatement(name, duration, replication, shard, rp_name)

    def rp_duration(self) -> int:
        if self.accept_keyword("INF"):
            return 0
        return self.duration()

    def create_retention_policy(self) -> ast.CreateRetentionPolicyStatement:
        name = self.ident()
        self.expect_keyword("ON")
        database = self.ident()
        self.expect_keyword("DURATION")
        duration = self.rp_duration()
        self.expect_keyword("REPLICATION")
        replication = self.integer(minimum=1)
        shard = None
        if self.accept_keyword("SHARD"):
            self.expect_keyword("DURATION")
            shard = self.rp_duration()
        default = self.accept_keyword("DEFAULT") is not None
        return ast.CreateRetentionPolicyStatement(
            name, database, duration, replication, shard, default
        )

    def alter(self) -> ast.AlterRetentionPolicyStatement:
        self.expect_keyword("RETENTION")
        self.expect_keyword("POLICY")
        name = self.ident()
        self.expect_keyword("ON")
        database = self.ident()
        duration = replication = shard = None
        default = False
        seen = False
        while True:
            tok = self.peek()
            if tok.is_keyword("DURATION"):
                self.next()
                duration = self.rp_duration()
            elif tok.is_keyword("REPLICATION"):
                self.next()
                replication = self.integer(minimum=1)
            elif tok.is_keyword("SHARD"):
                self.next()
                self.expect_keyword("DURATION")
                shard = self.rp_duration()
            elif tok.is_keyword("DEFAULT"):
                self.next()
                default = True
            elif not seen:
                raise self.error(tok, "DURATION, REPLICATION, SHARD, DEFAULT")
            else:
                return ast.AlterRetentionPolicyStatement(
                    name, database, duration, replication, shard, default
                )
            seen = True

    def drop(self) -> ast.Statement:
        tok = self.expect_keyword("DATABASE", "RETENTION", "MEASUREMENT", "SERIES")
        if tok.text == "DATABASE":
            return ast.DropDatabaseStatement(self.ident())
        if tok.text == "MEASUREMENT":
            return ast.DropMeasurementStatement(self.ident())
        if tok.text == "RETENTION":
            self.expect_keyword("POLICY")
            name = self.ident()
            self.expect_keyword("ON")
            return ast.DropRetentionPolicyStatement(name, self.ident())
        start = self.peek()
        sources = self.measurement_list() if self.accept_keyword("FROM") else ()
        condition = self.expr() if self.accept_keyword("WHERE") else None
        if not sources and condition is None:
            raise self.fail(start, "DROP SERIES statement must have FROM or WHERE clause")
        return ast.DropSeriesStatement(sources, condition)

    def delete(self) -> ast.DeleteStatement:
        start = self.peek()
        source = self.measurement() if self.accept_keyword("FROM") else None
        condition = self.expr() if self.accept_keyword("WHERE") else None
        if source is None and condition is None:
            raise self.error(start, "FROM, WHERE")
        return ast.DeleteStatement(source, condition)

    def show(self) -> ast.Statement:
        tok = self.expect_keyword(
            "DATABASES", "FIELD", "MEASUREMENT", "MEASUREMENTS", "RETENTION", "SERIES", "TAG"
        )
        if tok.text == "DATABASES":
            return ast.ShowDatabasesStatement()
        if tok.text == "RETENTION":
            self.expect_keyword("POLICIES")
            return ast.ShowRetentionPoliciesStatement(self.on_database())
        if tok.text == "MEASUREMENTS":
            return self.show_measurements()
        if tok.text == "MEASUREMENT":
            return self.show_cardinality("MEASUREMENT")
        if tok.text == "SERIES" and self.peek().is_keyword("EXACT", "CARDINALITY"):
            return self.show_cardinality("SERIES")
        if tok.text in ("FIELD", "TAG") and self.accept_keyword("KEY"):
            return self.show_cardinality(f"{tok.text} KEY")
        if tok.text == "TAG" and self.peek().is_keyword("VALUES"):
            after = scan(self.src, self.peek().end)
            if after.is_keyword("EXACT", "CARDINALITY"):
                self.next()
                return self.show_cardinality("TAG VALUES")
        if tok.text == "SERIES":
            database = self.on_database()
            sources = self.from_measurements()
            condition = self.where()
            limit, offset = self.limit_offset()
            return ast.ShowSeriesStatement(database, sources, condition, limit, offset)
        if tok.text == "FIELD":
            self.expect_keyword("KEYS")
            database = self.on_database()
            sources = self.from_measurements()
            limit, offset = self.limit_offset()
            return ast.ShowFieldKeysStatement(database, sources, limit, offset)
        kind = self.expect_keyword("KEYS", "VALUES")
        database = self.on_database()
        sources = self.from_measurements()
        if kind.text == "KEYS":
            condition = self.where()
            limit, offset = self.limit_offset()
            return ast.ShowTagKeysStatement(database, sources, condition, limit, offset)
        return self.show_tag_values(database, sources)

    def show_cardinality(self, what: str) -> ast.ShowCardinalityStatement:
        exact = self.accept_keyword("EXACT") is not None
        self.expect_keyword("CARDINALITY")
        database = self.on_database()
        sources = self.from_measurements()
        key_op, regex = "", None
        keys: tuple[str, ...] = ()
        if what == "TAG VALUES":
            key = self.show_tag_values(database, sources)
            key_op, keys, regex = key.key_op, key.keys, key.key_regex
            condition, limit, offset = key.condition, key.limit, key.offset
        else:
            condition = self.where()
            limit, offset = self.limit_offset()
        return ast.ShowCardinalityStatement(
            what, exact, database, sources, condition, key_op, keys, regex, limit, offset
        )

    def show_measurements(self) -> ast.ShowMeasurementsStatement:
        database = self.on_database()
        source = None
        if self.accept_keyword("WITH"):
            self.expect_keyword("MEASUREMENT")
            op = self.next()
            if op.is_op("="):
                source = self.measurement()
            elif op.is_op("=~"):
                tok = scan_regex(self.src, self.pos)
                if tok.kind is not Kind.REGEX:
                    raise self.error(tok, "regex")
                self.pos = tok.end
                source = ast.Measurement(regex=tok.text)
            else:
                raise self.error(op, "=, =~")
        condition = self.where()
        limit, offset = self.limit_offset()
        return ast.ShowMeasurementsStatement(database, source, condition, limit, offset)

    def show_tag_values(
        self, database: str | None, sources: tuple[ast.Measurement, ...]
    ) -> ast.ShowTagValuesStatement:
        self.expect_keyword("WITH")
        self.expect_keyword("KEY")
        op = self.next()
        keys: tuple[str, ...] = ()
        regex = None
        if op.is_op("=", "!=", "<>"):
            keys = (self.ident(),)
        elif op.is_op("=~", "!~"):
            tok = scan_regex(self.src, self.pos)
            if tok.kind is not Kind.REGEX:
                raise self.error(tok, "regex")
            self.pos = tok.end
            regex = tok.text
        elif op.is_keyword("IN"):
            self.expect_op("(")
            keys = self.ident_list()
            self.expect_op(")")
        else:
            raise self.error(op, "=, !=, =~, !~, IN")
        key_op = "!=" if op.text == "<>" else op.text
        condition = self.where()
        limit, offset = self.limit_offset()
        return ast.ShowTagValuesStatement(
            key_op, keys, regex, database, sources, condition, limit, offset
        )

    def on_database(self) -> str | None:
        return self.ident() if self.accept_keyword("ON") else None

    def from_measurements(self) -> tuple[ast.Measurement, ...]:
        return self.measurement_list() if self.accept_keyword("FROM") else ()

    def where(self) -> ast.Expr | None:
        return self.expr() if self.accept_keyword("WHERE") else None

    def limit_offset(self) -> tuple[int, int]:
        limit = self.integer() if self.accept_keyword("LIMIT") else 0
        offset = self.integer() if self.accept_keyword("OFFSET") else 0
        return limit, offset

    # ------------------------------------------------------------ sources

    def measurement_list(self) -> tuple[ast.Measurement, ...]:
        items = [self.measurement()]
        while self.accept_op(","):
            items.append(self.measurement())
        return tuple(items)

    def measurement(self) -> ast.Measurement:
        """``[db.[rp].]name`` where the last segment may be a regex."""
        segments: list[str | None] = []
        while True:
            tok = scan_regex(self.src, self.pos)
            if tok.kind is Kind.REGEX:
                self.pos = tok.end
                return self.qualify(segments, ast.Measurement(regex=tok.text))
            if tok.kind is Kind.IDENT:
                self.pos = tok.end
                segments.append(tok.text)
            elif tok.is_op(".") and segments:
                segments.append(None)  # "db..m": the dot ends an empty rp segment
                self.pos = tok.start
            else:
                raise self.error(tok, "identifier, regex")
            if len(segments) == 3 or not self.accept_op("."):
                break
        name = segments.pop()
        if name is None:
            raise self.error(self.peek(), "identifier")
        return self.qualify(segments, ast.Measurement(name=name))

    def qualify(self, prefix: list[str | None], m: ast.Measurement) -> ast.Measurement:
        if len(prefix) > 2:
            raise self.error(self.peek(), "identifier")
        # Two segments are "rp.measurement"; three are "db.rp.measurement" ("db..m").
        database = prefix[0] if len(prefix) == 2 else None
        rp = prefix[-1] if prefix else None
        return ast.Measurement(m.name, m.regex, database, rp)

    def source(self) -> ast.Source:
        if self.accept_op("("):
            self.expect_keyword("SELECT")
            inner = self.select_body()
            self.expect_op(")")
            return ast.SubQuery(inner)
        return self.measurement()

    # ------------------------------------------------------------ SELECT

    def select_body(self) -> ast.SelectStatement:
        fields = [self.field()]
        while self.accept_op(","):
            fields.append(self.field())
        into = self.measurement() if self.accept_keyword("INTO") else None
        self.expect_keyword("FROM")
        sources = [self.source()]
        while self.accept_op(","):
            sources.append(self.source())
        condition = self.where()
        dimensions: tuple[ast.Dimension, ...] = ()
        if self.accept_keyword("GROUP"):
            self.expect_keyword("BY")
            dimensions = self.dimensions()
        fill, fill_value = self.fill()
        descending = self.order_by()
        limit, offset = self.limit_offset()
        slimit = self.integer() if self.accept_keyword("SLIMIT") else 0
        soffset = self.integer() if self.accept_keyword("SOFFSET") else 0
        timezone = self.timezone()
        return ast.SelectStatement(
            fields=tuple(fields),
            sources=tuple(sources),
            condition=condition,
            dimensions=dimensions,
            fill=fill,
            fill_value=fill_value,
            descending=descending,
            limit=limit,
            offset=offset,
            slimit=slimit,
            soffset=soffset,
            timezone=timezone,
            into=into,
        )

    def field(self) -> ast.Field:
        tok = self.peek()
        if tok.kind is Kind.EOF or tok.is_keyword("FROM"):
            raise self.error(tok, "identifier, string, number, bool")
        expr = self.expr()
        alias = self.ident() if self.accept_keyword("AS") else None
        return ast.Field(expr, alias)

    def dimensions(self) -> tuple[ast.Dimension, ...]:
        dims = [self.dimension()]
        while self.accept_op(","):
            dims.append(self.dimension())
        return tuple(dims)

    def dimension(self) -> ast.Dimension:
        tok = scan_regex(self.src, self.pos)
        if tok.kind is Kind.REGEX:
            self.pos = tok.end
            return ast.Dimension(ast.RegexLiteral(tok.text))
        if tok.is_op("*"):
            self.pos = tok.end
            return ast.Dimension(ast.Wildcard())
        if tok.kind is not Kind.IDENT:
            raise self.error(tok, "identifier, regex, *")
        expr = self.unary()
        if isinstance(expr, ast.Call) and expr.name != "time":
            raise self.fail(tok, "only time() calls allowed in dimensions")
        if isinstance(expr, ast.Call):
            self.check_time_dimension(tok, expr)
        return ast.Dimension(expr)

    def check_time_dimension(self, tok: Token, call: ast.Call) -> None:
        if not 1 <= len(call.args) <= 2:
            raise self.fail(tok, "time dimension expected 1 or 2 arguments")
        if not isinstance(call.args[0], ast.DurationLiteral) or call.args[0].ns <= 0:
            raise self.fail(tok, "time dimension must have duration argument")
        if len(call.args) == 2:
            offset = call.args[1]
            is_now = isinstance(offset, ast.Call) and offset.name == "now" and not offset.args
            if not (isinstance(offset, ast.DurationLiteral) or is_now):
                raise self.fail(tok, "time dimension offset must be duration or now()")

    def fill(self) -> tuple[ast.FillOption, int | float | None]:
        tok = self.peek()
        if not (tok.kind is Kind.IDENT and tok.text.lower() == "fill"):
            return ast.FillOption.NULL, None
        self.next()
        self.expect_op("(")
        arg = self.unary()
        self.expect_op(")")
        if isinstance(arg, ast.VarRef) and arg.type is None:
            names = {o.value: o for o in ast.FillOption if o is not ast.FillOption.NUMBER}
            option = names.get(arg.name.lower())
            if option is not None:
                return option, None
        if isinstance(arg, ast.IntegerLiteral | ast.NumberLiteral):
            return ast.FillOption.NUMBER, arg.value
        raise self.fail(tok, "fill must be a function call")

    def order_by(self) -> bool:
        if not self.accept_keyword("ORDER"):
            return False
        self.expect_keyword("BY")
        tok = self.next()
        if tok.kind is not Kind.IDENT or tok.text.lower() != "time":
            raise self.fail(tok, "only ORDER BY time supported at this time")
        if self.accept_keyword("DESC"):
            return True
        self.accept_keyword("ASC")
        return False

    def timezone(self) -> str | None:
        tok = self.peek()
        if not (tok.kind is Kind.IDENT and tok.text.lower() == "tz"):
            return None
        self.next()
        self.expect_op("(")
        arg = self.next()
        if arg.kind is not Kind.STRING:
            raise self.error(arg, "string")
        self.expect_op(")")
        return arg.text

    # ------------------------------------------------------------ expressions

    def expr(self, min_precedence: int = 1) -> ast.Expr:
        lhs = self.unary()
        while True:
            tok = self.peek()
            op = tok.text if tok.kind in (Kind.OPERATOR, Kind.KEYWORD) else ""
            precedence = _PRECEDENCE.get(op, 0)
            if precedence < min_precedence:
                return lhs
            self.pos = tok.end
            rhs = self.expr(precedence + 1)
            lhs = ast.BinaryExpr("!=" if op == "<>" else op, lhs, rhs)

    def unary(self) -> ast.Expr:
        tok = scan_regex(self.src, self.pos)
        if tok.kind is Kind.REGEX:
            self.pos = tok.end
            return ast.RegexLiteral(tok.text)
        if tok.kind is Kind.BADREGEX:
            raise self.error(tok, "regex")
        tok = self.next()
        if tok.is_op("("):
            inner = self.expr()
            self.expect_op(")")
            return inner
        if tok.is_op("-", "+"):
            return self.signed(tok)
        if tok.is_op("*"):
            return ast.Wildcard(self.cast())
        if tok.is_keyword("DISTINCT"):
            return self.distinct()
        if tok.kind is Kind.IDENT:
            if self.accept_op("("):
                return self.call(tok.text.lower())
            return ast.VarRef(tok.text, self.cast())
        literal = self.literal(tok)
        if literal is None:
            raise self.error(tok, "identifier, string, number, bool")
        return literal

    def literal(self, tok: Token) -> ast.Expr | None:
        if tok.kind is Kind.STRING:
            return ast.StringLiteral(tok.text)
        if tok.kind is Kind.INTEGER:
            value = int(tok.text)
            if value > _INT64_MAX:
                raise self.fail(tok, f"unable to parse integer at line {tok.text}")
            return ast.IntegerLiteral(value)
        if tok.kind is Kind.NUMBER:
            return ast.NumberLiteral(float(tok.text))
        if tok.kind is Kind.DURATION:
            return ast.DurationLiteral(parse_duration(tok.text))
        if tok.kind in (Kind.TRUE, Kind.FALSE):
            return ast.BooleanLiteral(tok.kind is Kind.TRUE)
        if tok.kind is Kind.BOUNDPARAM:
            return ast.BoundParameter(tok.text)
        return None

    def signed(self, sign: Token) -> ast.Expr:
        # "-5" and "-1h" are literals; "-x" means -1 * x, as InfluxQL reads it.
        tok = self.peek()
        literal = (
            self.literal(self.next())
            if tok.kind in (Kind.INTEGER, Kind.NUMBER, Kind.DURATION)
            else None
        )
        if sign.text == "+":
            return literal if literal is not None else self.unary()
        if isinstance(literal, ast.IntegerLiteral):
            return ast.IntegerLiteral(-literal.value)
        if isinstance(literal, ast.NumberLiteral):
            return ast.NumberLiteral(-literal.value)
        if isinstance(literal, ast.DurationLiteral):
            return ast.DurationLiteral(-literal.ns)
        if tok.kind is Kind.IDENT or tok.is_op("("):
            return ast.BinaryExpr("*", ast.IntegerLiteral(-1), self.unary())
        raise self.error(tok, "identifier or number")

    def cast(self) -> str | None:
        if not self.accept_op("::"):
            return None
        tok = self.next()
        if tok.kind is Kind.KEYWORD and tok.text in ("FIELD", "TAG"):
            return tok.text.lower()
        if tok.kind is Kind.IDENT and tok.text.lower() in _CASTS:
            return tok.text.lower()
        raise self.error(tok, "float, integer, unsigned, string, boolean, field, tag")

    def distinct(self) -> ast.Call:
        if self.accept_op("("):
            return self.call("distinct")
        tok = self.next()
        if tok.kind is not Kind.IDENT:
            raise self.error(tok, "identifier")
        return ast.Call("distinct", (ast.VarRef(tok.text),))

    def call(self, name: str) -> ast.Call:
        if self.accept_op(")"):
            return ast.Call(name)
        args = [self.expr()]
        while self.accept_op(","):
            args.append(self.expr())
        self.expect_op(")")
        return ast.Call(name, tuple(args))

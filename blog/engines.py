"""Database connections: SQLite's pragmas, idle checks, and the readers' own connections.

Writes go through the ORM session on `db.engine`, one transaction each. On PostgreSQL the
statements readers' pages are made of (the content version, an article, a listing page) run
on a second engine whose connections stay in autocommit and reuse one plan per statement:

- autocommit, because a transaction around one read costs a BEGIN and a ROLLBACK, two more
  round trips than the read, and switching a pooled connection in and out of autocommit
  costs the driver a little on every page;
- one generic plan, because the planner would otherwise plan a listing afresh on every
  execution (its custom plans look cheaper on paper), which costs more than running it.
  tests/test_query_plans.py checks the generic plans these statements get;
- sessions in UTC, so that psycopg reads every instant as aware UTC itself and the rows
  need no conversion afterwards (in the server's own zone, Etc/UTC here, each instant was
  read in that zone and then converted: 6% of a day archive's instructions).

On SQLite a read begins no transaction and plans are cheap, so readers use `db.engine`.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask, current_app
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

from .extensions import db
from .models import UTCDateTime

READER = "blog.reader_engine"


def init_app(app: Flask) -> None:
    """Set up the app's connections (inside an app context)."""
    engine = db.engine
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
        return
    pools = [engine]
    if engine.dialect.name == "postgresql":
        app.extensions[READER] = _reader_engine(engine, options)
        pools.append(app.extensions[READER])
    if not options.get("pool_pre_ping"):
        for pool in pools:
            _ping_when_idle(pool)


def reader() -> sa.Engine:
    """Return the engine for readers' single-statement reads (see the module's note)."""
    return current_app.extensions.get(READER) or db.engine


def dispose(app: Flask, close: bool = True) -> None:
    """Let go of every pooled connection; close=False after a fork, as SQLAlchemy advises."""
    with app.app_context():
        db.engine.dispose(close=close)
    reader_engine = app.extensions.get(READER)
    if reader_engine is not None:
        reader_engine.dispose(close=close)


class PlainSelect:
    """A readers' SELECT run by the driver alone: SQLAlchemy writes it, and stays out.

    SQLAlchemy's execution path (an execution context, a result, a Row for each row) costs
    more than a small indexed read costs the database: run this way, a day's listing on
    SQLite took 90-150 µs instead of 230. The statements pages are made of are compiled once
    per dialect and run directly; values still pass through their column types' own bind
    and result processors, so rows hold what `Connection.execute` would give, as tuples.

    On PostgreSQL the statement is prepared once per connection and run with one libpq
    call, its values dumped and its rows read by psycopg's own adapters: through psycopg's
    cursor, an article's read cost the worker about 40-60 µs more.

    `sqlite`, when given, is the statement to run on SQLite instead: the same columns,
    written for its planner.
    """

    def __init__(self, statement: sa.Select[Any], *, sqlite: sa.Select[Any] | None = None) -> None:
        self.statement = statement
        self._by_dialect = {"sqlite": sqlite} if sqlite is not None else {}
        self._plans: dict[tuple[str, str], _Plan] = {}

    def statement_for(self, dialect: sa.Dialect) -> sa.Select[Any]:
        """Return the statement this runs on the dialect's databases."""
        return self._by_dialect.get(dialect.name, self.statement)

    def rows(self, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run the statement with `params` on a pooled readers' connection; return every row.

        Always the readers' engine: on PostgreSQL its sessions are the UTC ones the compiled
        plan counts on (see `_read_as_utc`).
        """
        engine = reader()
        dialect = engine.dialect
        plan = self._plans.get((dialect.name, dialect.driver)) or self._compile(dialect)
        connection = engine.raw_connection()
        try:
            if plan.prepared_name:
                rows = _run_prepared(connection, plan, plan.parameters(params))
            else:
                cursor = connection.cursor()
                try:
                    cursor.execute(plan.sql, plan.parameters(params))
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
        except dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy would: a connection the server dropped leaves the pool.
            if dialect.is_disconnect(error, connection.dbapi_connection, None):
                connection.invalidate(error)
            raise
        finally:
            connection.close()
        return plan.convert(rows)

    def _compile(self, dialect: sa.Dialect) -> _Plan:
        statement = self.statement_for(dialect)
        compiled = statement.compile(dialect=dialect)
        processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        results = [
            None
            if _read_as_utc(column.type, dialect)
            else column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]
        sql, positions, name = compiled.string, compiled.positiontup, b""
        if dialect.driver == "psycopg":
            sql, positions = _numbered(sql)
            name = b"blog_" + hashlib.sha256(sql.encode()).hexdigest()[:16].encode()
        plan = _Plan(
            sql,
            compiled.params,  # the statement's own values (SQLite's OFFSET 0, say)
            positions,
            processors,
            [(index, process) for index, process in enumerate(results) if process],
            name,
        )
        self._plans[(dialect.name, dialect.driver)] = plan
        return plan


def _read_as_utc(column_type: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> bool:
    """Tell whether psycopg already reads this column as UTCDateTime would make it.

    On PostgreSQL plain selects run on the readers' connections, whose sessions are in UTC
    (see `_reader_engine`): psycopg gives aware UTC instants, which is all UTCDateTime's
    conversion would do, and a listing then needs no pass over its rows.
    """
    return dialect.driver == "psycopg" and isinstance(column_type, UTCDateTime)


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for one dialect, with what adapts values to and from it."""

    sql: str
    defaults: dict[str, Any]
    positions: Sequence[str] | None  # parameter names in order, for a positional paramstyle
    bind: dict[str, Callable[[Any], Any]]
    results: list[tuple[int, Callable[[Any], Any]]]
    prepared_name: bytes  # PostgreSQL: the name it is prepared under on each connection

    def parameters(self, params: dict[str, Any]) -> Any:
        values = {**self.defaults, **params}
        for name, process in self.bind.items():
            values[name] = process(values[name])
        return values if self.positions is None else [values[name] for name in self.positions]

    def convert(self, rows: list[Any]) -> list[tuple[Any, ...]]:
        if not self.results:
            return rows
        converted = []
        for row in rows:
            values = list(row)
            for index, process in self.results:
                values[index] = process(values[index])
            converted.append(tuple(values))
        return converted


_NAMED_PARAMETER = re.compile(r"%\((\w+)\)s")


def _numbered(sql: str) -> tuple[str, list[str]]:
    """Rewrite psycopg's %(name)s parameters as libpq's $1, $2...; return their names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _NAMED_PARAMETER.sub(number, sql).replace("%%", "%"), names


def _run_prepared(connection: Any, plan: _Plan, values: list[Any]) -> list[tuple[Any, ...]]:
    """Run a psycopg plan on a pooled connection: values as text, typed by the statement."""
    driver = connection.driver_connection
    transformer = Transformer(driver)
    texts = transformer.dump_sequence(values, [PyFormat.TEXT] * len(values))
    result = run_prepared(driver, connection.info, plan.prepared_name, plan.sql, texts)
    transformer.set_pgresult(result)
    return transformer.load_rows(0, result.ntuples, tuple)


def run_prepared(
    driver: psycopg.Connection[Any],
    info: dict[str, Any],
    name: bytes,
    sql: str,
    values: Sequence[bytes | None] = (),
) -> pq.abc.PGresult:
    """Run a statement prepared once per connection under `name` (one libpq call).

    `info` lives as long as the connection does and remembers what is prepared on it. A
    statement dropped behind our back (DEALLOCATE ALL, a pooler's reset) is prepared again.
    """
    pgconn = driver.pgconn
    key = "blog.prepared:" + name.decode()
    result = pgconn.exec_prepared(name, values) if info.get(key) else None
    if result is None or result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
        _check(driver, pgconn.prepare(name, sql.encode()))
        info[key] = True
        result = pgconn.exec_prepared(name, values)
    _check(driver, result, pq.ExecStatus.TUPLES_OK)
    return result


def _check(
    driver: psycopg.Connection[Any],
    result: pq.abc.PGresult,
    status: pq.ExecStatus = pq.ExecStatus.COMMAND_OK,
) -> None:
    if result.status != status:
        raise psycopg.errors.error_from_result(result, encoding=driver.info.encoding)


def _reader_engine(engine: sa.Engine, options: dict[str, Any]) -> sa.Engine:
    reader = sa.create_engine(
        engine.url,
        **{
            **options,
            "isolation_level": "AUTOCOMMIT",
            # Nothing to roll back on an autocommit connection.
            "pool_reset_on_return": None,
        },
    )

    # SETs, not startup options: the URL's own options (a search_path, say) stay as they
    # are, and PgBouncer passes them through.
    @sa.event.listens_for(reader, "connect")
    def _reader_session(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()

    return reader


def _sqlite_pragmas(engine: sa.Engine) -> None:
    """Give every SQLite connection WAL, a busy timeout and foreign keys."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# A server connection used this recently has just proved itself; one idle longer is asked.
IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Replace a dead server connection (after a restart, say) before a request gets it.

    pool_pre_ping would ask the server on every checkout, two more round trips for every
    page served; under steady traffic connections are seconds old at most, so only a
    connection that has sat idle is asked, and one that does not answer is replaced.
    """

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        connection_record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, connection_record: Any, proxy: Any) -> None:
        if dbapi_connection.closed:  # the driver already saw it fail
            raise sa.exc.DisconnectionError("connection closed")
        since = connection_record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            if not dbapi_connection.autocommit:
                dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out a new one.
            raise sa.exc.DisconnectionError(str(error)) from error

"""Whether the database has the schema this code needs: migrated up to SCHEMA_REVISION."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

# The newest migration this code reads and writes by (a test holds it to the newest there is).
SCHEMA_REVISION = "0010"


def problem() -> str | None:
    """Say what keeps the database from serving this code, or None when it is ready.

    A database migrated further than this code knows is ready: in a rolling upgrade, hosts
    not yet restarted go on serving once the first one has migrated. Raises SQLAlchemyError
    when the database does not answer at all.
    """
    try:
        with db.engine.connect() as connection:
            found = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        with db.engine.connect() as connection:
            if sa.inspect(connection).has_table("alembic_version"):
                raise
        return "the database has no tables yet: run flask db upgrade"
    if found is None or not found.isdigit() or int(found) < int(SCHEMA_REVISION):
        return (
            f"the database is at revision {found} and this code needs {SCHEMA_REVISION}:"
            " run flask db upgrade"
        )
    return None

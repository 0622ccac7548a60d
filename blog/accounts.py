"""User names: two names that differ only in case belong to one person, not two."""

from __future__ import annotations

import sqlalchemy as sa

from .extensions import db
from .models import User


def name_key(name: str) -> str:
    """Return the form under which user names are compared (sign-in limits count by it too)."""
    return name.casefold()


def same_name(name: str) -> str | None:
    """Return an existing user name equal to name ignoring case, or None when it is free."""
    # Compared in Python: SQL lower() folds only ASCII on SQLite (and under PostgreSQL's C
    # locale), so "Çelik" and "çelik" would pass. There are few users; this is no hot path.
    # No unique index on lower(username): existing databases may already hold such pairs.
    key = name_key(name)
    for username in db.session.scalars(sa.select(User.username)):
        if name_key(username) == key:
            return username
    return None

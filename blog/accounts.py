"""User names and passwords: the rules every way of creating a user applies.

Two names that differ only in case belong to one person, not two.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from .extensions import db
from .models import User

MAX_USERNAME_LENGTH = 64
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 200
_USERNAME = re.compile(r"[\w.-]+")


def check_username(name: str) -> None:
    """Raise ValueError saying how to fix a user name the site refuses for a new user."""
    if not name:
        raise ValueError("Enter a username.")
    if len(name) > MAX_USERNAME_LENGTH:
        raise ValueError(f"Keep the username to {MAX_USERNAME_LENGTH} characters or fewer.")
    if not _USERNAME.fullmatch(name):
        raise ValueError("Use letters, digits, dots, dashes and underscores.")


def check_password(password: str) -> None:
    """Raise ValueError saying how to fix a new password the site refuses."""
    if password and not password.strip():
        raise ValueError("Use a password that is not only spaces.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"Keep the password to {MAX_PASSWORD_LENGTH} characters or fewer.")


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

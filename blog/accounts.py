"""User names and passwords, the rules every way of creating a user applies, and sign-ins.

Two names that differ only in case belong to one person, not two.

A session signs its browser in only while its row in sign_ins lives (models.SignIn): the
session cookie is signed but kept by the browser, so without the row a copy of it would
sign its holder in after its owner signed out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from . import content
from .dates import utcnow
from .extensions import db
from .models import SignIn, User

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
    if not name.strip("."):
        raise ValueError("Use at least one letter or digit: a name of dots alone is no address.")


def has_page(name: str) -> bool:
    """Tell whether a user name can stand in an author page's address: one the site takes
    for a new user (older rows may hold others, such as '/' or a name of dots alone, which
    a browser would read as steps along the path)."""
    try:
        check_username(name)
    except ValueError:
        return False
    return True


def check_password(password: str) -> None:
    """Raise ValueError saying how to fix a new password the site refuses."""
    if password and not password.strip():
        raise ValueError("Use a password that is not only spaces.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError(f"Keep the password to {MAX_PASSWORD_LENGTH} characters or fewer.")


def name_key(name: str) -> str:
    """Return the form under which user names are compared (sign-in limits count by it too):
    two names that differ in it alone would look the same in a byline."""
    return content.folded(name)


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


def start_sign_in(user: User, replaced: str | None = None) -> str:
    """Record a new signed-in browser; return the token its session keeps.

    `replaced` is the token of the sign-in this browser had before, which ends. Sign-ins
    older than SIGN_IN_DAYS are cleared away while at it: they sign no one in.
    """
    if replaced is not None:
        end_sign_in(replaced)
    db.session.execute(sa.delete(SignIn).where(SignIn.created_at < _oldest_kept()))
    token = secrets.token_urlsafe(32)
    db.session.add(
        SignIn(
            user_id=user.id,
            token_digest=_digest(token),
            password_digest=_digest(user.password_hash),
        )
    )
    return token


def signed_in_user(user_id: int, token: str) -> User | None:
    """Return the active user a session's token signs in, or None.

    None when the token names no sign-in of that user (signed out, or ended by a password
    change or deactivation), one older than SIGN_IN_DAYS, or one made under another password.
    """
    found = db.session.execute(
        sa.select(User, SignIn.created_at, SignIn.password_digest)
        .join(SignIn, SignIn.user_id == User.id)
        .where(User.id == user_id, SignIn.token_digest == _digest(token))
    ).first()
    if found is None:
        return None
    user, created_at, password_digest = found
    if not user.active or created_at < _oldest_kept():
        return None
    if not hmac.compare_digest(password_digest, _digest(user.password_hash)):
        return None
    return user


def change_password(user: User, password: str, keep: str | None = None) -> None:
    """Set a user's password and sign them out everywhere but the browser whose token is `keep`."""
    user.set_password(password)
    end_sign_ins(user, keep)
    if keep is not None:
        db.session.execute(
            sa.update(SignIn)
            .where(SignIn.token_digest == _digest(keep), SignIn.user_id == user.id)
            .values(password_digest=_digest(user.password_hash))
        )


def end_sign_in(token: str) -> None:
    """Forget one signed-in browser: its session, or any copy of it, signs no one in."""
    db.session.execute(sa.delete(SignIn).where(SignIn.token_digest == _digest(token)))


def end_sign_ins(user: User, keep: str | None = None) -> None:
    """Sign the user out everywhere, except the browser whose token is `keep`."""
    stmt = sa.delete(SignIn).where(SignIn.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(SignIn.token_digest != _digest(keep))
    db.session.execute(stmt)


def _oldest_kept() -> datetime:
    """Return when the oldest sign-in that still signs anyone in was made."""
    return utcnow() - timedelta(days=current_app.config["SIGN_IN_DAYS"])


def _digest(secret: str) -> str:
    # A stolen copy of the table signs no one in: only the digest of each token is kept.
    return hashlib.sha256(secret.encode()).hexdigest()

"""Sign in and out.

Failed sign-ins are rate-limited twice: per account (LOGIN_LIMITS, default 5 a minute), which
stops guessing one person's password, and per address (LOGIN_ADDRESS_LIMITS, default 30 a
minute), which stops one client spraying many accounts while leaving room for a newsroom
behind one NAT address. Only failed attempts count, so signing in never locks anyone out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash

from .. import accounts
from ..extensions import db, limiter, login_manager
from ..forms import LoginForm, one_line
from ..models import MAX_ID, User

bp = Blueprint("auth", __name__, url_prefix="/auth")

DEFAULT_ADDRESS_LIMITS = "30 per minute"
TOO_MANY_ATTEMPTS = "Too many failed sign-in attempts. Please wait a minute, then try again."
WRONG_CREDENTIALS = "Wrong username or password."
SIGN_IN_KEY = "sign_in"
# Checked when no such user exists, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = (
    "scrypt:32768:8:1$X6o9Zm25AfpWai82$3c22baa5f2bc59c79f530f10df3240169d7be1f446719799dcfb85d3"
    "4d19512e0d1c7cdff1238a241f0782a759069216ead5e96622edb0f91cd6b9eeb66a2702"
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the signed-in user for a session, or None when it no longer signs anyone in."""
    token = sign_in_token()
    if token is None or not user_id.isdigit() or int(user_id) > MAX_ID:
        return None
    return accounts.signed_in_user(int(user_id), token)


def sign_in_token() -> str | None:
    """Return the token of this browser's sign-in (see accounts.start_sign_in)."""
    token = session.get(SIGN_IN_KEY)
    return token if isinstance(token, str) else None


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None."""
    if not target or len(target) > 2000:
        return None
    # Browsers read a backslash as a slash and drop tabs and newlines: "/\\evil", "/\t/evil".
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


# The one count of an account's wrong passwords, shared by every form that asks for one.
ACCOUNT_SCOPE = "account-passwords"


def account_key(name: str) -> str:
    """The key an account's wrong passwords count under, wherever its password is asked."""
    return "login-account:" + accounts.name_key(name)[:64]


def _account_key() -> str:
    # Read as the form reads it, or "al\x01ice" would be a new account to the limit and
    # still sign in as "alice".
    return account_key(one_line(request.form.get("username") or ""))


def _address_key() -> str:
    return "login-address:" + (get_remote_address() or "unknown")


def account_limit() -> str:
    return str(current_app.config["LOGIN_LIMITS"])


def _address_limit() -> str:
    return str(current_app.config.get("LOGIN_ADDRESS_LIMITS", DEFAULT_ADDRESS_LIMITS))


def failed(response: Response) -> bool:
    """Whether a request asked with a wrong password (it set g.login_failed)."""
    return bool(g.get("login_failed"))


_only_failures = {
    "methods": ["POST"],
    "deduct_when": failed,
    "error_message": TOO_MANY_ATTEMPTS,
}


@bp.route("/login", methods=["GET", "POST"])
@limiter.shared_limit(account_limit, ACCOUNT_SCOPE, key_func=_account_key, **_only_failures)
@limiter.limit(_address_limit, key_func=_address_key, **_only_failures)
def login() -> str | Response | tuple[str, int]:
    """Show the sign-in form and sign the user in."""
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(target or url_for("admin.index"))
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, target, 422 if form.is_submitted() else 200)
    stmt = sa.select(User).where(User.username == form.username.data)
    user = db.session.scalar(stmt)
    if user is None:
        check_password_hash(_DUMMY_HASH, form.password.data or "")
    elif user.check_password(form.password.data or ""):
        if not user.active:
            # The password was right, so saying why tells a stranger nothing new.
            form.form_errors.append("This account is disabled. Ask an administrator.")
            return _login_page(form, target, 403)
        # A browser signed in already (as someone else, say) ends that sign-in first.
        session[SIGN_IN_KEY] = accounts.start_sign_in(user, replaced=sign_in_token())
        db.session.commit()
        login_user(user)
        flash(f"Signed in as {user.username}.", "info")
        return redirect(target or url_for("admin.index"), 303)
    g.login_failed = True
    form.form_errors.append(WRONG_CREDENTIALS)
    return _login_page(form, target, 200)


@bp.post("/logout")
def logout() -> Response:
    """Sign the user out: this browser's session, and any copy of it, signs no one in."""
    token = sign_in_token()
    if token is not None:
        accounts.end_sign_in(token)
        db.session.commit()
    session.pop(SIGN_IN_KEY, None)
    logout_user()
    flash("Signed out.", "info")
    return redirect(url_for("home.index"), 303)


@bp.errorhandler(429)
def _too_many_attempts(error: HTTPException) -> tuple[str, int]:
    """Answer a locked sign-in with the form again, the name kept, and how long to wait."""
    form = LoginForm()
    form.form_errors.append(TOO_MANY_ATTEMPTS)
    return _login_page(form, safe_next(request.args.get("next")), 429)


def _login_page(form: LoginForm, target: str | None, status: int) -> tuple[str, int]:
    return render_template("auth/login.html", form=form, next=target), status

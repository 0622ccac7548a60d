"""User management for admins: create users, change roles, deactivate, reset passwords."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import accounts
from ..extensions import db
from ..forms import PasswordResetForm, UserCreateForm, UserUpdateForm
from ..models import MAX_ID, User
from .auth import sign_in_token

# Nested under the admin blueprint, which has already required a signed-in user.
bp = Blueprint("users", __name__, url_prefix="/users")


@bp.before_request
def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only administrators can manage users.")


@bp.get("/")
def index() -> str:
    """List the users, with a form to create one."""
    return _index_page(UserCreateForm())[0]


@bp.post("/")
def create() -> Response | tuple[str, int]:
    """Create a user."""
    form = UserCreateForm()
    if not form.validate():
        return _index_page(form, 422)
    username = form.username.data or ""
    existing = accounts.same_name(username)
    if existing is not None:
        form.username.errors = [_taken_message(username, existing)]
        return _index_page(form, 422)
    user = User(username=username, role=form.role.data, active=True)
    user.set_password(form.password.data or "")
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        # Another admin created the same name between our check and our insert.
        db.session.rollback()
        form.username.errors = ["That username is taken."]
        return _index_page(form, 422)
    flash(f"Created {user.role} “{user.username}”.", "info")
    return redirect(url_for("admin.users.index"), 303)


@bp.get("/<int:user_id>")
def show(user_id: int) -> str:
    """Show a user's role, status and password reset forms."""
    user = _user_or_404(user_id)
    update = UserUpdateForm(data={"role": user.role, "active": user.active})
    return _user_page(user, update, PasswordResetForm())[0]


@bp.post("/<int:user_id>")
def update(user_id: int) -> Response | tuple[str, int]:
    """Change a user's role or whether they may sign in."""
    user = _user_or_404(user_id)
    form = UserUpdateForm()
    if not form.validate():
        return _user_page(user, form, PasswordResetForm(formdata=None), 422)
    if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
        # Keeps at least one admin: the one making the change.
        form.form_errors.append(
            "You cannot take away your own admin role or deactivate yourself. "
            "Ask another administrator."
        )
        return _user_page(user, form, PasswordResetForm(formdata=None), 422)
    user.role = form.role.data or user.role
    user.active = bool(form.active.data)
    if not user.active:
        # Signed out everywhere: turned active again, they sign in afresh.
        accounts.end_sign_ins(user)
    db.session.commit()
    state = "active" if user.active else "deactivated"
    flash(f"“{user.username}” is now {_with_article(user.role)} ({state}).", "info")
    return redirect(url_for("admin.users.show", user_id=user.id), 303)


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password for a user; their open sessions end."""
    user = _user_or_404(user_id)
    form = PasswordResetForm()
    if not form.validate():
        update = UserUpdateForm(formdata=None, data={"role": user.role, "active": user.active})
        return _user_page(user, update, form, 422)
    # Their open sessions end; an admin resetting their own keeps this one.
    keep = sign_in_token() if user.id == current_user.id else None
    accounts.change_password(user, form.new_password.data or "", keep=keep)
    db.session.commit()
    flash(f"Set a new password for “{user.username}”. Tell them in person.", "info")
    return redirect(url_for("admin.users.show", user_id=user.id), 303)


def _with_article(role: str) -> str:
    """Put 'a' or 'an' before a role name: 'an admin', 'an editor', 'an author'."""
    return f"{'an' if role[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {role}"


def _taken_message(username: str, existing: str) -> str:
    if existing == username:
        return "That username is taken."
    # Bylines would look alike, and sign-in limits would count the two as one.
    return (
        f"That username is taken: “{existing}” looks the same and differs only in case"
        " or letter forms."
    )


def _index_page(form: UserCreateForm, status: int = 200) -> tuple[str, int]:
    users = db.session.scalars(sa.select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=users, form=form), status


def _user_page(
    user: User, update: UserUpdateForm, reset: PasswordResetForm, status: int = 200
) -> tuple[str, int]:
    return render_template("admin/user.html", user=user, update=update, reset=reset), status


def _user_or_404(user_id: int) -> User:
    if not 0 < user_id <= MAX_ID:
        abort(404)
    return db.get_or_404(User, user_id)

"""The authoring pages: the article list, the article form with preview, the trash, passwords.

Every page here needs a signed-in user. Authors reach only their own articles: anyone else's
answers 404, whether asked for by URL or by POST, and nothing changes. Users and Hijri
month starts live in child blueprints (admin_users, admin_hijri) that share this sign-in check.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import accounts, articles, authoring, content, dates, errors, publishing
from ..extensions import db, limiter, login_manager
from ..forms import ArticleForm, PasswordChangeForm
from ..models import MAX_ID, Article, User
from ..site import now, origin, zone
from . import admin_hijri, admin_users, auth
from .auth import safe_next, sign_in_token

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.register_blueprint(admin_users.bp)
bp.register_blueprint(admin_hijri.bp)


ARTICLE_FORMS = ("admin.new", "admin.edit")
TOO_MANY_PASSWORDS = "Too many wrong passwords. Please wait a minute, then try again."
SIGNED_OUT = "You were signed out before you saved (perhaps in another tab)."
OTHER_USER = "Someone else has signed in on this browser since the form was opened."
NOT_EDITABLE = (
    "This article is not one you may edit, or no longer: your role may have changed since"
    " the form was opened."
)
FORM_EXPIRED = (
    "This form had expired: it was open a long time, the browser lost the site's cookie,"
    " or the site's secret key changed since it was opened."
)
FORM_UNREADABLE = (
    "The form's text could not be read: it was not sent as UTF-8, as browsers send it."
)


@bp.before_request
def _require_sign_in() -> Response | tuple[str, int] | None:
    if not current_user.is_authenticated:
        if request.method == "POST" and request.endpoint in ARTICLE_FORMS:
            return _unsaved(SIGNED_OUT, 401)
        if request.method == "POST":
            # A button's address (delete, restore) answers POST alone: after signing in,
            # come back to the page the button was on, not to a 405.
            flash(login_manager.login_message, login_manager.login_message_category)
            back = _page_sent_from() or url_for("admin.index")
            return redirect(url_for("auth.login", next=back), 303)
        return login_manager.unauthorized()
    if request.method == "POST" and request.endpoint in ARTICLE_FORMS:
        opened_by = request.form.get("opened_by")
        if opened_by and opened_by != str(current_user.id):
            return _unsaved(OTHER_USER, 409)
    return None


def _unreadable() -> bool:
    """Tell whether a form came with a body of which werkzeug could read no field.

    Werkzeug drops every field of a form whose bytes are not UTF-8, the token too; only a
    hand-made request sends one, and it was refused as if it had expired.
    """
    form_body = request.mimetype == "application/x-www-form-urlencoded"
    return form_body and bool(request.content_length) and not request.form


def _page_sent_from() -> str | None:
    """Return the path of this site's page a form was sent from, from its Referer."""
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # "http://[x": an unclosed IPv6 bracket, from no browser
        return None
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.app_errorhandler(CSRFError)
def _form_refused(error: CSRFError) -> tuple[str, int] | CSRFError:
    """Answer a form whose CSRF check failed; an article's text is shown back, not lost."""
    reason = error.description or ""
    current_app.logger.info("Form refused by the CSRF check: %s (%s)", reason, request.path)
    if "referrer" in reason.lower():
        # Not an old form: HTTPS without a Referer, or a proxy the site does not see through.
        said = f"The site could not tell that this form came from one of its own pages: {reason}"
    elif _unreadable():
        said = FORM_UNREADABLE
    else:
        said = FORM_EXPIRED
    if request.endpoint in ARTICLE_FORMS:
        return _unsaved(said, 400)
    error.description = f"{said} Nothing was changed. Go back, reload the page and send it again."
    return errors.http_error(error)


# The article form's text fields, as the page showing unsaved text labels them.
UNSAVED_FIELDS = (
    ("title", "Title"),
    ("slug", "Slug"),
    ("summary", "Summary"),
    ("tags", "Tags"),
    ("published_at", "Publish time"),
    ("body", "Body"),
)


def _unsaved(reason: str, status: int, *, sign_in_helps: bool = True) -> tuple[str, int]:
    """Show the text of an article form that could not be saved, so that none of it is lost.

    Only to a post from one of the site's own pages: shown to a post from elsewhere, the
    page would let another site put words of its choosing on this one. Where signing in
    again would not help (`sign_in_helps`), the page says to start a new article instead.
    """
    same_site = request.headers.get("Sec-Fetch-Site") == "same-origin" or (
        request.headers.get("Origin") == origin()
    )
    typed = [
        (name, label, content.without_controls(request.form.get(name, "")))
        for name, label in UNSAVED_FIELDS
    ]
    page = render_template(
        "admin/unsaved.html",
        reason=reason,
        typed=typed if same_site else None,
        sign_in=url_for("auth.login", next=request.full_path.rstrip("?"))
        if sign_in_helps
        else None,
        new_article=url_for("admin.new"),
    )
    return page, status


@bp.get("/")
def index() -> str | Response:
    """List the articles the user may edit, newest first."""
    return _desk(in_trash=False)


@bp.get("/trash")
def trash() -> str | Response:
    """List the articles in the trash that the user may restore."""
    return _desk(in_trash=True)


@bp.route("/articles/new", methods=["GET", "POST"])
def new() -> str | Response | tuple[str, int]:
    """Write a new article."""
    form = ArticleForm()
    if not form.is_submitted():
        return _form_page(form, None)
    return _submit(form, None)


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
def edit(article_id: int) -> str | Response | tuple[str, int]:
    """Change an article."""
    if request.method != "POST":
        article = _editable(article_id)
        return _form_page(ArticleForm(data=_form_data(article)), article)
    stored = articles.get_article(article_id)
    if stored is None:
        # Deleted for good while the form was open: keep the text, offer it as a new article.
        form = ArticleForm()
        form.version.data = ""
        return _form_page(form, None, conflict=True, status=409)
    if not current_user.may_edit(stored):
        # An editor made an author while the form was open, say: the text is kept.
        # Answered as an article that is not there, as it is to anyone it is not for.
        return _unsaved(NOT_EDITABLE, 404, sign_in_helps=False)
    return _submit(ArticleForm(), stored)


@bp.post("/articles/<int:article_id>/delete")
def delete(article_id: int) -> Response:
    """Move an article to the trash."""
    article = _editable(article_id)
    try:
        authoring.trash(article, now())
    except authoring.Conflict:
        flash("The article changed while you deleted it. Please try again.", "error")
        return redirect(url_for("admin.index"), 303)
    flash(f"Moved “{article.title}” to the trash. You can restore it from there.", "info")
    return redirect(url_for("admin.index"), 303)


@bp.post("/articles/<int:article_id>/restore")
def restore(article_id: int) -> Response:
    """Take an article out of the trash."""
    article = _editable(article_id)
    try:
        authoring.restore(article)
    except authoring.Conflict:
        flash("The article changed while you restored it. Please try again.", "error")
        return redirect(url_for("admin.trash"), 303)
    flash(f"Restored “{article.title}”.", "info")
    return redirect(url_for("admin.trash"), 303)


@bp.get("/articles/<int:article_id>/purge")
def confirm_purge(article_id: int) -> str:
    """Ask before deleting an article for good: nothing brings it back."""
    return render_template("admin/purge.html", article=_purgeable(article_id))


@bp.post("/articles/<int:article_id>/purge")
def purge(article_id: int) -> Response:
    """Delete an article from the trash for good (editors and admins)."""
    article = _purgeable(article_id)
    title = article.title
    try:
        authoring.purge(article)
    except authoring.Conflict:
        flash("The article changed while you deleted it. Please try again.", "error")
        return redirect(url_for("admin.trash"), 303)
    flash(f"Deleted “{title}” for good.", "info")
    return redirect(url_for("admin.trash"), 303)


def _own_account_key() -> str:
    # The limiter asks before the sign-in is checked; an anonymous request counts nothing.
    if not current_user.is_authenticated:
        return "password-change:anonymous"
    return auth.account_key(current_user.username)


@bp.route("/password", methods=["GET", "POST"])
# Wrong current passwords count with wrong sign-ins: one browser left signed in must not
# let anyone at it guess the password without end.
@limiter.shared_limit(
    auth.account_limit,
    auth.ACCOUNT_SCOPE,
    key_func=_own_account_key,
    methods=["POST"],
    deduct_when=auth.failed,
    error_message=TOO_MANY_PASSWORDS,
)
def password() -> str | Response | tuple[str, int]:
    """Change the signed-in user's own password."""
    form = PasswordChangeForm()
    user = _user()
    if form.validate_on_submit():
        if user.check_password(form.current_password.data or ""):
            # Any other browser signed in as this user, a lost phone say, is signed out.
            accounts.change_password(user, form.new_password.data or "", keep=sign_in_token())
            db.session.commit()
            flash("Your password has been changed.", "info")
            return redirect(url_for("admin.index"), 303)
        g.login_failed = True
        form.current_password.errors = ["That is not your current password."]
    status = 422 if form.is_submitted() else 200
    return render_template("admin/password.html", form=form), status


@bp.errorhandler(429)
def _too_many_passwords(error: HTTPException) -> tuple[str, int] | HTTPException:
    """Answer a locked password change with its form again, and how long to wait."""
    if request.endpoint != "admin.password":
        return errors.http_error(error)
    form = PasswordChangeForm()
    form.form_errors.append(TOO_MANY_PASSWORDS)
    return render_template("admin/password.html", form=form), 429


def _desk(in_trash: bool) -> str | Response:
    before, after = _id_arg("before"), _id_arg("after")
    if before is not None and after is not None:
        abort(404)
    page = authoring.desk_page(
        _user(), current_app.config["PER_PAGE"], in_trash=in_trash, before=before, after=after
    )
    if page is None:
        return redirect(url_for(request.endpoint or "admin.index"))
    if (before is not None or after is not None) and not page.items:
        abort(404)
    return render_template(
        "admin/index.html", page=page, in_trash=in_trash, state_of=authoring.state_of
    )


def _submit(form: ArticleForm, article: Article | None) -> str | Response | tuple[str, int]:
    if not form.validate():
        return _form_page(form, article, status=422)
    data = authoring.ArticleInput(
        title=form.title.data or "",
        slug=form.slug.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        tags=form.tags.data or "",
        status=form.status.data or "draft",
        published_at=form.publish_instant,
        version=form.form_version(),
    )
    if form.wants_preview:
        shown = authoring.preview(data, _user(), now(), article)
        return _form_page(form, article, preview=shown)
    # A slug typed anew, which another article may hold (an unchanged one stays as stored).
    typed_slug = data.slug if data.slug and (article is None or data.slug != article.slug) else ""
    try:
        saved = authoring.save(data, _user(), now(), article.id if article else None)
    except authoring.Conflict as conflict:
        # The author's text stays in the form; the form now carries the stored version, so
        # saving again (after comparing) deliberately replaces it.
        current = conflict.current
        form.version.data = str(current.version) if current else ""
        return _form_page(form, current, conflict=True, status=409)
    except authoring.SaveFailed:
        form.form_errors.append(
            "The article could not be saved because other saves were taking the same address "
            "at the same moment. Your text is below: please save again."
        )
        return _form_page(form, article, status=409)
    flash(_saved_message(saved), "info")
    if form.publish_note:
        flash(form.publish_note, "info")
    wanted = publishing.requested_slug(typed_slug) if typed_slug else None
    if wanted and wanted != saved.slug:
        flash(f"The slug “{wanted}” is another article's, so this one's is “{saved.slug}”.", "info")
    return redirect(url_for("admin.edit", article_id=saved.id), 303)


def _form_page(
    form: ArticleForm,
    article: Article | None,
    *,
    preview: Article | None = None,
    conflict: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    form.opened_by.data = str(current_user.id)
    if authoring.edits_html(article):
        form.body.description = (
            "HTML: this article came in as HTML, so its body is edited and saved as HTML, "
            "not Markdown. Anything unsafe is removed when saved."
        )
    page = render_template(
        "admin/edit.html",
        form=form,
        article=article,
        preview=preview,
        conflict=conflict,
        stored=_stored_fields(form, article) if conflict and article else [],
        state=authoring.state_of(article, now()) if article else None,
        zone_name=zone().key,
    )
    return page, status


def _form_data(article: Article) -> dict[str, object]:
    return {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        # An article imported as HTML alone is edited as HTML (authoring.edits_html).
        "body": article.body_markdown or article.body_html,
        "tags": ", ".join(tag.name for tag in article.tags),
        "status": article.status,
        "published_at": (
            dates.format_local_input(article.published_at, zone()) if article.published_at else ""
        ),
        "version": str(article.version),
    }


@dataclass(frozen=True)
class StoredField:
    """One field of the stored version a conflicting save is shown, beside the form."""

    name: str
    label: str
    value: str
    differs: bool  # from what the form holds, which a second save would store


def _stored_fields(form: ArticleForm, article: Article) -> list[StoredField]:
    """Every field of the stored version, each marked when it differs from the form's: a
    second save stores the whole form, and so undoes whatever else the other person
    changed (tags, summary, status, the publish time), not only the text."""
    stored = _form_data(article)
    fields = []
    for field in form:
        if field.name not in stored or field.name == "version":
            continue
        value, typed = str(stored[field.name]), str(field.data or "")
        if field.name == "tags":  # the same tags in another order are the same
            differs = _tag_keys(value) != _tag_keys(typed)
        elif field.name == "published_at":  # to the minute, as the form shows it
            differs = value != typed.strip()[:16]
        else:  # a browser sends a text area's lines ended by CRLF
            differs = value.replace("\r\n", "\n").strip() != typed.replace("\r\n", "\n").strip()
        fields.append(StoredField(field.name, str(field.label.text), value, differs))
    return fields


def _tag_keys(text: str) -> set[str]:
    try:
        return {publishing.tag_key(name) for name in publishing.tag_names(text)}
    except publishing.TagTooLong:  # the form says so beside the field
        return {text}


def _saved_message(article: Article) -> str:
    state = authoring.state_of(article, now())
    if state == "scheduled" and article.published_at is not None:
        local = dates.to_local(article.published_at, zone())
        return f"Scheduled: it will appear on {dates.datetime_label(local)}."
    if state == "published":
        return "Published."
    if state == "in trash":
        return "Stored. It is still in the trash."
    return "Draft stored. Readers cannot see it yet."


def _editable(article_id: int) -> Article:
    article = articles.get_article(article_id)
    if article is None or not current_user.may_edit(article):
        abort(404)
    return article


def _purgeable(article_id: int) -> Article:
    article = _editable(article_id)
    if not current_user.can_edit_all:
        abort(403, "Only editors can delete articles for good.")
    if article.deleted_at is None:
        abort(409, "Move the article to the trash before deleting it for good.")
    return article


def _id_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    number = int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else 0
    if not 0 < number <= MAX_ID:
        abort(404)
    return number


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]

"""Flask-WTF forms: sign-in, the article form, users, passwords and Hijri month starts.

Field names are part of the contract (SPEC section 8): tools and browser tests fill forms by
them, so a form attribute is never renamed without the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from . import accounts, content, dates, publishing, site
from .models import ROLES

STATUS_CHOICES = [
    SelectChoice("draft", "Draft (not shown to readers)"),
    SelectChoice("published", "Published"),
]
STATUSES = frozenset(choice.value for choice in STATUS_CHOICES)
ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]
HIJRI_MONTH_CHOICES = [
    SelectChoice(str(m), f"{m} – {dates.HijriDate(1440, m, 1).month_name}") for m in range(1, 13)
]


class Form(FlaskForm):
    """A form read from the posted fields alone.

    Flask-WTF would also read uploaded files and JSON bodies into the fields: a file sent
    as the username, say, reached the validators as an object they cannot read (a 500).
    No form here takes either, so such a post is answered as one with those fields empty.
    """

    def __init__(self, **kwargs: Any) -> None:
        if "formdata" not in kwargs:
            kwargs["formdata"] = request.form if request.method in SUBMIT_METHODS else None
        super().__init__(**kwargs)


def one_line(value: Any) -> Any:
    """Read a one-line field: without control characters or surrounding whitespace."""
    return content.without_controls(value).strip() if isinstance(value, str) else value


def _new_password() -> list[Any]:
    # InputRequired, not DataRequired: spaces alone reach the rule, which says what is wrong.
    return [InputRequired("Enter a password."), _by_rule(accounts.check_password)]


def _by_rule(check: Callable[[str], None]) -> Callable[[FlaskForm, Field], None]:
    """Validate a field by a rule of accounts (which raises ValueError saying what to fix).

    The same rules serve `flask users create`, so the form and the CLI refuse alike.
    """

    def validate(form: FlaskForm, field: Field) -> None:
        try:
            check(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None

    return validate


def _slug_fits(form: FlaskForm, field: StringField) -> None:
    """Refuse a slug too long to store whole, rather than cut it without a word."""
    text = field.data or ""
    length = publishing.slug_length(text)
    if text and length > publishing.MAX_SLUG:
        has = f"has {length}" if length == len(text) else f"comes to {length} in the address"
        raise ValidationError(
            f"Keep the slug to {publishing.MAX_SLUG} characters or fewer (this one {has})."
        )


def _shows_something(form: FlaskForm, field: StringField) -> None:
    """Refuse a title readers would not see: invisible marks alone."""
    if content.shows_nothing(field.data or ""):
        raise ValidationError("Give the article a title readers can see.")


def _within_reason(form: FlaskForm, field: TextAreaField) -> None:
    """Refuse a body whose HTML nests deeper than any article's or holds more elements,
    before it is cleaned: cleaning it would take longer than a save may."""
    source = field.data or ""
    reason = content.too_deep(content.markdown_nesting(source))
    reason = reason or content.too_many_elements(markdown=source)
    if reason:
        raise ValidationError(f"{reason[0].upper()}{reason[1:]}.")


def _tags_fit(form: FlaskForm, field: StringField) -> None:
    """Refuse a tag too long to store whole, naming it."""
    try:
        publishing.tag_names(field.data or "")
    except publishing.TagTooLong as error:
        raise ValidationError(
            f"Keep each tag to {publishing.MAX_TAG_NAME} characters or fewer: "
            f"“{publishing.shorten(error.name)}” has {len(error.name)}."
        ) from None


def _whole_number_range(
    low: int, high: int, message: str
) -> Callable[[FlaskForm, IntegerField], None]:
    """Refuse a whole number outside [low, high] or a field that holds none."""

    def check(form: FlaskForm, field: IntegerField) -> None:
        if field.data is None or not low <= field.data <= high:
            raise ValidationError(message)

    return check


class LoginForm(Form):
    username = StringField(
        "Username",
        validators=[DataRequired("Enter your username.")],
        filters=[one_line],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password.")],
        filters=[content.without_controls],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Sign in")


class ArticleForm(Form):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the article a title."),
            _shows_something,
            Length(max=300, message="Keep the title to 300 characters or fewer."),
        ],
        filters=[one_line],
    )
    slug = StringField(
        "Slug",
        validators=[_slug_fits],
        filters=[one_line],
        description="The last part of the address. Leave it empty to make one from the title.",
        render_kw={"maxlength": publishing.MAX_SLUG},
    )
    summary = TextAreaField(
        "Summary",
        filters=[one_line],
        description="Shown in listings. Leave it empty to use the start of the body.",
        render_kw={"rows": 3},
    )
    body = TextAreaField(
        "Body",
        validators=[DataRequired("Write the article body."), _within_reason],
        filters=[content.without_controls],
        description="Markdown. HTML is allowed; anything unsafe is removed when saved.",
        render_kw={"rows": 18},
    )
    tags = StringField(
        "Tags",
        validators=[_tags_fit],
        filters=[one_line],
        description="Separate tags with commas.",
    )
    # Checked by validate_status, whose message says what to do.
    status = SelectField("Status", choices=STATUS_CHOICES, default="draft", validate_choice=False)
    published_at = StringField(
        "Publish time",
        filters=[one_line],
        render_kw={"type": "datetime-local"},
    )
    version = HiddenField()
    # Who opened the form: a save after someone else signed in on the same browser is
    # shown back unsaved instead of landing under their name (views.admin).
    opened_by = HiddenField()
    preview = SubmitField("Preview")
    save = SubmitField("Save")

    # Set by validate_published_at: the parsed instant, aware UTC (None when left empty),
    # and what to tell the author of a time the clocks skipped or showed twice.
    publish_instant: datetime | None = None
    publish_note: str | None = None

    def validate_status(self, field: SelectField) -> None:
        if field.data not in STATUSES:
            raise ValidationError("Choose draft or published.")

    def validate_published_at(self, field: StringField) -> None:
        self.publish_instant = None
        if not field.data:
            return
        try:
            self.publish_instant = dates.parse_publish_input(field.data, site.zone())
        except ValueError as error:
            raise ValidationError(f"{error} (for example 2024-03-10T09:30).") from None
        self.publish_note = dates.publish_input_note(field.data, site.zone())

    @property
    def wants_preview(self) -> bool:
        """Tell whether the Preview button sent the form."""
        return bool(self.preview.data)

    def form_version(self) -> int | None:
        """Return the article version the form was opened at, or None when absent or bad."""
        text = (self.version.data or "").strip()
        return int(text) if text.isdigit() and len(text) < 18 else None


class PasswordChangeForm(Form):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        filters=[content.without_controls],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=_new_password(),
        filters=[content.without_controls],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
        filters=[content.without_controls],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password")


class UserCreateForm(Form):
    username = StringField(
        "Username",
        validators=[
            DataRequired("Enter a username."),
            _by_rule(accounts.check_username),
        ],
        filters=[one_line],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "none",
            "maxlength": accounts.MAX_USERNAME_LENGTH,
        },
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default="author")
    password = PasswordField(
        "Password",
        validators=_new_password(),
        filters=[content.without_controls],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Create user")


class UserUpdateForm(Form):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = BooleanField("Active (may sign in)")
    submit = SubmitField("Save changes")


class PasswordResetForm(Form):
    new_password = PasswordField(
        "New password",
        validators=_new_password(),
        filters=[content.without_controls],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Set password")


class HijriMonthStartForm(Form):
    year = IntegerField(
        "Hijri year",
        validators=[
            InputRequired("Enter the Hijri year."),
            # Not NumberRange: it turns the year into a float, which 400 digits overflow.
            _whole_number_range(
                dates.HIJRI_FIRST_YEAR,
                dates.HIJRI_LAST_YEAR,
                f"Enter a Hijri year from {dates.HIJRI_FIRST_YEAR} to {dates.HIJRI_LAST_YEAR}.",
            ),
        ],
    )
    month = SelectField("Hijri month", choices=HIJRI_MONTH_CHOICES, coerce=int)
    starts_on = DateField(
        "First day (Gregorian)",
        validators=[InputRequired("Enter the Gregorian date the month starts on.")],
        render_kw={"type": "date"},
    )
    note = StringField(
        "Source",
        validators=[Optional(), Length(max=500, message="Keep the note to 500 characters.")],
        filters=[one_line],
        description="Who decided it, e.g. 'Diyanet calendar 2024'.",
    )
    submit = SubmitField("Add month start")

    def validate_starts_on(self, field: DateField) -> None:
        if field.data is None or self.year.errors or self.month.errors:
            return
        try:
            dates.check_month_start(self.year.data, self.month.data, field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

"""The front page: the latest visible articles, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from ..pagecache import cached_page
from .listing import page_or_redirect

bp = Blueprint("home", __name__)


@bp.get("/")
@cached_page
def index() -> str | Response:
    """Show one page of the latest articles."""
    page = page_or_redirect("home.index")
    if isinstance(page, Response):
        return page
    return render_template("home/index.html", page=page)

"""The framework floor: the least a Flask app can do to answer like the home page.

Served by the same gunicorn command and gunicorn.conf.py as the site (`bench.floor:app`), it
returns one fixed HTML page of BENCH_FLOOR_BYTES bytes, the size of the real home page, so
every page of the site can be read as a fraction of what Flask and gunicorn allow at all.
"""

from __future__ import annotations

import os

from flask import Flask

FILLER = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.</p>\n"


def page_of_size(size: int) -> str:
    """Return an ASCII HTML page of exactly `size` bytes (or its bare skeleton if larger)."""
    head = '<!doctype html>\n<html lang="en">\n<head><title>Floor</title></head>\n<body>\n'
    tail = "</body>\n</html>\n"
    room = max(0, size - len(head) - len(tail))
    body = (FILLER * (room // len(FILLER) + 1))[:room]
    return head + body + tail


def create_app() -> Flask:
    """Build the floor app: GET / answers the fixed page, GET /healthz answers ok."""
    app = Flask(__name__)
    page = page_of_size(int(os.environ.get("BENCH_FLOOR_BYTES", "16384")))

    @app.get("/")
    def index() -> str:
        return page

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    _bind_database(app)
    return app


def _bind_database(app: Flask) -> None:
    """Register the site's `db` with an unused in-memory database.

    gunicorn.conf.py's post_fork disposes of the site's engines in every worker, which needs an app
    that `db` knows; no request of the floor ever touches it.
    """
    from blog.extensions import db

    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)


app = create_app()

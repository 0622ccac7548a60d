"""No XSS vector submitted through the article form reaches any page in executable form.

Every vector of tests/xss.py goes in as a Markdown body; a selection also goes in as title,
summary, tags and slug. The pages that show them (preview, the article page, the home page,
the admin list, the edit form, a re-shown invalid form) are judged by xss.executable_parts, an
HTML parser that shares no code with the sanitiser.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_auth import sign_in
from werkzeug.test import TestResponse

from blog.models import User

from xss import VECTORS, executable_parts

# One or more of each family: tags, handlers, URLs, SVG/MathML, mutation, style, Markdown.
FIELD_VECTORS = [VECTORS[i] for i in range(0, len(VECTORS), 7)]


def article_form(**fields: str) -> dict[str, str]:
    data = {
        "title": "A title",
        "slug": "",
        "summary": "",
        "body": "Body",
        "tags": "",
        "status": "published",
        "published_at": "2024-03-10T09:30",
    }
    data.update(fields)
    return data


@pytest.fixture
def setup(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> tuple[Flask, FlaskClient]:
    """An app whose listings fit every test article on one page, and a signed-in editor."""
    make_user("eda", "editor")
    app = make_app(PER_PAGE=500)
    client = app.test_client()
    assert sign_in(client, "eda").status_code == 303
    return app, client


class Judge:
    """Collect every page that carries something executable."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.pages = 0

    def check(self, response: TestResponse, where: str) -> None:
        assert response.status_code < 500, where
        self.pages += 1
        found = executable_parts(response.get_data(as_text=True))
        if found:
            self.failures.append(f"{where}: {found}")

    def assert_clean(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def save(client: FlaskClient, data: dict[str, str]) -> int:
    response = client.post("/admin/articles/new", data={**data, "save": "Save"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    match = re.search(r"/admin/articles/(\d+)/edit", response.headers["Location"])
    assert match
    return int(match[1])


def canonical(client: FlaskClient, article_id: int) -> TestResponse:
    response = client.get(f"/article/{article_id}")
    assert response.status_code == 301
    return client.get(response.headers["Location"])


def test_the_judge_can_fail() -> None:
    assert executable_parts('<p><img src=x onerror="alert(1)"></p>')
    assert executable_parts("<script>alert(1)</script>")
    # A JSON-LD data block is never run, unless a value ended it early or it names a source.
    assert not executable_parts('<script type="application/ld+json">{"a": "<\\/b"}</script>')
    assert executable_parts(
        '<script type="application/ld+json">{"a": "</script><script>alert(1)</script>"}'
    )
    assert executable_parts('<script type="application/ld+json" src="/x.js"></script>')
    assert executable_parts('<script type="text/javascript">alert(1)</script>')


def test_every_vector_as_a_body_is_inert_on_every_page(setup: tuple[Flask, FlaskClient]) -> None:
    app, client = setup
    reader = app.test_client()
    judge = Judge()
    for n, vector in enumerate(VECTORS):
        data = article_form(title=f"Vector {n}", body=vector)
        judge.check(
            client.post("/admin/articles/new", data={**data, "preview": "P"}), f"preview {n}"
        )
        article_id = save(client, data)
        judge.check(canonical(reader, article_id), f"article page {n}")
        judge.check(client.get(f"/admin/articles/{article_id}/edit"), f"edit form {n}")
        judge.check(
            client.post(
                f"/admin/articles/{article_id}/edit",
                data={**data, "title": "", "preview": "Preview"},
            ),
            f"invalid form {n}",
        )
    judge.check(reader.get("/"), "home page")
    judge.check(reader.get("/archive/2024/03/10/"), "day archive")
    judge.check(client.get("/admin/"), "admin list")
    assert judge.pages == 4 * len(VECTORS) + 3
    assert len(VECTORS) >= 60
    judge.assert_clean()


def test_vectors_in_every_other_field_are_inert(setup: tuple[Flask, FlaskClient]) -> None:
    app, client = setup
    reader = app.test_client()
    judge = Judge()
    for n, vector in enumerate(FIELD_VECTORS):
        # Cut to what each field stores: longer values are refused, not saved.
        tags = ",".join(part[:80] for part in vector.split(","))
        data = article_form(title=vector[:300], summary=vector, tags=tags, slug=vector[:200])
        judge.check(
            client.post("/admin/articles/new", data={**data, "preview": "P"}), f"preview {n}"
        )
        article_id = save(client, data)
        judge.check(canonical(reader, article_id), f"article page {n}")
        judge.check(client.get(f"/admin/articles/{article_id}/edit"), f"edit form {n}")
        judge.check(
            client.post("/admin/articles/new", data={**data, "body": "", "save": "Save"}),
            f"invalid form {n}",
        )
    judge.check(reader.get("/"), "home page")
    judge.check(reader.get("/archive/2024/03/10/"), "day archive")
    judge.check(client.get("/admin/"), "admin list")
    judge.assert_clean()
    # The slug field went through the slugger: nothing but a slug is left of a vector.
    html = client.get("/admin/").get_data(as_text=True)
    for href in re.findall(r'href="(/article/[^"]*)"', html):
        assert re.fullmatch(r"/article/\d+/[\w%.-]+", href), href


def test_a_title_with_markup_is_shown_as_text(setup: tuple[Flask, FlaskClient]) -> None:
    app, client = setup
    article_id = save(client, article_form(title="<b>Bold</b> & <i>co</i>"))
    html = canonical(app.test_client(), article_id).get_data(as_text=True)
    title = "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt;"
    assert f'<h1 class="article-title" dir="auto">{title}</h1>' in html

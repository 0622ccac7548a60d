"""What an article page tells search engines and link previews, and the site's icon."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from blog import dates
from blog.models import Tag

from conftest import at_local


class Head(HTMLParser):
    """The page's <meta> values by name or property, and its JSON-LD blocks as text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: dict[str, str] = {}
        self.scripts: list[str] = []
        self._in_json = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and (key := values.get("property") or values.get("name")):
            self.meta.setdefault(key, []).append(values.get("content") or "")
        elif tag == "link" and values.get("rel"):
            self.links[values["rel"]] = values.get("href") or ""
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_json = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_json = False

    def handle_data(self, data: str) -> None:
        if self._in_json:
            self.scripts[-1] += data

    def linked_data(self) -> dict:
        (script,) = self.scripts
        return json.loads(script)


def head_of(client, article) -> Head:
    response = client.get(f"/article/{article.id}/{article.slug}")
    assert response.status_code == 200
    return Head(response.get_data(as_text=True))


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize(("hour", "minute"), [(0, 10), (23, 50)])
def test_an_article_describes_itself_with_its_local_publication_time(
    make_app, make_article, zone, hour, minute
):
    app = make_app(TIMEZONE=zone)
    with app.app_context():
        instant = at_local(-1, hour, minute, zone)
        article = make_article(
            title="Rain over the valley",
            summary="The first rain of the season came at night.",
            published_at=instant,
            updated_at=instant,
            tags=[Tag(name="weather", slug="weather"), Tag(name="Valley", slug="valley")],
        )
        path = f"/article/{article.id}/{article.slug}"
    html = app.test_client().get(path).get_data(as_text=True)
    head = Head(html)
    local = dates.to_local(instant, dates.site_zone(zone)).isoformat(timespec="seconds")
    address = f"http://localhost{path}"

    assert head.links["canonical"] == address
    assert head.meta["description"] == ["The first rain of the season came at night."]
    assert head.meta["og:type"] == ["article"]
    assert head.meta["og:site_name"] == ["Hijri Blog"]
    assert head.meta["og:title"] == ["Rain over the valley"]
    assert head.meta["og:url"] == [address]
    assert head.meta["og:description"] == ["The first rain of the season came at night."]
    assert head.meta["article:published_time"] == [local]
    assert head.meta["article:modified_time"] == [local]
    assert head.meta["article:tag"] == ["Valley", "weather"]  # the page's own order
    assert f'<time class="published" datetime="{local}">' in html  # the same instant as shown
    assert head.linked_data() == {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Rain over the valley",
        "url": address,
        "mainEntityOfPage": address,
        "author": [{"@type": "Person", "name": "writer"}],
        "publisher": {"@type": "Organization", "name": "Hijri Blog"},
        "datePublished": local,
        "dateModified": local,
        "description": "The first rain of the season came at night.",
        "keywords": ["Valley", "weather"],
    }


def test_the_last_change_is_an_edit_after_publication_or_the_publication_itself(
    app, client, make_article
):
    now = dates.utcnow().replace(microsecond=0)
    edited = make_article(published_at=now - timedelta(days=2), updated_at=now - timedelta(hours=3))
    # Scheduled and edited before it came due: it changed for readers when it came out.
    came_due = make_article(
        published_at=now - timedelta(hours=1), updated_at=now - timedelta(days=1)
    )

    edited_data = head_of(client, edited).linked_data()
    due_data = head_of(client, came_due).linked_data()

    assert edited_data["dateModified"] > edited_data["datePublished"]
    assert edited_data["dateModified"] == dates.iso_local(
        now - timedelta(hours=3), dates.site_zone(app.config["TIMEZONE"])
    )
    assert due_data["dateModified"] == due_data["datePublished"]


def test_without_a_summary_the_body_describes_the_article(client, make_article):
    article = make_article(title="Short note", summary="", body="The council *met* today.")

    head = head_of(client, article)

    assert head.meta["description"] == ["The council met today."]
    assert head.linked_data()["description"] == "The council met today."
    assert "article:tag" not in head.meta and "keywords" not in head.linked_data()


def test_an_article_with_nothing_to_describe_it_leaves_the_description_out(client, make_article):
    article = make_article(title="Picture only", summary="", body="")

    head = head_of(client, article)

    assert "description" not in head.meta and "og:description" not in head.meta
    assert "description" not in head.linked_data()
    assert head.meta["og:title"] == ["Picture only"]


def test_a_hostile_title_stays_data_in_the_head(client, make_article):
    title = """</script><script>alert(1)</script> "quoted" & 'single' <b>"""
    article = make_article(
        title=title,
        summary='A summary with "quotes" and </script> inside',
        tags=[Tag(name="</script><img src=x>", slug="x")],
    )

    response = client.get(f"/article/{article.id}/{article.slug}")
    html = response.get_data(as_text=True)
    head = Head(html)

    # Only the JSON-LD block's own end tag closes a script; nothing the author typed does.
    assert html.count("</script>") == 1
    assert "<script>alert" not in html and "<img src=x>" not in html
    assert head.meta["og:title"] == [title]
    assert head.meta["description"] == ['A summary with "quotes" and </script> inside']
    data = head.linked_data()
    assert data["headline"] == title
    assert data["keywords"] == ["</script><img src=x>"]


def test_every_page_has_the_icon_and_the_old_address_leads_to_it(client, make_article):
    make_article(title="Story")
    head = Head(client.get("/").get_data(as_text=True))
    icon = head.links["icon"]
    assert icon.startswith("/static/favicon.svg?v=")

    old = client.get("/favicon.ico")
    assert old.status_code == 302
    assert old.headers["Location"] == icon
    assert old.headers["Cache-Control"] == "public, max-age=86400"
    with client.get(icon) as svg:
        assert svg.status_code == 200
        assert svg.mimetype == "image/svg+xml"
        assert "immutable" in svg.headers["Cache-Control"]
        assert svg.data.startswith(b"<svg")

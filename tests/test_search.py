"""The search page: the visible articles holding every word asked for, newest first, a page
at a time; whatever is typed, a page and never an error."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from test_pages import follow_older, rel_links, teasers
from test_tags import page

from blog import dates, search
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article

from conftest import at_local


def found(client: FlaskClient, words: str) -> list[str]:
    return teasers(page(client, f"/search?q={words}"))


def test_a_search_lists_the_visible_articles_holding_every_word_newest_first(
    client: FlaskClient, make_article
) -> None:
    now = utcnow()
    make_article(title="Harbour ferry resumes", published_at=now - timedelta(hours=3))
    make_article(title="Night market", summary="The ferry brings traders to the harbour.")
    make_article(
        title="Quiet day", body="Only the harbour ferry ran.", published_at=now - timedelta(days=2)
    )
    make_article(title="Ferry alone", published_at=now - timedelta(minutes=30))
    make_article(title="Harbour ferry draft", status="draft")
    make_article(title="Harbour ferry later", published_at=now + timedelta(hours=2))
    make_article(title="Harbour ferry trashed", deleted_at=now)

    html = page(client, "/search?q=ferry+Harbour")

    # Title, summary or body; any case; drafts, scheduled and trashed articles never.
    assert teasers(html) == ["Night market", "Harbour ferry resumes", "Quiet day"]
    assert '<h1 class="search-title">Search</h1>' in html
    assert 'value="ferry Harbour"' in html
    assert '<meta name="robots" content="noindex">' in html
    assert "<title>ferry Harbour &ndash; Search &ndash; " in html
    assert 'class="day-strip"' in html  # the masthead, as on every page
    assert found(client, "FERRY") == [
        "Ferry alone",
        "Night market",
        "Harbour ferry resumes",
        "Quiet day",
    ]
    assert found(client, "ferry+submarine") == []
    assert "No articles hold all of these words." in page(client, "/search?q=submarine")


def test_the_search_form_is_on_its_page_and_linked_from_every_footer(
    client: FlaskClient, make_article
) -> None:
    make_article(title="Anything")
    html = page(client, "/")
    assert '<a class="search-link" href="/search">Search</a>' in html
    form = page(client, "/search")
    assert '<form class="search-form" role="search" action="/search" method="get">' in form
    assert '<input id="search-words" type="search" name="q" value=""' in form
    assert teasers(form) == []  # no words, no list


@pytest.mark.parametrize(
    "query",
    [
        "%22",  # a lone quote
        "ferry%22+OR+%22x",
        "NEAR(ferry+x)",
        "title%3Aferry",  # an FTS5 column filter
        "ferry*",
        "-ferry",
        "%5E",
        "AND",
        "%00",
        "ferry%00",
        "%F0%9F%9A%A2",  # an emoji alone
        "%E2%80%8F",  # a right-to-left mark alone
        "x" * 300,
        "+".join(["ferry"] * 300),
        "+".join(f"w{n}" for n in range(100)),
        "%D8%B9%D8%A8%D8%A7%D8%B1%D8%A9",  # an Arabic word
        "caf%C3%A9",
        "%FF%FE",  # not UTF-8
        "1439",
    ],
)
def test_whatever_is_typed_the_search_answers_a_page(
    client: FlaskClient, make_article, query: str
) -> None:
    make_article(title="Ferry news", body="عبارة جديدة في الميناء. Café 1439.")
    response = client.get(f"/search?q={query}")
    assert response.status_code == 200, query
    assert 'id="search-words"' in response.get_data(as_text=True)


def test_words_of_any_script_are_found_and_operators_are_plain_words(
    client: FlaskClient, make_article
) -> None:
    make_article(title="عبارة جديدة", body="The new ferry is named NEAR.")
    make_article(title="Ferry timetable", body="AND or NOT, all plain words here.")

    assert found(client, "%D8%B9%D8%A8%D8%A7%D8%B1%D8%A9") == ["عبارة جديدة"]
    assert found(client, "NEAR") == ["عبارة جديدة"]
    assert found(client, "ferry+NOT") == ["Ferry timetable"]  # NOT a word, not an operator
    assert found(client, "ferry*") == ["Ferry timetable", "عبارة جديدة"]  # * is no prefix


def test_the_page_title_names_the_words_looked_for_not_what_else_was_typed(
    client: FlaskClient, make_article
) -> None:
    # A right-to-left override typed or pasted in would turn the rest of the tab's title.
    make_article(title="Ferry news")
    html = page(client, "/search?q=%E2%80%AEferry%E2%80%AC%3F")
    assert "<title>ferry &ndash; Search &ndash; " in html
    assert teasers(html) == ["Ferry news"]


def test_what_was_searched_for_comes_back_escaped(client: FlaskClient, make_article) -> None:
    make_article(title="Script news", body="A script tag raised alert 1.")
    html = page(client, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert "<script>alert" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert teasers(html) == ["Script news"]  # the words: script, alert, 1, script


def test_only_the_first_words_are_looked_for_and_the_page_says_so(
    client: FlaskClient, make_article
) -> None:
    make_article(title="one two three four five six seven eight")
    words = "+".join(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    html = page(client, f"/search?q={words}")
    assert teasers(html) == ["one two three four five six seven eight"]
    assert f"Only the first {search.MAX_WORDS} words were looked for." in html


def test_search_pages_page_through_every_match_once_both_ways(
    app: Flask, client: FlaskClient, make_article
) -> None:
    app.config["PER_PAGE"] = 3
    now = utcnow().replace(second=30, microsecond=0) - timedelta(minutes=1)
    titles = []
    for n in range(8):
        # Two articles in each minute, and one without the word.
        published = now - timedelta(minutes=n // 2 * 7, seconds=n % 2)
        make_article(title=f"Tide {n}", published_at=published)
        make_article(title=f"Other {n}", published_at=published)
        titles.append(f"Tide {n}")
    # Newest first by the minute; within a minute, the one written last first.
    titles = [titles[n + 1 - n % 2 * 2] for n in range(8)]
    assert titles[:2] == ["Tide 1", "Tide 0"]

    seen, pages = follow_older(client, "/search?q=tide")

    assert seen == titles
    assert len(pages) == 3
    older = rel_links(pages[0])["next"]
    assert older.startswith("/search?q=tide&before=")
    assert 'href="/search?q=tide&amp;before=' in pages[0]  # the pager keeps the search too
    # Back from the last page: the same pages, newest first.
    back = rel_links(pages[2])["prev"]
    assert back.startswith("/search?q=tide&after=")
    assert teasers(page(client, back)) == titles[3:6]
    first = client.get(rel_links(page(client, back))["prev"])
    assert first.status_code == 302
    assert first.headers["Location"] == "/search?q=tide"


@pytest.mark.parametrize(
    "query",
    [
        "q=tide&before=abc",
        "q=tide&before=1.5",
        "q=tide&before=" + "9" * 20,
        "q=tide&before=%D9%A1%D9%A2",  # Arabic-Indic digits
        "q=tide&before=1&after=1",
        "q=tide&before=-9223372036854775808",  # before every key: an empty page
        "q=&before=1",  # a page of nothing searched
        "q=&before=0",
        "q=%21%21&after=1",
    ],
)
def test_bad_or_empty_search_pages_answer_404(
    client: FlaskClient, make_article, query: str
) -> None:
    make_article(title="Tide table")
    assert client.get(f"/search?{query}").status_code == 404


def test_the_index_follows_edits_trash_and_scheduling(client: FlaskClient, make_article) -> None:
    article = make_article(title="Lighthouse repaired")
    assert found(client, "lighthouse") == ["Lighthouse repaired"]

    stored = db.session.get(Article, article.id)
    stored.title = "Beacon repaired"
    db.session.commit()
    assert found(client, "lighthouse") == []
    assert found(client, "beacon") == ["Beacon repaired"]

    stored.deleted_at = utcnow()
    db.session.commit()
    assert found(client, "beacon") == []
    stored.deleted_at = None
    db.session.commit()
    assert found(client, "beacon") == ["Beacon repaired"]

    stored.status = "draft"
    db.session.commit()
    assert found(client, "beacon") == []


def test_an_article_coming_due_is_found_without_a_write(
    client: FlaskClient, make_article, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_article(title="Eclipse tonight", published_at=utcnow() - timedelta(hours=1))
    later = utcnow() + timedelta(seconds=20)  # due within the current minute, or the next
    make_article(title="Eclipse now", published_at=later)
    assert found(client, "eclipse") == ["Eclipse tonight"]

    monkeypatch.setattr(dates, "utcnow", lambda: later + timedelta(seconds=1))
    assert found(client, "eclipse") == ["Eclipse now", "Eclipse tonight"]


def test_a_search_page_answers_304_until_something_is_published(
    client: FlaskClient, make_article
) -> None:
    make_article(title="Rain first")
    response = client.get("/search?q=rain")
    etag = response.headers["ETag"]
    again = client.get("/search?q=rain", headers={"If-None-Match": etag})
    assert again.status_code == 304

    make_article(title="Rain again")
    fresh = client.get("/search?q=rain", headers={"If-None-Match": etag})
    assert fresh.status_code == 200
    assert teasers(fresh.get_data(as_text=True)) == ["Rain again", "Rain first"]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_matches_show_their_local_day_and_keep_their_order_across_midnight(
    make_app, make_article, zone: str
) -> None:
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    with app.app_context():
        late = at_local(-2, 23, 50, zone)
        early = at_local(-1, 0, 10, zone)
        make_article(title="Storm late", published_at=late)
        make_article(title="Storm early", published_at=early)
        tz = dates.site_zone(zone)
        days = [dates.local_date(instant, tz) for instant in (early, late)]

    html = page(client, "/search?q=storm")

    assert teasers(html) == ["Storm early", "Storm late"]
    for day, clock in zip(days, ("00:10", "23:50"), strict=True):
        assert f'datetime="{day.isoformat()}T{clock}' in html


def test_robots_keeps_crawlers_off_search_pages(client: FlaskClient) -> None:
    lines = page(client, "/robots.txt").splitlines()
    assert "Disallow: /search" in lines


def test_a_search_is_shown_as_the_words_looked_for(client: FlaskClient, make_article) -> None:
    make_article(title="Flood warning", body="Rivers rise.")
    html = page(client, "/search?q=++flood,+warning!!+")
    assert teasers(html) == ["Flood warning"]
    assert f'<span dir="auto">{escape("flood warning")}</span>' in html


def test_accents_are_set_aside_on_sqlite_and_count_on_postgresql(
    app: Flask, client: FlaskClient, make_article
) -> None:
    make_article(title="Café reopens")
    make_article(title="Cafe closes", published_at=utcnow() - timedelta(days=1))
    if db.engine.dialect.name == "sqlite":  # FTS5's unicode61 tokenizer, diacritics removed
        assert found(client, "cafe") == ["Café reopens", "Cafe closes"]
    else:  # the 'simple' text search configuration keeps them
        assert found(client, "cafe") == ["Cafe closes"]
        assert found(client, "caf%C3%A9") == ["Café reopens"]
    assert found(client, "CAF%C3%89") == found(client, "caf%C3%A9")


@pytest.mark.parametrize(
    ("title", "query"),
    [
        ("ख़बर हिन्दी समाचार", "%E0%A4%B9%E0%A4%BF%E0%A4%A8%E0%A5%8D%E0%A4%A6%E0%A5%80"),  # हिन्दी
        ("عِبَارَةٌ جديدة", "%D8%B9%D9%90%D8%A8%D9%8E%D8%A7%D8%B1%D9%8E%D8%A9%D9%8C"),  # vowelled
        ("Café news", "cafe%CC%81"),  # an accent typed apart in the search is the same letter
    ],
)
def test_words_with_marks_are_found_whole(
    client: FlaskClient, make_article, title: str, query: str
) -> None:
    # Marks belong to their word: a Hindi word or a vowelled Arabic one is not split apart.
    make_article(title=title)
    make_article(title="Unrelated")
    assert found(client, query) == [title]


def test_arabic_words_are_found_with_or_without_their_optional_marks(
    client: FlaskClient, make_article
) -> None:
    # Tanween, a shadda, every short vowel and a tatweel, as articles now and then write them.
    names = make_article(title="وصل محمّد أيضاً").title
    library = make_article(title="مَكْتَبَةٌ كـبـيـرة", published_at=utcnow() - timedelta(days=1)).title
    make_article(title="مكتب صغير", published_at=utcnow() - timedelta(days=2))
    searches = {
        "محمد": [names],
        "محمّد": [names],
        "أيضا": [names],
        "مكتبة": [library],
        "مَكتبة كبيرة": [library],
        "كبيرة": [library],
    }
    assert {query: found(client, quote(query)) for query in searches} == searches
    # Marks alone, or a tatweel, are no word.
    html = page(client, "/search?q=" + quote("\u064b \u0651\u0640"))
    assert teasers(html) == [] and "Type a word with letters or digits." in html


def test_every_word_an_article_shows_is_found_by_itself_and_no_piece_of_one(
    client: FlaskClient, make_article
) -> None:
    # Numbers, versions, dates, addresses and paths are words joined by punctuation: found
    # as typed and by each of their words, on both databases.
    report = make_article(
        title="Quokka count",
        body="Rose 3.5 percent by 12/01/2026, says newsroom.example.com (v2.1, -5 at"
        " 10:30); write to desk@example.org or see /usr/local/quokkadir and ~archive.",
    ).title
    vowelled = make_article(title="مرحبًا بالقراء \u0939\u093f\u0928\u094d\u0926\u0940").title
    searches = {
        **dict.fromkeys(["3.5", "3", "5", "12/01/2026", "2026", "newsroom.example.com"], [report]),
        **dict.fromkeys(["example", "v2.1", "v2", "10:30", "desk@example.org", "desk"], [report]),
        **dict.fromkeys(["/usr/local/quokkadir", "quokkadir", "usr", "archive"], [report]),
        "مرحبا": [vowelled],
        "\u0939\u093f\u0928\u094d\u0926\u0940": [vowelled],  # Hindi, marks and all
        # A piece of a word is no word of it: a letter, a stem.
        "\u0939": [],
        "مرحب": [],
        "ا": [],
    }
    assert {query: found(client, quote(query)) for query in searches} == searches

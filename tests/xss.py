"""XSS payloads and an independent judge of whether an HTML page can run code.

The judge is built on the standard library's HTMLParser on purpose: it must not share
parsing code with bleach, which is what produces the HTML under test.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

_B64_SCRIPT = "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="  # <script>alert(1)</script>
_B64_SVG = "PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"  # <svg onload=alert(1)>

SCRIPT_TAGS: list[str] = [
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    '<script src="https://evil.example/x.js"></script>',
    '<script/src="//evil.example/x.js"></script>',
    "<script\ttype='text/javascript'>alert(document.cookie)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<script>alert(1)//",
    "<script>alert(String.fromCharCode(88,83,83))</script>",
    '"><script>alert(1)</script>',
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "<div><script>alert(1)</script></div>",
    "<p>before<script >alert(1)</script >after</p>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
]

EVENT_HANDLERS: list[str] = [
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    '<img src="x" onerror="&#97;lert(1)">',
    '<img/src="x"/onerror=alert(1)>',
    '<img src="https://ok.example/a.png" onload="alert(1)">',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    "<body/onpageshow=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video src=x onerror=alert(1)></video>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)></audio>",
    "<input autofocus onfocus=alert(1)>",
    "<select autofocus onfocus=alert(1)></select>",
    "<textarea autofocus onfocus=alert(1)></textarea>",
    '<div onmouseover="alert(1)">hover</div>',
    "<a onmouseover=alert(1)>x</a>",
    "<span ONMOUSEOVER='alert(1)'>x</span>",
    '<p onclick="alert(1)">click</p>',
    "<marquee onstart=alert(1)>x</marquee>",
    "<b onpointerenter=alert(1)>x</b>",
    "<iframe onload=alert(1)></iframe>",
]

DANGEROUS_URLS: list[str] = [
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105'
    '&#0000112&#0000116&#0000058alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="java&#10;script:alert(1)">x</a>',
    '<a href=" &#14;  javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    f'<a href="data:text/html;base64,{_B64_SCRIPT}">x</a>',
    '<img src="javascript:alert(1)">',
    f'<img src="data:image/svg+xml;base64,{_B64_SVG}">',
    '<img srcset="x.png 1x, javascript:alert(1) 2x">',
    '<input type="image" src="javascript:alert(1)">',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    '<object data="javascript:alert(1)"></object>',
    f'<object data="data:text/html;base64,{_B64_SCRIPT}"></object>',
    '<embed src="javascript:alert(1)">',
    f'<embed src="data:image/svg+xml;base64,{_B64_SVG}">',
    '<base href="javascript:alert(1)//">',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    f'<meta http-equiv="refresh" content="0;url=data:text/html;base64,{_B64_SCRIPT}">',
    '<link rel="import" href="https://evil.example/x.html">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
    '<video poster="javascript:alert(1)"></video>',
]

SVG_AND_MATHML: list[str] = [
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><set attributeName="href" to="javascript:alert(1)"/></svg>',
    '<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>',
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    f'<svg><use href="data:image/svg+xml;base64,{_B64_SVG}#x"/></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=x '
    'onerror=alert(1)&gt;">',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
]

MUTATION_AND_CONTAINERS: list[str] = [
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<noscript><style></noscript><img src=x onerror=alert(1)>",
    '<noembed><img title="</noembed><img src=x onerror=alert(1)>"></noembed>',
    '<xmp><p title="</xmp><img src=x onerror=alert(1)>">',
    "<template><script>alert(1)</script></template>",
    "<template><img src=x onerror=alert(1)></template>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe srcdoc="&lt;img src=x onerror=alert(1)&gt;"></iframe>',
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "<title><img src=x onerror=alert(1)></title>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
]

STYLE_TRICKS: list[str] = [
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    '<div style="behavior: url(x.htc)">x</div>',
    '<p style="x:\\65 xpression(alert(1))">x</p>',
    "<style>@import 'javascript:alert(1)';</style>",
    '<style>body{background:url("javascript:alert(1)")}</style>',
    "<style>*{-moz-binding:url(https://evil.example/x.xml#xss)}</style>",
    '<link rel=stylesheet href="data:text/css,body{background:red}">',
]

MARKDOWN: list[str] = [
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    f"[x](data:text/html;base64,{_B64_SCRIPT})",
    f"[x](data:image/svg+xml;base64,{_B64_SVG})",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "<javascript:alert(1)>",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "[x]\n\n[x]: JaVaScRiPt:alert(1) 'title'",
    '[x](https://ok.example "t\\" onmouseover=\\"alert(1)")',
    '![x" onerror="alert(1)](https://ok.example/a.png)',
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "**bold <img src=x onerror=alert(1)>**",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | <script>alert(1)</script> |",
    '| a |\n|---|\n| <a href="javascript:alert(1)">x</a> |',
    '- item <img src=x onerror=alert(1)>\n- <a href="javascript:alert(1)">x</a>',
    "1. <svg onload=alert(1)>\n2. two",
    "> quote <svg onload=alert(1)>",
    "```\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "`<img src=x onerror=alert(1)>`",
    "<div>\n\n[x](javascript:alert(1))\n\n</div>",
    '<p>\n<a href="javascript:alert(1)">x</a>\n</p>',
    '<details open ontoggle="alert(1)">\n\n*md inside*\n\n</details>',
]

VECTORS: list[str] = [
    *SCRIPT_TAGS,
    *EVENT_HANDLERS,
    *DANGEROUS_URLS,
    *SVG_AND_MATHML,
    *MUTATION_AND_CONTAINERS,
    *STYLE_TRICKS,
    *MARKDOWN,
]

_ALWAYS_EXECUTABLE = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"}
)
_FOREIGN = frozenset({"svg", "math"})
_DATA_BLOCK = "application/ld+json"  # a <script> of this type only, browsers never run
_URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "data", "xlink:href", "background", "poster",
        "srcset", "imagesrcset", "lowsrc", "dynsrc", "codebase", "cite", "longdesc", "ping",
        "manifest", "icon", "profile", "archive", "classid",
    }
)  # fmt: skip
_BAD_SCHEMES = ("javascript:", "vbscript:", "livescript:", "data:")
_URL_JUNK = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_BAD_STYLE_ATTRIBUTE = ("expression", "url(", "javascript", "vbscript", "behavior", "binding")
_BAD_STYLE_SHEET = ("expression", "javascript", "vbscript", "behavior", "binding", "@import")
_LINK_NAVIGATION_RELS = frozenset({"alternate", "next", "prev", "canonical"})
_LINK_RESOURCE_RELS = frozenset({"stylesheet", "icon", "shortcut"})
_SAFE_HTTP_EQUIV = frozenset(
    {"content-type", "content-language", "x-ua-compatible", "content-security-policy"}
)


def _is_site_path(url: str) -> bool:
    """Tell whether url is a path on this site: "/..." but not "//host" or "/\\host"."""
    url = url.strip()
    return url.startswith("/") and not url.startswith(("//", "/\\"))


def _is_web_url(url: str) -> bool:
    """Tell whether url is an absolute http(s) URL."""
    return url.strip().lower().startswith(("http://", "https://"))


def _has_bad_scheme(value: str) -> bool:
    """Tell whether a URL, or any srcset candidate, uses a scriptable or data: scheme."""
    # Browsers ignore tabs and newlines anywhere in a URL and trim control chars around it.
    candidates = [value, *value.split(",")]
    return any(_URL_JUNK.sub("", c).lower().startswith(_BAD_SCHEMES) for c in candidates)


def _css_is_dangerous(css: str, markers: tuple[str, ...]) -> bool:
    """Tell whether CSS, with comments and whitespace removed, contains a marker."""
    squeezed = re.sub(r"\s+", "", _CSS_COMMENT.sub("", css)).lower()
    # A CSS escape can spell any of the markers, so any backslash is suspicious.
    return "\\" in squeezed or any(marker in squeezed for marker in markers)


class _Judge(HTMLParser):
    """Record executable constructs while parsing a page."""

    # Raw text as a browser with scripting enabled parses it, so that markup hidden inside
    # these elements is not mistaken for real tags (and real tags after them are seen).
    CDATA_CONTENT_ELEMENTS = (
        "script", "style", "noscript", "iframe", "noembed", "noframes", "xmp", "textarea",
        "title",
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False
        self._json: str | None = None  # the text of the data block being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_element(tag, attrs)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check_element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag == "script" and self._json is not None:
            # Cut short by a "</script>" inside a value, the block is no longer JSON.
            try:
                json.loads(self._json)
            except ValueError:
                self.found.append(f"<script> data cut short: {self._json[-60:]!r}")
            self._json = None

    def handle_data(self, data: str) -> None:
        if self._json is not None:
            self._json += data
        if self._in_style and _css_is_dangerous(data, _BAD_STYLE_SHEET):
            self.found.append(f"<style>{data[:60]}")

    def _check_element(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script" and values.get("type") == _DATA_BLOCK and len(values) == 1:
            self._json = ""  # a data block: never run, but it must stay whole JSON
        elif tag in _ALWAYS_EXECUTABLE or tag in _FOREIGN:
            self.found.append(f"<{tag}>")
        elif tag == "link" and not _link_is_harmless(values):
            self.found.append(f"<link {values}>")
        elif tag == "meta" and "http-equiv" in values:
            if values["http-equiv"].strip().lower() not in _SAFE_HTTP_EQUIV:
                self.found.append(f"<meta http-equiv={values['http-equiv']!r}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            elif name == "srcdoc":
                self.found.append(f"<{tag} srcdoc>")
            elif name == "style" and _css_is_dangerous(value, _BAD_STYLE_ATTRIBUTE):
                self.found.append(f"<{tag} style={value[:60]!r}>")
            elif name in _URL_ATTRIBUTES and _has_bad_scheme(value):
                self.found.append(f"<{tag} {name}={value[:60]!r}>")
            elif name in {"action", "formaction"} and value.strip():
                # Forms may only post back to this site.
                if not _is_site_path(value):
                    self.found.append(f"<{tag} {name}={value[:60]!r}>")


def _link_is_harmless(attrs: dict[str, str]) -> bool:
    """Tell whether a <link> only points at this site's resources or at other pages."""
    rels = set(attrs.get("rel", "").lower().split())
    href = attrs.get("href", "")
    if not rels or not rels <= _LINK_RESOURCE_RELS | _LINK_NAVIGATION_RELS:
        return False
    if rels & _LINK_RESOURCE_RELS:
        return _is_site_path(href)
    return _is_site_path(href) or _is_web_url(href)


def executable_parts(html: str) -> list[str]:
    """Return every executable construct found in an HTML page (empty when safe).

    Meant for whole pages as well as fragments. Flagged: any <script> but a JSON-LD data
    block whose text is whole JSON (pages must not run one, not even from /static),
    iframe/frame/object/embed/applet/base/portal, <svg> and <math>, <meta http-equiv>
    other than content-type, content-language, x-ua-compatible or content-security-policy,
    <link> unless every rel is one of stylesheet/icon (href must be a site path like
    "/static/...") or alternate/next/prev/canonical (site path or http(s)), on* attributes,
    srcdoc, style attributes with expression/url(/javascript/behavior/binding or any CSS
    escape, <style> text with @import/expression/javascript/behavior/binding, URL
    attributes whose value starts with javascript:, vbscript:, livescript: or data: once
    whitespace and control characters are removed, and form actions or
    formactions that leave the site.
    """
    judge = _Judge()
    judge.feed(html)
    judge.close()
    return judge.found

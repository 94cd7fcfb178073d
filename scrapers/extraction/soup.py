"""BeautifulSoup with the lxml parser, built with less Python per element.

Building the tree was most of an article page's extraction CPU: for every element lxml reports,
bs4's lxml builder copies the attributes twice (namespace handling HTML never needs), and
BeautifulSoup goes through handle_starttag, endData, pushTag, _popToTag and popTag, and re-links
every string it adds by walking up to the root. `parse_html` gives the same BeautifulSoup tree
(same Tag and NavigableString classes, attributes, links between elements; the test in
tests/scrapers/extraction/test_soup.py compares them node by node) from a builder that does that
bookkeeping inline, makes strings without NavigableString's constructor (while that constructor
sets just the fields the builder sets; checked at import), and hands anything unusual
(namespaces, a tag stack lxml did not nest) back to bs4's own code. Tree building costs 47 % fewer
instructions (cachegrind, 100 bench and 100 mirror pages: 1,896 M → 1,005 M). lxml reports to
closures rather than to the builder's methods (state in their cells, text appended by lxml straight
to a list): parse_html another 20 % fewer (300 bench pages: 4.49 M → 3.61 M instructions a page).
Extraction reads a tree inside `parsed_html`, which takes the tree apart afterwards (`discard`):
freed by reference counting at once rather than found by the cycle collector.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.builder import ParserRejectedMarkup, nonwhitespace_re
from bs4.builder._lxml import LXMLTreeBuilder
from bs4.element import AttributeValueWithCharsetSubstitution, PreformattedString
from bs4.formatter import HTMLFormatter
from lxml import etree

#: The characters BeautifulSoup treats as collapsible whitespace (BeautifulSoup.ASCII_SPACES).
_ASCII_SPACES = BeautifulSoup.ASCII_SPACES
_NO_NAMESPACES: dict[str, str] = {}
_STRING_FIELDS_KNOWN = vars(NavigableString("")) == dict.fromkeys(
    ("hidden", "parent", "previous_element", "next_element", "next_sibling", "previous_sibling"), None
) | {"hidden": False}
#: Where the builder leaves the page's elements in document order (see `parsed_elements`).
_ELEMENTS = "_ropsfeed_elements"


def parse_html(markup: str) -> BeautifulSoup:
    """`BeautifulSoup(markup, "lxml")`, built faster (see the module docstring)."""
    return BeautifulSoup(markup, builder=_LeanLXMLTreeBuilder)


@contextmanager
def parsed_html(markup: str) -> Iterator[BeautifulSoup]:
    """`parse_html(markup)` for the block, then taken apart (`discard`): nothing read from the
    tree may outlive the block but plain values (strings, numbers, lists and dicts of them)."""
    soup = parse_html(markup)
    try:
        yield soup
    finally:
        discard(soup)


def discard(soup: BeautifulSoup) -> None:
    """Take a tree apart so that reference counting frees it the moment it is dropped.

    A bs4 tree is all reference cycles (parent and child, siblings, next and previous element, the
    soup and its builder), so dropping the last reference to it frees nothing: the cycle
    collector has to find it, walking its ~500 objects a page, and in a worker that was a fifth of
    reading an article page (benchmarks/bench_crawl.py pages: 1.11 → 0.88 ms, the collector's
    share 0.24 → 0.03 ms). Each element's fields are dropped: the links between elements, the
    builder's to the soup, the parse state lxml's parser holds. A tree bs4 built itself is taken
    apart alike (bs4's `decompose` of a soup leaves its elements linked).
    """
    elements = parsed_elements(soup)
    if elements is None:  # (not made by `parse_html`)
        elements = soup.find_all(True)
    for node in (soup, *elements):
        fields = vars(node)
        for child in fields.get("contents", ()):
            if isinstance(child, NavigableString):
                vars(child).clear()
        if node is not soup:
            fields.clear()
    builder = vars(soup).get("builder")
    if builder is not None:
        target = vars(builder).get("_target")
        if target is not None:  # lxml's parser holds the target's closures, they the parse state
            for closure in vars(target).values():
                for cell in getattr(closure, "__closure__", None) or ():
                    cell.cell_contents = None
            vars(target).clear()
        vars(builder).clear()
    elements.clear()
    vars(soup).clear()


def contents_html(tag: Tag) -> str:
    """`tag.decode_contents()`: the same string, written by one recursive walk.

    bs4's decode() serves every use (pretty printing, any formatter, a tree walked through an
    event stream of generators and a Formatter call per string): it took longer than parsing an
    API post's content. This writes what it writes with the "minimal" formatter and no
    indentation, the only way extraction calls it; the equality is checked when this module is
    imported (decode_contents() otherwise) and on every bench and mirror page by the tests.
    """
    if not _CONTENTS_HTML_MATCHES:
        return tag.decode_contents()
    pieces: list[str] = []
    _write_contents(tag, pieces.append)
    return "".join(pieces)


def _escape(text: str) -> str:
    """EntitySubstitution.substitute_xml: the minimal formatter's escaping of &, < and >."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _write_contents(node: Tag, write: Any) -> None:
    literal = node.name in _CDATA_TAGS  # (script, style: their text is written as it is)
    for child in node.contents:
        if isinstance(child, Tag):
            name = f"{child.prefix}:{child.name}" if child.prefix else child.name
            empty = not child.contents and child.can_be_empty_element is True
            if not child.hidden:
                write(f"<{name}{_attributes(child)}{_VOID_CLOSE if empty else ''}>")
            _write_contents(child, write)
            if not empty and not child.hidden:
                write(f"</{name}>")
        elif isinstance(child, PreformattedString):  # comments, CDATA, doctypes…: written as they are
            write(child.PREFIX + child + child.SUFFIX)
        else:
            write(child.PREFIX + (child if literal else _escape(child)) + child.SUFFIX)


def _attributes(tag: Tag) -> str:
    """Formatter.attributes (sorted by name) written as Tag._format_tag writes them."""
    if not tag.attrs:
        return ""
    written = []
    for key, value in sorted(tag.attrs.items()):
        if value is None:
            written.append(key)
            continue
        if isinstance(value, (list, tuple)):
            value = " ".join(value)
        elif not isinstance(value, str):
            value = str(value)
        elif isinstance(value, AttributeValueWithCharsetSubstitution):
            value = value.substitute_encoding("utf-8")
        value = _escape(value)
        if '"' not in value:
            written.append(f'{key}="{value}"')
        elif "'" not in value:
            written.append(f"{key}='{value}'")
        else:
            written.append(f'{key}="{value.replace(chr(34), "&quot;")}"')
    return " " + " ".join(written)


def parsed_elements(soup: BeautifulSoup) -> list[Tag] | None:
    """The elements of a page from `parse_html`, in document order as parsed (`soup.find_all(True)`
    before any change), listed by the builder as it made them; None for another soup."""
    return vars(soup).get(_ELEMENTS)


class _LeanLXMLTreeBuilder(LXMLTreeBuilder):
    """lxml's start/end/data events turned into bs4 elements as BeautifulSoup itself would.

    lxml is given a target of closures (`_lean_target`) rather than this builder's methods: the
    parse state they change on every element (the current tag, the last element made, the text
    collected) lives in their cells, and lxml appends the text it reports straight to a list.
    The soup's own state (current_data, tagStack, open_tag_counter, the whitespace and string
    container stacks, _most_recent_element) is left exactly as bs4 leaves it, and handed to bs4
    whenever its code takes over (doctypes, processing instructions, anything unusual); without
    the conditions that path needs (a SoupStrainer, custom element classes, constructors of Tag
    or NavigableString that set other fields than now) bs4's own builder code does it all.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._multi_valued: dict[str, frozenset[str]] = {}
        self._elements: list[Tag] = []
        # strings made with str.__new__ and their fields set here, when NavigableString.__new__
        # (the only constructor of every string class used) sets those fields and no others
        containers = self.string_containers
        if containers is self.DEFAULT_STRING_CONTAINERS:
            plain_classes = _DEFAULT_CONTAINERS_PLAIN
        else:
            plain_classes = all(c.__new__ is NavigableString.__new__ for c in containers.values())
        self._strings_by_hand = _STRING_FIELDS_KNOWN and plain_classes

    def feed(self, markup: Any) -> None:
        soup = self.soup
        assert soup is not None
        self._elements = []
        vars(soup).pop(_ELEMENTS, None)  # (from an attempt lxml rejected, in another encoding)
        if soup.parse_only is not None or soup.element_classes:
            # a SoupStrainer or custom element classes: BeautifulSoup's own methods honour them
            super().feed(markup)
            return
        try:
            self._target = self._lean_target(soup)  # (kept for `discard`: its closures hold the parse state)
            self.parser = etree.HTMLParser(
                target=self._target, recover=True, huge_tree=self.huge_tree, encoding=soup.original_encoding
            )
            self.parser.feed(markup)
            self.parser.close()
        except (UnicodeDecodeError, LookupError, etree.ParserError) as e:  # (as bs4's feed)
            raise ParserRejectedMarkup(e) from e
        vars(soup)[_ELEMENTS] = self._elements

    def _lean_target(self, soup: BeautifulSoup) -> SimpleNamespace:
        """The target lxml reports the page to: BeautifulSoup.handle_starttag, pushTag,
        handle_endtag, _popToTag, popTag, handle_data, endData and object_was_parsed, inline.

        bs4's object_was_parsed also calls _linkage_fixer, which walks up to the root looking
        for an open tag with a next sibling; while parsing, open tags are always their parent's
        last child, so it finds none and changes nothing.
        """
        builder = self
        elements = self._elements
        stack, counter = soup.tagStack, soup.open_tag_counter
        keep_whitespace, in_container = soup.preserve_whitespace_tag_stack, soup.string_container_stack
        preserve_whitespace_tags, containers = self.preserve_whitespace_tags, self.string_containers
        multi_valued, split_words = self._multi_valued, self.cdata_list_attributes
        dict_class, list_class = self.attribute_dict_class, self.attribute_value_list_class
        namespaces = self.active_namespace_prefixes[-1]
        empty_tags, is_xml, parser_class = self.empty_element_tags, self.is_xml, soup.__class__
        main_strings = Tag.MAIN_CONTENT_STRING_TYPES
        new_tag, new_string, dict_setitem, spaces = Tag.__new__, str.__new__, dict.__setitem__, _ASCII_SPACES
        # (Tag's and NavigableString's constructors are called when they set other fields than
        # these functions set by hand; and for a builder that splits no attribute values, a case
        # left to Tag's constructor)
        tags_by_hand, strings_by_hand = _TAGS_BY_HAND and bool(split_words), self._strings_by_hand
        pending: list[str] = []
        soup.current_data = pending
        current: Tag = soup.currentTag  # type: ignore[assignment]
        recent = soup._most_recent_element

        def handed_over(method: Any, *args: Any) -> None:
            """bs4's own handling of an event, from the soup's state as bs4 keeps it."""
            nonlocal current, recent
            soup.currentTag, soup._most_recent_element = current, recent
            method(builder, *args)
            current, recent = soup.currentTag, soup._most_recent_element  # type: ignore[assignment]
            if soup.current_data is not pending:  # (endData starts a new list)
                pending[:] = soup.current_data
                soup.current_data = pending

        def string(text: str, container: type[NavigableString]) -> None:
            """BeautifulSoup.endData(container) for `text`: the string made and linked."""
            nonlocal recent
            if not keep_whitespace and not text.strip(spaces):
                text = "\n" if "\n" in text else " "
            if container is NavigableString and in_container:
                container = containers.get(in_container[-1].name, NavigableString)
            contents = current.contents
            sibling = contents[-1] if contents else None
            if strings_by_hand:  # (one dict made at its size: a str's fields live in a dict of their own)
                made = new_string(container, text)
                made.__dict__ = {"hidden": False, "parent": current, "previous_element": recent,
                                 "next_element": None, "next_sibling": None, "previous_sibling": sibling}  # fmt: skip
            else:
                made = container(text)
                made.parent, made.previous_element, made.previous_sibling = current, recent, sibling
            if recent is not None:
                recent.next_element = made
            if sibling is not None:
                sibling.next_sibling = made
            recent = made
            contents.append(made)

        def start(name: str, attrib: dict[str, str]) -> None:
            nonlocal current, recent
            if name[0] == "{" or (attrib and "{" in "".join(attrib)):  # lxml's "{namespace}name"
                handed_over(LXMLTreeBuilder.start, name, attrib)
                elements.append(soup.currentTag)  # type: ignore[arg-type]
                return
            if pending:
                text = pending[0] if len(pending) == 1 else "".join(pending)
                pending.clear()
                string(text, NavigableString)
            parent = current
            # (the dict class's constructor copies without its __setitem__, which keeps str values anyway)
            attrs = dict_class(attrib) if attrib else dict_class()
            if not tags_by_hand or (attrib and name == "meta" and ("charset" in attrs or "http-equiv" in attrs)):
                # (bs4 substitutes the charset of a <meta charset> or <meta http-equiv>: Tag does that)
                tag = Tag(soup, builder, name, None, None, attrs, parent, recent, namespaces=namespaces)
            else:
                if attrib:  # class, rel… split into lists as bs4's _replace_cdata_list_attribute_values
                    names = multi_valued.get(name)
                    if names is None:
                        names = multi_valued[name] = frozenset(
                            split_words.get("*", set()) | split_words.get(name.lower(), set())
                        )
                    if not names.isdisjoint(attrs):
                        for key in [k for k in attrs if k in names]:
                            dict_setitem(attrs, key, list_class(nonwhitespace_re.findall(attrs[key])))
                # Tag(soup, builder, name, None, None, attrs, parent, recent, namespaces=…) without
                # its constructor: the same fields, set as it sets them for an HTML builder
                # (checked at import, `_TAGS_BY_HAND`)
                tag = new_tag(Tag)
                tag.parser_class = parser_class
                tag.name = name
                tag.namespace = None
                tag._namespaces = namespaces or {}
                tag.prefix = None
                tag.sourceline = None
                tag.sourcepos = None
                tag.attribute_value_list_class = list_class
                tag.attrs = attrs
                tag.known_xml = is_xml
                tag.contents = []
                # PageElement.setup(parent, previous_element)
                tag.parent = parent
                tag.previous_element = recent
                if recent is not None:
                    recent.next_element = tag
                tag.next_element = None
                tag.next_sibling = None
                contents = parent.contents
                sibling = contents[-1] if contents else None
                tag.previous_sibling = sibling
                if sibling is not None:
                    sibling.next_sibling = tag
                tag.hidden = False
                tag.can_be_empty_element = empty_tags is None or name in empty_tags
                tag.cdata_list_attributes = split_words
                tag.preserve_whitespace_tags = preserve_whitespace_tags
                tag.interesting_string_types = {containers[name]} if name in containers else main_strings
            # BeautifulSoup.handle_starttag and pushTag
            elements.append(tag)
            recent = tag
            parent.contents.append(tag)
            stack.append(tag)
            current = tag
            counter[name] += 1
            if name in preserve_whitespace_tags:
                keep_whitespace.append(tag)
            if name in containers:
                in_container.append(tag)

        def end(name: str) -> None:
            nonlocal current
            if current is soup or current.name != name or current.prefix is not None:
                handed_over(LXMLTreeBuilder.end, name)
                return
            if pending:
                text = pending[0] if len(pending) == 1 else "".join(pending)
                pending.clear()
                string(text, NavigableString)
            # BeautifulSoup._popToTag and popTag for the innermost open tag, the one lxml closes
            stack.pop()
            counter[name] -= 1
            # (bs4 compares with ==; the innermost open <pre> or <script> can only be this very tag)
            if keep_whitespace and keep_whitespace[-1] is current:
                keep_whitespace.pop()
            if in_container and in_container[-1] is current:
                in_container.pop()
            current = stack[-1]

        def comment(text: str) -> None:
            # LXMLTreeBuilderForXML.comment: endData(), handle_data(text), endData(Comment)
            if pending:
                collected = pending[0] if len(pending) == 1 else "".join(pending)
                pending.clear()
                string(collected, NavigableString)
            string(text, Comment)

        def close() -> None:
            soup.currentTag, soup._most_recent_element = current, recent
            builder.close()

        start.__signature__ = _START_SIGNATURE  # type: ignore[attr-defined]
        return SimpleNamespace(
            start=start,
            end=end,
            data=pending.append,
            comment=comment,
            doctype=lambda *args: handed_over(LXMLTreeBuilder.doctype, *args),
            pi=lambda *args: handed_over(LXMLTreeBuilder.pi, *args),
            close=close,
        )

    def _replace_cdata_list_attribute_values(self, tag_name: str, attrs: Any) -> Any:
        """bs4's splitting of class, rel… into lists, testing only the names that can be split."""
        if not attrs or not self.cdata_list_attributes:
            return attrs
        names = self._multi_valued.get(tag_name)
        if names is None:
            names = self._multi_valued[tag_name] = frozenset(
                self.cdata_list_attributes.get("*", set()) | self.cdata_list_attributes.get(tag_name.lower(), set())
            )
        if names.isdisjoint(attrs):
            return attrs
        for key in [k for k in attrs if k in names]:
            value = attrs[key]
            if isinstance(value, str):
                # (the attribute dict's __setitem__ keeps a list as it is)
                dict.__setitem__(attrs, key, self.attribute_value_list_class(nonwhitespace_re.findall(value)))
        return attrs


# lxml asks inspect for the target's start()'s parameters on every parse (to learn whether it takes
# the nsmap, which the HTML parser never has): a signature worked out once answers in 5 µs, where
# reading the function again took 19 µs, a tenth of parsing an API post's content.
_START_SIGNATURE = inspect.Signature(
    [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in ("name", "attrib")]
)

_MINIMAL = HTMLFormatter.REGISTRY["minimal"]
_CDATA_TAGS = frozenset(_MINIMAL.cdata_containing_tags)
_VOID_CLOSE = _MINIMAL.void_element_close_prefix or ""
_SAMPLE = (
    '<!DOCTYPE html><html><head><meta charset="latin-1"><meta http-equiv="content-type" content="text/html; '
    'charset=iso-8859-2"><meta name="description" content="d"><style>p > a {}</style>'
    '<script>if (a < b && c) {}</script></head><body class=" x  y" '
    'id=b><p title=\'say "hi"\' data-x="it\'s &amp; <q>" lang=pl>a &amp; b &lt;c&gt; <br><img src="a.png" alt>'
    "<!-- note --><b></b><template><i>t</i></template><![CDATA[x]]><?pi x?></p><pre>\n a  b</pre>"
    "<td headers='h1 h2'>c</td><a rel='nofollow tag' href='/x?a=1&amp;b=2' data-y=\"a&quot;b'c\">l</a></body></html>"
)
_SAMPLE_SOUP = BeautifulSoup(_SAMPLE, "lxml")
_CONTENTS_HTML_MATCHES = True
_CONTENTS_HTML_MATCHES = all(
    contents_html(tag) == tag.decode_contents() for tag in (_SAMPLE_SOUP, *_SAMPLE_SOUP.find_all(True))
)

_DEFAULT_CONTAINERS_PLAIN = all(
    c.__new__ is NavigableString.__new__ for c in _LeanLXMLTreeBuilder.DEFAULT_STRING_CONTAINERS.values()
)


def _tags_by_hand_match() -> bool:
    """Whether `_LeanLXMLTreeBuilder` makes the Tags bs4 makes: the same fields, values and
    neighbours for every element of a sample (else bs4's own builder code makes them all)."""
    global _TAGS_BY_HAND
    before = _TAGS_BY_HAND
    try:
        _TAGS_BY_HAND = False
        expected = BeautifulSoup(_SAMPLE, "lxml").find_all(True)
        _TAGS_BY_HAND = True
        made = parse_html(_SAMPLE).find_all(True)
    finally:
        _TAGS_BY_HAND = before

    def fields(tag: Tag) -> dict[str, Any]:
        return {k: (getattr(v, "name", type(v)) if k in _NEIGHBOURS else v) for k, v in vars(tag).items()}

    return len(made) == len(expected) and all(
        type(a) is type(b) and fields(a) == fields(b) for a, b in zip(made, expected, strict=True)
    )


_NEIGHBOURS = ("parent", "previous_element", "next_element", "previous_sibling", "next_sibling", "contents")
_TAGS_BY_HAND = False
_TAGS_BY_HAND = _tags_by_hand_match()

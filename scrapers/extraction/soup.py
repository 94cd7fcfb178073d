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
instructions (cachegrind, 100 bench and 100 mirror pages: 1,896 M → 1,005 M).
"""

from __future__ import annotations

import inspect
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.builder import nonwhitespace_re
from bs4.builder._lxml import LXMLTreeBuilder
from bs4.element import AttributeValueWithCharsetSubstitution, PreformattedString
from bs4.formatter import HTMLFormatter

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

    The soup's own state (current_data, tagStack, open_tag_counter, the whitespace and string
    container stacks, _most_recent_element) is kept exactly as bs4 keeps it, so bs4's code can
    take over at any point (comments, doctypes, the end of the document, the fallbacks here).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._multi_valued: dict[str, frozenset[str]] = {}
        self._plain = True
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
        # a SoupStrainer or custom element classes: BeautifulSoup's own methods honour them
        self._plain = soup.parse_only is None and not soup.element_classes
        self._elements = []
        vars(soup).pop(_ELEMENTS, None)  # (from an attempt lxml rejected, in another encoding)
        super().feed(markup)
        if self._plain:
            vars(soup)[_ELEMENTS] = self._elements

    def start(self, name: str, attrib: dict[str, str], nsmap: dict[str, str] = _NO_NAMESPACES) -> None:  # type: ignore[override]
        # (a "{" in an attribute's name, as in lxml's "{namespace}name", is left to bs4's code)
        if not self._plain or nsmap or len(self.nsmaps) > 1 or name[0] == "{" or (attrib and "{" in "".join(attrib)):
            super().start(name, attrib, nsmap)
            if self._plain:
                self._elements.append(self.soup.currentTag)  # type: ignore[union-attr,arg-type]
            return
        soup = self.soup
        assert soup is not None
        if soup.current_data:
            self._end_data(soup)
        # (a dict; with no attributes an empty mapping, and Tag then makes the empty attribute dict;
        # the dict class's constructor copies without its __setitem__, which keeps str values anyway)
        attrs = self.attribute_dict_class(attrib) if attrib else None
        parent = soup.currentTag
        # (bs4 substitutes the charset of a <meta charset> or <meta http-equiv>: Tag does that)
        if _TAGS_BY_HAND and not (name == "meta" and attrs and ("charset" in attrs or "http-equiv" in attrs)):
            tag = self._tag(soup, name, attrs, parent)
        else:
            tag = Tag(soup, self, name, None, None, attrs, parent, soup._most_recent_element,
                      namespaces=self.active_namespace_prefixes[-1])  # fmt: skip
        # BeautifulSoup.handle_starttag and pushTag
        self._elements.append(tag)
        soup._most_recent_element = tag
        parent.contents.append(tag)
        soup.tagStack.append(tag)
        soup.currentTag = tag
        soup.open_tag_counter[name] += 1
        if name in self.preserve_whitespace_tags:
            soup.preserve_whitespace_tag_stack.append(tag)
        if name in self.string_containers:
            soup.string_container_stack.append(tag)

    def _tag(self, soup: BeautifulSoup, name: str, attrs: Any, parent: Tag) -> Tag:
        """`Tag(soup, self, name, None, None, attrs, parent, previous, namespaces=…)` without its
        constructor, which took a third of building the tree: the same fields, set as it sets them
        for an HTML builder (checked at import, `_TAGS_BY_HAND`)."""
        tag = Tag.__new__(Tag)
        tag.parser_class = soup.__class__
        tag.name = name
        tag.namespace = None
        tag._namespaces = self.active_namespace_prefixes[-1] or {}
        tag.prefix = None
        tag.sourceline = None
        tag.sourcepos = None
        tag.attribute_value_list_class = self.attribute_value_list_class
        if attrs is None:
            tag.attrs = self.attribute_dict_class()
        elif self.cdata_list_attributes:
            tag.attrs = self._replace_cdata_list_attribute_values(name, attrs)
        else:  # (bs4 copies them then; never the case for this builder's callers)
            return Tag(soup, self, name, None, None, attrs, parent, soup._most_recent_element,
                       namespaces=self.active_namespace_prefixes[-1])  # fmt: skip
        tag.known_xml = self.is_xml
        tag.contents = []
        # PageElement.setup(parent, previous_element)
        previous = soup._most_recent_element
        tag.parent = parent
        tag.previous_element = previous
        if previous is not None:
            previous.next_element = tag
        tag.next_element = None
        tag.next_sibling = None
        sibling = parent.contents[-1] if parent.contents else None
        tag.previous_sibling = sibling
        if sibling is not None:
            sibling.next_sibling = tag
        tag.hidden = False
        tag.can_be_empty_element = self.can_be_empty_element(name)
        tag.cdata_list_attributes = self.cdata_list_attributes
        tag.preserve_whitespace_tags = self.preserve_whitespace_tags
        containers = self.string_containers
        tag.interesting_string_types = {containers[name]} if name in containers else Tag.MAIN_CONTENT_STRING_TYPES
        return tag

    def end(self, name: str) -> None:  # type: ignore[override]
        soup = self.soup
        assert soup is not None
        current = soup.currentTag
        if not self._plain or len(self.nsmaps) > 1 or current is soup or (current.name, current.prefix) != (name, None):
            super().end(name)
            return
        if soup.current_data:
            self._end_data(soup)
        # BeautifulSoup._popToTag and popTag for the innermost open tag, the one lxml closes
        stack = soup.tagStack
        stack.pop()
        soup.open_tag_counter[name] -= 1
        # (bs4 compares with ==; the innermost open <pre> or <script> can only be this very tag)
        if soup.preserve_whitespace_tag_stack and soup.preserve_whitespace_tag_stack[-1] is current:
            soup.preserve_whitespace_tag_stack.pop()
        if soup.string_container_stack and soup.string_container_stack[-1] is current:
            soup.string_container_stack.pop()
        soup.currentTag = stack[-1]

    def data(self, data: str) -> None:  # type: ignore[override]
        self.soup.current_data.append(data)  # type: ignore[union-attr]

    def _end_data(self, soup: BeautifulSoup) -> None:
        """BeautifulSoup.endData() and object_was_parsed() for the text collected so far.

        bs4 also calls _linkage_fixer, which walks up to the root looking for an open tag with a
        next sibling; while parsing, open tags are always their parent's last child, so it finds
        none and changes nothing.
        """
        if not self._plain:
            soup.endData()
            return
        pieces = soup.current_data
        text = pieces[0] if len(pieces) == 1 else "".join(pieces)
        soup.current_data = []
        if not soup.preserve_whitespace_tag_stack and not text.strip(_ASCII_SPACES):
            text = "\n" if "\n" in text else " "
        containers = soup.string_container_stack
        container = self.string_containers.get(containers[-1].name, NavigableString) if containers else NavigableString
        parent = soup.currentTag
        previous = soup._most_recent_element
        contents = parent.contents
        sibling = contents[-1] if contents else None
        if self._strings_by_hand:
            string = str.__new__(container, text)
            string.hidden = False
            string.parent = parent
            string.previous_element = previous
            string.next_element = None
            string.next_sibling = None
            string.previous_sibling = sibling
        else:
            string = container(text)
            string.parent = parent
            string.previous_element = previous
            string.previous_sibling = sibling
        if previous is not None:
            previous.next_element = string
        if sibling is not None:
            sibling.next_sibling = string
        soup._most_recent_element = string
        contents.append(string)

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
    """Whether `_LeanLXMLTreeBuilder._tag` makes the Tags bs4 makes: the same fields, values and
    neighbours for every element of a sample (else `Tag` itself is called, as before)."""
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

# lxml asks inspect for start()'s parameters on every parse (to learn whether it takes the nsmap):
# a signature worked out once answers in 5 µs, where reading the function again took 19 µs, a tenth
# of parsing an API post's content.
_LeanLXMLTreeBuilder.start.__signature__ = inspect.signature(_LeanLXMLTreeBuilder.start)  # type: ignore[attr-defined]

"""CSS selection on a parsed page that tests only the elements that can match.

soupsieve's select() walks every element of the page and runs the whole selector on each; the
article parser asks for a dozen selectors per page (the site's title and body, the nine default
body selectors in turn, the <time> selectors of both dates, the category links), and that was
almost half of a real page's extraction. Like a browser's rule hashing, `select` looks at the
selector's subject (its last compound: `a` in "span.cat-links a", `div.entry-content`) and takes
the candidates from an index of the page (the elements parse_html listed as it made them, or one
walk): the elements of that name, then only those having its classes, id and attributes, inside
the scope asked for. soupsieve itself still decides on every candidate (`SoupSieve.filter`), so
the result is soupsieve's, in document order; a selector outside the simple grammar below, or a
page with a <template> (whose contents soupsieve does not enter), goes to soupsieve's select()
unchanged. On the mirror's real pages selection went from 45 % of extraction to a fifth (cProfile).

The index describes the page as parsed. Elements removed since with decompose() (boilerplate
stripping) are skipped, and soupsieve reads the attributes as they are now, so a selection after
stripping is still soupsieve's; an element moved or added later is not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import soupsieve
from bs4 import BeautifulSoup, Tag

from scrapers.extraction.soup import parsed_elements

_IDENT = r"-?[A-Za-z_][A-Za-z0-9_-]*"
_COMPOUND = re.compile(
    rf"(?P<name>[a-z][a-z0-9-]*|\*)?(?P<rest>(?:[.#]{_IDENT}|\[[A-Za-z_][A-Za-z0-9_-]*(?:[~|^$*]?=[A-Za-z0-9_-]+)?\])*)"
)
_COMBINATOR = re.compile(r"\s*[>+~]\s*|\s+")
_CLASS_OR_ID = re.compile(rf"([.#])({_IDENT})")
_ATTRIBUTE_NAME = re.compile(r"\[([A-Za-z_][A-Za-z0-9_-]*)")


@dataclass(frozen=True)
class _Compound:
    """What an element must have to match a compound selector (a necessary condition)."""

    name: str | None
    classes: tuple[str, ...]
    id: str | None
    attributes: tuple[str, ...]  # present, whatever the test on their value (HTML names are lowercase)

    def admits(self, element: Tag) -> bool:
        if self.name is not None and element.name != self.name:
            return False
        if self.attributes and not all(a in element.attrs for a in self.attributes):
            return False
        if self.classes:
            value = element.attrs.get("class")
            have = value.split() if isinstance(value, str) else value or ()
            if not all(c in have for c in self.classes):
                return False
        return self.id is None or element.attrs.get("id") == self.id


@dataclass(frozen=True)
class _Subject:
    """A selector's last compound, and the one before it when it must be an ancestor or the parent
    ("div.x a", "div.x > a"): what an element must have to match the selector."""

    compound: _Compound
    ancestor: _Compound | None = None
    parent: _Compound | None = None

    def admits(self, element: Tag) -> bool:
        if not self.compound.admits(element):
            return False
        if self.parent is not None:
            return element.parent is not None and self.parent.admits(element.parent)
        if self.ancestor is not None:
            return any(self.ancestor.admits(p) for p in element.parents)
        return True


@dataclass
class PageIndex:
    """The page's elements in document order, and by name; built in one walk."""

    elements: list[Tag] = field(default_factory=list)
    by_name: dict[str, list[Tag]] = field(default_factory=dict)


def page_index(soup: BeautifulSoup) -> PageIndex:
    # vars(): a missing attribute of a Tag would be looked up as a child element (a whole walk)
    index: PageIndex | None = vars(soup).get("_ropsfeed_index")
    if index is None:
        # the elements parse_html listed as it made them, or a walk over the tree
        elements = parsed_elements(soup)
        if elements is None:
            elements = [element for element in soup.descendants if isinstance(element, Tag)]
        index = PageIndex(elements)
        for element in elements:
            index.by_name.setdefault(element.name, []).append(element)
        vars(soup)["_ropsfeed_index"] = index
    return index


@lru_cache(maxsize=256)
def _subjects(selector: str) -> tuple[_Subject, ...] | None:
    """The subject of each selector of the list, or None when the selector is not simple enough:
    compounds of a lowercase name, classes, ids and unquoted attribute tests, joined by
    descendant, child or sibling combinators."""
    subjects = []
    for part in selector.split(","):
        text, position, compounds, combinators = part.strip(), 0, [], []
        while True:  # compound (combinator compound)*
            match = _COMPOUND.match(text, position)
            if match is None or not match.group(0):
                return None
            compound = _compound(match)
            if compound is None:
                return None
            compounds.append(compound)
            position = match.end()
            if position == len(text):
                break
            combinator = _COMBINATOR.match(text, position)
            if combinator is None:
                return None
            combinators.append(combinator.group(0).strip())
            position = combinator.end()
        relation = combinators[-1] if combinators else None
        subjects.append(
            _Subject(
                compounds[-1],
                ancestor=compounds[-2] if relation == "" else None,
                parent=compounds[-2] if relation == ">" else None,
            )
        )
    return tuple(subjects)


def _compound(match: re.Match[str]) -> _Compound | None:
    name = match.group("name")
    pairs = _CLASS_OR_ID.findall(re.sub(r"\[[^\]]*\]", "", match.group("rest")))
    ids = {value for kind, value in pairs if kind == "#"}
    if len(ids) > 1:
        return None  # "#a#b" matches nothing; leave such oddities to soupsieve
    return _Compound(
        name=None if name in (None, "*") else name,
        classes=tuple(value for kind, value in pairs if kind == "."),
        id=next(iter(ids), None),
        attributes=tuple(a.lower() for a in _ATTRIBUTE_NAME.findall(match.group("rest"))),
    )


@lru_cache(maxsize=256)
def _compiled(selector: str) -> soupsieve.SoupSieve:
    return soupsieve.compile(selector)


def precompile(selectors: Iterable[str]) -> None:
    """Compile these selectors now. soupsieve compiles its own patterns with the first selector
    that needs each (about 0.15 s in all): a worker process does it before its first page."""
    for selector in selectors:
        _compiled(selector)


def select(soup: BeautifulSoup, selector: str, scope: Tag | None = None, limit: int = 0) -> list[Tag]:
    """`(scope or soup).select(selector, limit=limit)` (see the module docstring)."""
    root = scope if scope is not None else soup
    subjects = _subjects(selector)
    index = page_index(soup)
    if subjects is None or "template" in index.by_name:
        return list(root.select(selector, limit=limit))
    names = {s.compound.name for s in subjects}
    candidates = index.by_name.get(next(iter(names)), []) if len(names) == 1 and None not in names else index.elements
    survivors = [
        element
        for element in candidates
        if not vars(element).get("_decomposed")  # (its attributes are gone with it)
        and any(s.admits(element) for s in subjects)
        and (root is soup or any(parent is root for parent in element.parents))
    ]
    if not survivors:
        return []
    # one soupsieve matcher for all of them, built from the document as select() builds it
    found = _compiled(selector).filter(survivors)
    return found[:limit] if limit > 0 else found


def select_one(soup: BeautifulSoup, selector: str) -> Tag | None:
    """`soup.select_one(selector)` (see the module docstring)."""
    found = select(soup, selector, limit=1)
    return found[0] if found else None

"""Site furniture that must not end up in an announcement's body.

The lines are the ones seen on the real sites (../shared/SITES.md, the seeds): theme menus, "back
to top" links, copy-protection notices, WordPress category footers glued to their label.
"""

from __future__ import annotations

import re

from bs4 import NavigableString, Tag

REMOVE_SELECTORS = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe",
    "button", "svg", ".sharedaddy", ".share", ".social-share", ".cookie", "#cookie-notice",
    ".screen-reader-text", ".sidebar", ".widget", ".breadcrumbs", ".post-navigation",
    ".entry-footer", ".related-posts", ".file-icon",
)  # fmt: skip

BOILERPLATE_LINES = re.compile(
    r"^(?:Menu Zamknij|Menu|Zamknij|Powiązane|Powrót na początek strony|Powrót|wstecz|Drukuj"
    r"|Wyślij znajomemu|error: Nie kopiuj!+|Udostępnij|Czytaj więcej\.*|Opublikowano w.*"
    r"|Przejdź do treści|Skip to content|A A A|Kontrast)$",
    re.IGNORECASE,
)


# REMOVE_SELECTORS are plain names, classes and ids: one pass over the elements tests them (as
# soupsieve would: names without case, classes and ids exactly), several times faster than
# matching the whole selector list on every element with soupsieve.
_REMOVE_NAMES = frozenset(s for s in REMOVE_SELECTORS if s[0] not in ".#")
_REMOVE_CLASSES = frozenset(s[1:] for s in REMOVE_SELECTORS if s[0] == ".")
_REMOVE_IDS = frozenset(s[1:] for s in REMOVE_SELECTORS if s[0] == "#")


def _is_furniture(element: Tag) -> bool:
    if element.name.lower() in _REMOVE_NAMES:
        return True
    classes = element.get("class")
    if classes and not _REMOVE_CLASSES.isdisjoint(classes.split() if isinstance(classes, str) else classes):
        return True
    return element.get("id") in _REMOVE_IDS


LINE_ELEMENTS = frozenset({"p", "div", "span", "li", "a", "h2", "h3", "h4", "h5", "h6", "strong", "b", "em"})


def strip_boilerplate(root: Tag, extra_selectors: tuple[str, ...] = ()) -> None:
    """Remove furniture elements and whole elements whose only text is a boilerplate line.

    Only text nodes that could start such a line are looked at, and from each only its enclosing
    elements up to the first one with more text: linear in the page, where testing every element's
    full text would be quadratic in its nesting.
    """
    # (root.find_all(True) and find_all(string=…) without building a SoupStrainer for each call,
    # which cost more than the walk on an API post's few elements)
    doomed_elements = [element for element in root.descendants if isinstance(element, Tag) and _is_furniture(element)]
    if extra_selectors:
        doomed_elements += root.select(", ".join(extra_selectors))
    for element in doomed_elements:  # all found before any goes: a selector sees the page as it came
        if not element.decomposed:
            element.decompose()
    starts = _STARTS_BOILERPLATE.search
    for string in [s for s in root.descendants if isinstance(s, NavigableString) and s and starts(s)]:
        node = string.parent
        doomed = None
        while isinstance(node, Tag) and node is not root and node.name in LINE_ELEMENTS:
            text = " ".join(node.get_text(" ").split())
            if not BOILERPLATE_LINES.match(text):
                break
            doomed = node
            node = node.parent
        if doomed is not None and not doomed.decomposed:
            doomed.decompose()


_STARTS_BOILERPLATE = re.compile(
    r"^\s*(?:Menu|Zamknij|Powiązane|Powrót|wstecz|Drukuj|Wyślij|error:|Udostępnij|Czytaj więcej|Opublikowano w"
    r"|Przejdź do treści|Skip to content|A A A|Kontrast)",
    re.IGNORECASE,
)

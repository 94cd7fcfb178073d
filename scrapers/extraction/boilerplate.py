"""Site furniture that must not end up in an announcement's body.

The lines are the ones seen on the real sites (../shared/SITES.md, the seeds): theme menus, "back
to top" links, copy-protection notices, WordPress category footers glued to their label.
"""

from __future__ import annotations

import re

from bs4 import Tag

REMOVE_SELECTORS = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe",
    "button", "svg", ".sharedaddy", ".share", ".social-share", ".cookie", "#cookie-notice",
    ".screen-reader-text", ".sidebar", ".widget", ".breadcrumbs", ".post-navigation",
    ".entry-footer", ".related-posts",
)  # fmt: skip

BOILERPLATE_LINES = re.compile(
    r"^(?:Menu Zamknij|Menu|Zamknij|Powiązane|Powrót na początek strony|Powrót|wstecz|Drukuj"
    r"|Wyślij znajomemu|error: Nie kopiuj!+|Udostępnij|Czytaj więcej\.*|Opublikowano w.*"
    r"|Przejdź do treści|Skip to content|A A A|Kontrast)$",
    re.IGNORECASE,
)


def strip_boilerplate(root: Tag, extra_selectors: tuple[str, ...] = ()) -> None:
    """Remove furniture elements and whole elements whose only text is a boilerplate line."""
    for selector in REMOVE_SELECTORS + tuple(extra_selectors):
        for element in root.select(selector):
            element.decompose()
    for element in root.find_all(["p", "div", "span", "li", "a", "h2", "h3", "h4", "h5", "h6"]):
        if element.decomposed:
            continue
        text = " ".join(element.get_text(" ").split())
        if text and BOILERPLATE_LINES.match(text):
            element.decompose()

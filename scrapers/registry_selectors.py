"""The registry's selectors checked when it loads, by the libraries that will read them.

A selector the crawl cannot read used to be found only at crawl time, on every article of the
source (a failed page each, scrapers/spiders/base.py: `callback_failed`), night after night. Each
selector is read by one library, and it is checked by that library, as the crawl reads it:

- `listing_links`, `next_page`: Scrapy's `response.css()`, i.e. parsel (cssselect's grammar with
  parsel's `::attr()` and `::text`, translated to XPath and evaluated by lxml); the listing's link
  texts are read with the same selector less its `::attr(href)` (`link_texts`);
- every other field (`title`, `body`, `lead`, `date`, `modified`, `categories`, `images`,
  `remove`): BeautifulSoup's `select()`, i.e. soupsieve (scrapers/extraction/select.py,
  boilerplate.py).

The two grammars differ (soupsieve takes `a:hover` and `svg|rect`; parsel refuses `svg|rect` and
`:nth-child(2n of .a)`), so each field is checked with its own reader, never with one for all.

Importing both libraries and compiling every selector costs ~0.25 s (soupsieve compiles its own
patterns with its first selector), which every command (`ropsfeed sources`, `status`) would pay.
A selector set that passed is remembered in a small file in the user's cache directory, keyed by
the selectors, the Python and the libraries' installed files: a registry (or a library) that
changes is checked again, an unchanged one costs a hash and a file read. A cache that cannot be
read or written only means the check is made every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import warnings
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapers.registry import SourceConfig

# The fields Scrapy's response.css() (parsel) reads; every other one goes to soupsieve.
PARSEL_FIELDS = ("listing_links", "next_page")
SOUPSIEVE_FIELDS = ("title", "body", "lead", "date", "modified", "categories", "images")
_LIBRARIES = ("soupsieve", "bs4", "parsel", "cssselect", "lxml")
_REMEMBERED = 32  # selector sets kept in the cache file (registries seen by this user)


def selector_uses(source: SourceConfig) -> list[tuple[str, str, str]]:
    """(field, selector, library) for each selector the source sets; `remove` items one by one
    (`remove[1]`), so that the one at fault is named."""
    selectors = source.selectors
    uses = [(name, getattr(selectors, name), "parsel") for name in PARSEL_FIELDS]
    uses += [(name, getattr(selectors, name), "soupsieve") for name in SOUPSIEVE_FIELDS]
    uses += [(f"remove[{i}]", value, "soupsieve") for i, value in enumerate(selectors.remove)]
    return [(name, value, library) for name, value, library in uses if value]


def check_selectors(sources: Iterable[SourceConfig]) -> None:
    """Refuse the first selector its library rejects: `ValueError("source S: selectors.F 'X' is
    not a CSS selector …: REASON")`, which load_sources says as the registry's error (exit 2)."""
    uses = [(source.id, *use) for source in sources for use in selector_uses(source)]
    if not uses:
        return
    key = _fingerprint(uses)
    if key is not None and key in remembered():
        return
    problem = _first_problem(uses)
    if problem:
        raise ValueError(problem)
    if key is not None:
        remember(key)


def _first_problem(uses: list[tuple[str, str, str, str]]) -> str | None:
    """The first selector its reader rejects, said in one line; None when all are read."""
    from parsel import Selector  # imported only on a check: ~30 ms and ~50 ms
    from soupsieve import compile as soupsieve_compile

    page = Selector(text="<html><body><a href='/'>a</a></body></html>")
    with warnings.catch_warnings():  # soupsieve's FutureWarning for :contains: the crawl says it
        warnings.simplefilter("ignore")
        for source_id, name, value, library in uses:
            try:
                if library == "parsel":
                    page.css(value)
                    anchors = [p.strip().removesuffix("::attr(href)") for p in value.split(",")
                               if p.strip().endswith("::attr(href)")]  # fmt: skip
                    if anchors:  # what link_texts reads (scrapers/spiders/base.py)
                        page.css(", ".join(anchors))
                else:
                    soupsieve_compile(value)
            except Exception as exc:  # cssselect, parsel, lxml and soupsieve each raise their own kinds
                # soupsieve draws the selector and a caret on the lines below the reason
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                # lxml's "XPath error: Undefined namespace prefix in <the whole translated XPath>"
                reason = reason.split(" in descendant-or-self::")[0].split(" in descendant::")[0]
                reader = "Scrapy's response.css (parsel)" if library == "parsel" else "soupsieve"
                return f"source {source_id}: selectors.{name} {value!r} is not a CSS selector {reader} reads: {reason}"
    return None


def _fingerprint(uses: list[tuple[str, str, str, str]]) -> str | None:
    """What decides the check's outcome: the selectors with their readers, this Python and the
    readers' installed files (an upgrade rewrites them). None when a library is not found."""
    digest = hashlib.sha256(sys.version.encode())
    for library in _LIBRARIES:
        spec = find_spec(library)
        if spec is None or spec.origin is None:
            return None
        try:
            stat = os.stat(spec.origin)
        except OSError:
            return None
        digest.update(f"\0{spec.origin}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    for source_id, name, value, library in sorted(uses):
        digest.update(f"\0{source_id}\0{name}\0{library}\0{value}".encode())
    return digest.hexdigest()


def cache_file() -> Path:
    """`$XDG_CACHE_HOME/ropsfeed/selectors-checked`, `~/.cache/…` by default (the service user's
    home, /var/lib/ropsfeed, in docs/operations.md's setup)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ropsfeed" / "selectors-checked"


def remembered() -> list[str]:
    """The checks that passed (selector sets here, entity sets in registry_entities.py), newest last."""
    try:
        return cache_file().read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return []


def remember(key: str) -> None:
    """Add `key`, the newest last, keeping the last few; written whole and renamed into place, so a
    concurrent run reads the old file or the new one. A cache that cannot be written is no error."""
    path = cache_file()
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    keys = [*[k for k in remembered() if k != key][-(_REMEMBERED - 1) :], key]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text("\n".join(keys) + "\n", encoding="ascii")
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)

"""The declarative source registry (`sources.toml`).

A site is data: its institution, voivodeship, platform and the few selectors it needs. Spider
classes are generated from these entries (scrapers/spiders/generated.py), so adding a site is a
registry entry plus, only when its markup demands it, a small parser class.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from aggregator.diacritics import strip_diacritics
from aggregator.urls import UrlIdentity, host_key
from scrapers.registry_entities import check_entities
from scrapers.registry_hints import closest
from scrapers.registry_selectors import check_selectors

if TYPE_CHECKING:
    from scrapers.extraction.article import ArticleParser

# ROPSFEED_SOURCES points at another registry file (an operator's own selection, the benchmarks).
REGISTRY_PATH = Path(os.environ.get("ROPSFEED_SOURCES") or Path(__file__).with_name("sources.toml"))

VOIVODESHIPS = (
    "dolnośląskie", "kujawsko-pomorskie", "lubelskie", "lubuskie", "łódzkie", "małopolskie",
    "mazowieckie", "opolskie", "podkarpackie", "podlaskie", "pomorskie", "śląskie",
    "świętokrzyskie", "warmińsko-mazurskie", "wielkopolskie", "zachodniopomorskie",
)  # fmt: skip
PLATFORMS = ("wordpress", "joomla", "drupal", "html")


def voivodeship_named(value: str) -> str | None:
    """The voivodeship `value` names, spelled as the registry spells it, however a person typed it:
    "Mazowieckie", "slaskie", "LODZKIE" (no keyboard with Polish letters: "śląskie" and "łódzkie"
    were out of reach of a filter that took the exact spelling only); None when it names none."""
    return _VOIVODESHIPS_FOLDED.get(strip_diacritics(" ".join(value.split())).lower())


_VOIVODESHIPS_FOLDED = {strip_diacritics(v).lower(): v for v in VOIVODESHIPS}


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for HTML pages; empty means "use the platform's defaults"."""

    listing_links: str = ""
    next_page: str = ""
    title: str = ""
    body: str = ""
    # A lead printed outside the body element (Drupal's field-lead above field-body): part of the
    # article, so it opens the stored text – it often names what the body leaves out (the edition).
    lead: str = ""
    date: str = ""  # the visible publication date line ("Dodana: 8 luty 2021 12:31"), read by the date layer
    modified: str = ""  # the visible modification line ("Zmodyfikowana: …"), likewise
    categories: str = ""
    # the pictures an article is shown with outside its text (a news photo, a gallery); empty:
    # WordPress's featured image (scrapers.extraction.article.DEFAULT_IMAGE_SELECTORS)
    images: str = ""
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class HostAlias:
    """Another host name of a source's site that serves the same pages under the same paths.

    `verified` says whether that was seen (SITES.md, archived copies) or only inferred; `note`
    gives the evidence. A URL on an alias host has the same identity key as on the main host.
    """

    host: str
    verified: bool = False
    note: str | None = None


@dataclass(frozen=True)
class SourceConfig:
    id: str
    institution: str
    voivodeship: str
    platform: str
    base_url: str
    listing_urls: tuple[str, ...] = ()
    # the site's RSS feed: on WordPress, the fallback listing when the REST API is off; elsewhere
    # (Joomla, K2), read first for the dates its items give the pages that print none
    feed_url: str | None = None
    api_url: str | None = None
    article_pattern: str | None = None
    per_page: int = 20
    verified: bool = False
    note: str | None = None
    enabled: bool = True
    parser: str | None = None  # "scrapers.parsers.<module>.<Class>", only for sites that need one
    entity: str | None = None  # gazetteer key of the publishing institution (aggregator/entities)
    selectors: Selectors = field(default_factory=Selectors)
    aliases: tuple[HostAlias, ...] = ()
    # query parameters that do not change the page (Joomla K2's `start` glued onto item links)
    identity_ignore_params: tuple[str, ...] = ()
    # a regular expression for path endings that show the same page (a gallery's pages under a post)
    identity_strip_suffix: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def identity(self) -> UrlIdentity:
        """The source's URL identity rules: alias hosts → its host, ignored parameters, CMS home."""
        main = host_key(urlsplit(self.base_url).hostname or "")
        hosts = {host_key(a.host): main for a in self.aliases if host_key(a.host) != main}
        return UrlIdentity(
            hosts=hosts,
            ignore_params=self.identity_ignore_params,
            strip_suffix=self.identity_strip_suffix,
            home=self.cms_home,
            base=self.base_url,
            platform=self.platform,
        )

    @property
    def cms_home(self) -> str | None:
        """Where WordPress answers `?p=<id>`: the REST API's site root (a multisite sub-site's own)."""
        if self.platform != "wordpress":
            return None
        if self.api_url and "wp-json/" in self.api_url:
            return self.absolute(self.api_url.split("wp-json/", 1)[0] or "/")
        return self.base_url

    @property
    def site_names(self) -> tuple[str, ...]:
        """What names the site rather than a page of it, known before the crawl: the institution
        and the host (`<title>Nabór – rops.rzeszow.pl</title>`). The spider adds its listing's title."""
        host = urlsplit(self.base_url).hostname or ""
        return (self.institution, host.removeprefix("www."))

    def absolute(self, path_or_url: str) -> str:
        return urljoin(self.base_url, path_or_url)


class RegistryError(ValueError):
    """The registry file cannot be read or has an entry that is no source: a setting to fix
    (`ROPSFEED_SOURCES`, the operator's own selection), said as one `error: …` line, exit status 2
    (aggregator/cli.py), not a traceback and exit 1 as if a source had failed."""


SOURCE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# What each key of an entry must be: TOML would take `enabled = "false"` (a string, so true) or
# `listing_urls = "/news"` (a string, read as five one-letter paths) without a word.
_ENTRY_KEYS: dict[str, type] = {
    "id": str, "institution": str, "voivodeship": str, "platform": str, "base_url": str, "listing_urls": list,
    "feed_url": str, "api_url": str, "article_pattern": str, "per_page": int, "verified": bool, "note": str,
    "enabled": bool, "parser": str, "entity": str, "selectors": dict, "aliases": list,
    "identity_ignore_params": list, "identity_strip_suffix": str,
}  # fmt: skip
_REQUIRED = ("id", "institution", "voivodeship", "platform", "base_url")
_SELECTOR_KEYS = tuple(f.name for f in fields(Selectors))
_ALIAS_KEYS: dict[str, type] = {"host": str, "verified": bool, "note": str}
_TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", list: "a list", dict: "a table"}


def _unknown_key(key: str, known: Iterable[str], where: str) -> str:
    """ "unknown key 'titel' in selectors (did you mean 'title'?)": a typo named with its likely fix,
    not Python's "unexpected keyword argument" of the dataclass behind it."""
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)
    return f"unknown key {key!r}{where} ({hint})"


def _check_table(table: Any, types: dict[str, type], where: str) -> list[str]:
    """The problems of one TOML table against its keys' types."""
    if not isinstance(table, dict):
        return [f"{where.removeprefix(' in ') or 'the entry'} must be a table"]
    problems = []
    for key, value in table.items():
        want = types.get(key)
        if want is None:
            problems.append(_unknown_key(key, types, where))
        elif not isinstance(value, want) or (want is int and isinstance(value, bool)):
            problems.append(f"{key}{where} must be {_TYPE_NAMES[want]}, not {value!r}")
        elif want is list and key != "aliases" and not all(isinstance(item, str) for item in value):
            problems.append(f"{key}{where} must be a list of strings, not {value!r}")
    return problems


def _entry_problems(entry: dict[str, Any]) -> list[str]:
    """Everything wrong with one `[[source]]` table, each said so that the fix is plain."""
    problems = _check_table(entry, _ENTRY_KEYS, "")
    if missing := [key for key in _REQUIRED if key not in entry]:
        problems.append("missing " + ", ".join(repr(key) for key in missing))
    if isinstance(entry.get("selectors"), dict):
        types = {key: list if key == "remove" else str for key in _SELECTOR_KEYS}
        problems += _check_table(entry["selectors"], types, " in selectors")
    for alias in entry.get("aliases") or () if isinstance(entry.get("aliases"), list) else ():
        problems += _check_table(alias, _ALIAS_KEYS, " in aliases")
        if isinstance(alias, dict) and "host" not in alias:
            problems.append("an alias without its 'host'")
    if isinstance(entry.get("id"), str) and not SOURCE_ID.fullmatch(entry["id"]):
        problems.append(f"id {entry['id']!r} is not lower-case letters, digits and single hyphens ('rops-krakow')")
    if isinstance(entry.get("base_url"), str) and not re.fullmatch(r"https?://[^/?#\s]+/", entry["base_url"]):
        problems.append(f"base_url {entry['base_url']!r} is not a scheme and host ending in '/' ('https://host.pl/')")
    if isinstance(entry.get("voivodeship"), str) and entry["voivodeship"] not in VOIVODESHIPS:
        problems.append(f"unknown voivodeship {entry['voivodeship']!r} (one of: {', '.join(VOIVODESHIPS)})")
    if isinstance(entry.get("platform"), str) and entry["platform"] not in PLATFORMS:
        problems.append(f"unknown platform {entry['platform']!r} (one of: {', '.join(PLATFORMS)})")
    if isinstance(entry.get("per_page"), int) and not isinstance(entry["per_page"], bool) and entry["per_page"] < 1:
        problems.append(f"per_page must be at least 1, not {entry['per_page']}")
    return problems


def _parse_entry(entry: dict) -> SourceConfig:
    if not isinstance(entry, dict):
        raise ValueError(f"[[source]] entries are tables, not {entry!r}")
    if problems := _entry_problems(entry):
        name = entry.get("id") if isinstance(entry.get("id"), str) else "(no id)"
        raise ValueError(f"source {name}: " + "; ".join(problems))
    entry = dict(entry)
    selectors = Selectors(**{k: tuple(v) if k == "remove" else v for k, v in entry.pop("selectors", {}).items()})
    for key in ("listing_urls", "identity_ignore_params"):
        entry[key] = tuple(entry.get(key, ()))
    aliases = tuple(HostAlias(**alias) for alias in entry.pop("aliases", ()))
    source = SourceConfig(selectors=selectors, aliases=aliases, **entry)
    if source.identity_strip_suffix:
        try:
            re.compile(source.identity_strip_suffix)
        except re.error as exc:
            raise ValueError(f"source {source.id}: identity_strip_suffix is not a regular expression: {exc}") from None
    return source


def parser_class(dotted: str) -> type[ArticleParser]:
    """The `ArticleParser` subclass a `parser = "scrapers.parsers.<module>.<Class>"` names.

    Resolved when the registry is read, so a misspelt one is the registry's one-line error, not a
    traceback of every crawl and of `scrapy list` (the spider classes are generated at import)."""
    from scrapers.extraction.article import ArticleParser  # here: extraction imports this module

    module_name, _, class_name = dotted.rpartition(".")
    try:
        cls = getattr(import_module(module_name), class_name) if module_name else None
    except ImportError as exc:
        raise ValueError(f"parser {dotted!r} cannot be imported: {exc}") from None
    except AttributeError:
        cls = None
    if cls is None:
        raise ValueError(f"parser {dotted!r}: no class {class_name!r} in {module_name or '(no module)'}")
    if not (isinstance(cls, type) and issubclass(cls, ArticleParser)):
        raise ValueError(f"parser {dotted!r} is not a subclass of scrapers.extraction.article.ArticleParser")
    return cls


@cache
def load_sources(path: Path = REGISTRY_PATH) -> tuple[SourceConfig, ...]:
    """The registry's sources; `RegistryError` naming the file when it cannot be read or is wrong,
    a selector its library rejects (not a failed page per article at crawl time) and an `entity`
    the gazetteer does not know included."""
    where = f"the source registry {path}" + (" (ROPSFEED_SOURCES)" if os.environ.get("ROPSFEED_SOURCES") else "")
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise RegistryError(f"cannot read {where}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{where} is not valid TOML: {exc}") from None
    try:
        if unknown := sorted(set(data) - {"source"}):  # `[[sources]]`: else no source at all, silently
            raise ValueError(_unknown_key(unknown[0], ["source"], " at the top level").replace("key", "table", 1))
        if not isinstance(data.get("source", []), list):
            raise ValueError("`source` must be [[source]] tables")
        sources = tuple(_parse_entry(entry) for entry in data.get("source", []))
        for source in sources:
            if source.parser:
                try:
                    parser_class(source.parser)
                except ValueError as exc:
                    raise ValueError(f"source {source.id}: {exc}") from None
        check_selectors(sources)  # each by the library the crawl reads it with (registry_selectors.py)
        check_entities(sources)  # against the gazetteer of institutions (registry_entities.py)
    except ValueError as exc:
        raise RegistryError(f"{where}: {exc}") from None
    ids = [s.id for s in sources]
    if len(ids) != len(set(ids)):
        raise RegistryError(f"duplicate source ids in {where}")
    return sources


def get_source(source_id: str) -> SourceConfig:
    for source in load_sources():
        if source.id == source_id:
            return source
    raise KeyError(unknown_source(source_id))


def unknown_source(source_id: str, known: Iterable[str] | None = None) -> str:
    """ "unknown source 'rops-krakw' (did you mean 'rops-krakow'?)": a mistyped id said with the ids
    closest to it (as a misspelt registry key is, `_unknown_key`), all of them when none is close;
    `ropsfeed crawl` and `scrapy crawl` (scrapers/spider_loader.py) say it alike."""
    ids = list(known) if known is not None else [s.id for s in load_sources()]
    if close := closest(source_id, ids):
        return f"unknown source {source_id!r} (did you mean {' or '.join(repr(c) for c in close)}?)"
    return f"unknown source {source_id!r} (known: {', '.join(ids)})"

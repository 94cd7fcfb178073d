"""URL identity: one page, one announcement, whatever URL reached it (DESIGN.md §4, step 1).

Two forms of a URL live here:

- `canonical_url` is what gets *stored and fetched*: the URL as the site wrote it, without the
  fragment and the tracking parameters. Scheme, `www.` and path stay, so it is always a URL the
  real site answers.
- `url_key` is what *identifies* a page: scheme, `www.`, an institution's alias hosts, the trailing
  slash, percent-encoding and parameter order are forgotten. Two URLs with one key are one page.

A CMS's own item id is a stronger identity than any URL: WordPress answers `?p=123` for post 123
whatever its permalink (which changes when an editor fixes the slug), Drupal `/node/123`. When the
id is known — the REST API's `id`, `<link rel="shortlink">`, the `postid-123` body class — it is
stored as the announcement's `external_id` (`wp:123`, `node:123`), and a page is found by that id
first, then by its URL keys (`db.store.save_announcements`); `UrlIdentity.external_id_of` reads
the id from an id URL (a listing that links `?p=123`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl", "ref", "share",
                             "igshid", "yclid"})  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
# characters kept as they are in a key's path and query; everything else is percent-encoded once
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = ":@!$'()*+,;/?-._~"


def _is_tracking(name: str) -> bool:
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def canonical_url(url: str, ignore_params: Iterable[str] = ()) -> str:
    """Lower-case host, no fragment, no tracking parameters (nor `ignore_params`); scheme, `www.`
    and path kept.

    `www.` stays: the stored URL must be one the real site answers. Treating www/non-www and an
    institution's alias hosts as one site is the identity key's job (`url_key`), not this one's.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _is_tracking(k) and k not in ignore_params
        ]
    )
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))


def host_key(host: str) -> str:
    """A host without `www.`/`www2.` and the trailing dot, lower case: `WWW.Rops.Krakow.pl.` → `rops.krakow.pl`."""
    host = host.lower().rstrip(".")
    for prefix in ("www.", "www2."):
        if host.startswith(prefix) and host.count(".") > 1:
            return host[len(prefix) :]
    return host


def site_of(url: str) -> str:
    """The site a page or base URL is on, as people read it: `es.mcps-efs.pl`, `rops.krakow.pl`
    (no `www.`) — what the web page, the digests and the Scrapyd split name a site by."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def url_key(
    url: str, hosts: Mapping[str, str] | None = None, ignore_params: Iterable[str] = (), strip_suffix: str = ""
) -> str:
    """The identity of the page at `url`: `host/path?sorted-query`, without scheme or fragment.

    `hosts` maps alias hosts (already `host_key`-ed) to the one host they stand for;
    `ignore_params` are query parameters that do not change the page on that site (Joomla's
    `start` glued onto K2 item links); `strip_suffix` is a regular expression for path endings that
    show the same page (NextGEN's `/nggallery/page/2` under a post). Default ports are dropped;
    others stay part of the host.
    """
    parts = urlsplit(url.strip())
    host = host_key(parts.hostname or "")
    host = (hosts or {}).get(host, host)
    port = parts.port
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_PATH_SAFE)
    if strip_suffix:
        path = re.sub(f"(?:{strip_suffix})$", "", path.rstrip("/")) or "/"
    path = path.rstrip("/") or "/"
    for index in ("/index.php", "/index.html", "/index.htm"):
        if path.endswith(index) and not parts.query:
            path = path[: -len(index)] or "/"
    ignored = set(ignore_params)
    pairs = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k) and k not in ignored
    )
    query = "&".join(f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in pairs)
    return host + path + (f"?{query}" if query else "")


@dataclass(frozen=True)
class UrlIdentity:
    """The identity rules of one source: its alias hosts, ignored parameters and CMS home.

    `home` is where WordPress answers `?p=<id>`: the site (or multisite sub-site) root, e.g.
    `https://www.rops-bialystok.pl/andrzej3/`; `base` is the site's root URL, `platform` its CMS.
    """

    hosts: Mapping[str, str] = field(default_factory=dict)
    ignore_params: tuple[str, ...] = ()
    strip_suffix: str = ""
    home: str | None = None
    base: str | None = None
    platform: str | None = None  # the registry's platform: which CMS id URLs mean anything
    # the rules `key` applies, hashable: the memo of `_rule_key` is shared by identities with equal rules
    _rules: tuple[tuple[tuple[str, str], ...], tuple[str, ...], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rules", (tuple(sorted(self.hosts.items())), self.ignore_params, self.strip_suffix))

    def key(self, url: str) -> str:
        """`url_key` under this source's rules, memoised: a crawled page's URLs are keyed again on
        their way (the spider's known-page check, the item's keys, its WordPress id, the store's
        tombstone check), 2 % of the crawl process's CPU before the memo (benchmarks/bench_crawl.py)."""
        return _rule_key(url, self._rules)

    def address(self, url: str) -> str:
        """`canonical_url` without the parameters this site ignores: the address to store for a
        page met with the listing's `?start=20` glued on (Joomla K2 item links), the one the site
        answers alike and a reader would be given."""
        return canonical_url(url, self.ignore_params)

    def same_site(self, url: str, other: str) -> bool:
        """Whether two URLs are on one site: the same host once `www.` and aliases are forgotten."""
        return self.key(url).split("/", 1)[0] == self.key(other).split("/", 1)[0]

    def wordpress_post_key(self, post_id: int | str, home: str | None = None) -> str | None:
        """The key of WordPress post `post_id` (`HOME?p=ID`), or None when no home is known."""
        base = home or self.home
        if not base or not str(post_id).isdigit():
            return None
        return self.key(urljoin(base, f"?p={int(post_id)}"))

    def under_home(self, url: str) -> bool:
        """Whether `url` belongs to the CMS at `home` (a multisite's sub-sites number posts apart)."""
        if not self.home:
            return False
        home = self.key(self.home).rstrip("/")
        return (self.key(url) + "/").startswith(home + "/") or self.key(url).startswith(home + "?")

    def external_id_of(self, url: str) -> str | None:
        """The CMS item a URL names by its id, as stored in `external_id`: `wp:123` for WordPress's
        `HOME?p=123` (the shortlink), `node:123` for Drupal's `/node/123`; None for other URLs."""
        parts = urlsplit(url)
        post = dict(parse_qsl(parts.query)).get("p", "")
        if post.isdigit() and self.key(url) == self.wordpress_post_key(post):
            return f"wp:{int(post)}"
        match = _DRUPAL_NODE.fullmatch(parts.path)
        if match and self.platform == "drupal" and self.base and self.same_site(url, self.base):
            return f"node:{int(match.group(1))}"
        return None

    def keys(self, *urls: str) -> tuple[str, ...]:
        """The keys of the URLs a page was met under, without repeats, in order."""
        return tuple(dict.fromkeys(self.key(u) for u in urls if u))


@functools.lru_cache(maxsize=65_536)
def _rule_key(url: str, rules: tuple[tuple[tuple[str, str], ...], tuple[str, ...], str]) -> str:
    hosts, ignore_params, strip_suffix = rules
    return url_key(url, dict(hosts), ignore_params, strip_suffix)


_DRUPAL_NODE = re.compile(r"/node/(\d+)/?")
NO_ALIASES = UrlIdentity()

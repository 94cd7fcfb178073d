"""URL identity: one page, one URL (DESIGN.md §4, step 1)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "_ga", "ref", "share"})


def canonical_url(url: str) -> str:
    """Lower-case host, no fragment, no tracking parameters; scheme, `www.` and path kept.

    `www.` stays: the stored URL must be one the real site answers. Treating www/non-www and an
    institution's alias hosts as one site is deduplication's job (its alias map), not this one's.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
         if k not in TRACKING_PARAMS and not k.startswith("utm_")]
    )  # fmt: skip
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", query, ""))

"""The mirror URL mapping of DESIGN.md §8.

`https://HOST/PATH?QUERY` is fetched from `MIRROR/HOST/PATH?QUERY`; what is stored is always the
real URL. Both directions live here so the crawler, the server and the tests agree on one rule.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def to_mirror(real_url: str, mirror: str) -> str:
    """The mirror URL that holds `real_url`."""
    parts = urlsplit(real_url)
    base = mirror.rstrip("/")
    path = parts.path or "/"
    return f"{base}/{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def from_mirror(url: str, mirror: str, scheme: str = "https") -> str:
    """The real URL for a mirror URL or a mirror-relative path (`/HOST/PATH`).

    Anything else (already a real URL) is returned unchanged. The mirror does not know the real
    scheme, so the caller supplies it (the scheme of the request that led here).
    """
    base = mirror.rstrip("/")
    mirror_parts = urlsplit(base)
    parts = urlsplit(url)
    if parts.scheme and parts.netloc != mirror_parts.netloc:
        return url
    path = parts.path
    prefix = mirror_parts.path
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    host, _, rest = path.lstrip("/").partition("/")
    if not host:
        return url
    return urlunsplit((scheme, host, "/" + rest, parts.query, parts.fragment))

"""gzip for pages and feeds, with the entity tags RFC 9110 asks of a compressed representation.

A feed of 50 stories with their bodies is ~130 kB of XML, a front page ~27 kB of HTML; gzip takes
them to a fifth or less, which a reader on a phone's data plan and a feed reader polling every few
minutes both feel. Starlette's GZipMiddleware compresses (for a client that says `Accept-Encoding:
gzip`, bodies of 500 bytes or more, with `Vary: Accept-Encoding`) but keeps the tag of the
uncompressed body: two different representations with one strong tag (§8.8.3). Here the tag of a
compressed response, and of a 304 to a client that takes gzip, becomes weak (`W/"…"`, as nginx
does), and the feeds compare tags weakly (feed_urls.not_modified), so a poll with the weak tag back
is still a 304.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CompressionMiddleware:
    """GZipMiddleware, with the entity tag of what it compressed (or would have) made weak."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = GZipMiddleware(app, minimum_size=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accepts_gzip = _takes_gzip(Headers(scope=scope).get("accept-encoding", ""))
        # GZipMiddleware looks for "gzip" anywhere, case-sensitively: it took "gzip;q=0" (RFC 9110
        # §12.5.3: not wanted) and missed "GZIP"; it is told the answer here
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        scope = {**scope, "headers": [*headers, (b"accept-encoding", b"gzip")] if accepts_gzip else headers}

        async def weak_tags(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                compressed = headers.get("content-encoding") == "gzip"
                if etag and not etag.startswith("W/") and (compressed or (accepts_gzip and message["status"] == 304)):
                    headers["etag"] = f"W/{etag}"
                if message["status"] == 304:  # the header the 200 carries (RFC 9110 §15.4.5); a 304 has no body
                    headers.add_vary_header("Accept-Encoding")
            await send(message)

        await self.app(scope, receive, weak_tags)


def _takes_gzip(accept_encoding: str) -> bool:
    """Whether `Accept-Encoding` names gzip (or x-gzip) with a quality above 0."""
    for coding in accept_encoding.split(","):
        name, _, parameters = coding.partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip"):
            continue
        quality = parameters.strip().lower().removeprefix("q=").strip() if parameters.strip() else "1"
        try:
            return float(quality) > 0
        except ValueError:
            return False
    return False

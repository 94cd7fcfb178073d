"""A download handler that fetches real URLs from the offline mirror when one is configured.

Doing the mapping at the download-handler level (instead of rewriting requests in a middleware)
means the whole of Scrapy — scheduler, dupefilter, robots.txt, redirects, the spider — sees only
real URLs; only the socket talks to the mirror. Redirect targets that point into the mirror are
mapped back to real URLs before the redirect middleware sees them.

It also counts each answer's bytes (Scrapy's `headers_received`/`bytes_received` signals): when the
connection drops mid-page, Scrapy's ResponseDataLossError carries no message at all, and the error an
operator reads should say what happened.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import ResponseDataLossError
from scrapy.http import Response

from scrapers.mirror.mapping import from_mirror, to_mirror


class MirrorAwareDownloadHandler(BaseDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.mirror: str | None = crawler.settings.get("ROPSFEED_MIRROR") or None
        self._http = HTTP11DownloadHandler.from_crawler(crawler)
        self._sizes: dict[Request, list[int]] = {}  # request in flight → [announced length or -1, bytes so far]
        crawler.signals.connect(self._headers_received, signal=signals.headers_received)
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def _headers_received(self, body_length: Any, request: Request, **_: Any) -> None:
        sizes = self._sizes.get(request)
        if sizes is not None and isinstance(body_length, int):  # Twisted's UNKNOWN_LENGTH is a string
            sizes[0] = body_length

    def _bytes_received(self, data: bytes, request: Request, **_: Any) -> None:
        sizes = self._sizes.get(request)
        if sizes is not None:
            sizes[1] += len(data)

    async def _download(self, request: Request) -> Response:
        """The HTTP handler's download, with a data loss that says how much of the page came."""
        sizes = self._sizes[request] = [-1, 0]
        try:
            return await self._http.download_request(request)
        except ResponseDataLossError as exc:
            raise ResponseDataLossError(cut_short(*sizes)) from exc
        finally:
            del self._sizes[request]

    async def download_request(self, request: Request) -> Response:
        if not self.mirror:
            return await self._download(request)
        mirrored = request.replace(url=to_mirror(request.url, self.mirror))
        response = await self._download(mirrored)
        location = response.headers.get(b"Location")
        if location:
            target = urljoin(mirrored.url, location.decode("latin-1"))
            real = from_mirror(target, self.mirror, scheme=urlsplit(request.url).scheme)
            response.headers[b"Location"] = real.encode("latin-1")
        return response.replace(url=request.url)

    async def close(self) -> None:
        await self._http.close()


def cut_short(announced: int, received: int) -> str:
    """The reason of a page whose connection closed before its end."""
    sizes = f"got {received} of {announced} bytes" if announced >= 0 else f"got {received} bytes of an unknown length"
    return f"the connection closed before the whole page arrived ({sizes})"

"""A download handler that fetches real URLs from the offline mirror when one is configured.

Doing the mapping at the download-handler level (instead of rewriting requests in a middleware)
means the whole of Scrapy — scheduler, dupefilter, robots.txt, redirects, the spider — sees only
real URLs; only the socket talks to the mirror. Redirect targets that point into the mirror are
mapped back to real URLs before the redirect middleware sees them.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response

from scrapers.mirror.mapping import from_mirror, to_mirror


class MirrorAwareDownloadHandler(BaseDownloadHandler):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.mirror: str | None = crawler.settings.get("ROPSFEED_MIRROR") or None
        self._http = HTTP11DownloadHandler.from_crawler(crawler)

    async def download_request(self, request: Request) -> Response:
        if not self.mirror:
            return await self._http.download_request(request)
        mirrored = request.replace(url=to_mirror(request.url, self.mirror))
        response = await self._http.download_request(mirrored)
        location = response.headers.get(b"Location")
        if location:
            target = urljoin(mirrored.url, location.decode("latin-1"))
            real = from_mirror(target, self.mirror, scheme=urlsplit(request.url).scheme)
            response.headers[b"Location"] = real.encode("latin-1")
        return response.replace(url=request.url)

    async def close(self) -> None:
        await self._http.close()

"""How much of a REST listing the spider takes as read, from the pages' headers and posts: the
callback on the bundled API pages (no network). A listing taken as complete marks every stored
post missing from it deleted, so headers that lie must not make one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import TextResponse

from scrapers.spiders.generated import SPIDERS
from scrapers.spiders.wordpress import WordPressSpider, api_extent
from scrapers.wp_rest import api_query
from tests.scrapers.overlays import BUNDLED

API = "https://mcps.com.pl/wp-json/wp/v2/posts"


def read(spider: WordPressSpider, page: int, headers: dict[str, str]) -> list[Any]:
    body = (BUNDLED / f"wp-json/wp/v2/posts-page-{page}.json").read_bytes()
    url = f"{API}?{api_query(5, page)}"
    response = TextResponse(url, body=body, headers={"Content-Type": "application/json", **headers},
                            request=Request(url))  # fmt: skip

    async def drain() -> list[Any]:
        return [out async for out in spider.parse_api(response, page)]

    return asyncio.run(drain())


def full_crawl() -> WordPressSpider:
    spider = SPIDERS["mcps"]()
    spider.strategy, spider.full = "wp-api", True
    return spider


def test_the_bundled_listing_read_whole_is_complete() -> None:
    spider = full_crawl()
    out = read(spider, 1, {"X-WP-Total": "7", "X-WP-TotalPages": "2"})
    assert [r.cb_kwargs["page"] for r in out if isinstance(r, Request)] == [2]
    assert spider.complete_listing() is None, "page 2 not read yet"
    read(spider, 2, {"X-WP-Total": "7", "X-WP-TotalPages": "2"})
    listing = spider.complete_listing()
    assert listing is not None and len({key for key in listing if key.startswith("wp:")}) == 7
    assert spider.alarms == []


def test_a_page_count_that_cannot_hold_the_post_count_reads_on_and_deletes_nothing() -> None:
    """A cache serving a stale X-WP-TotalPages: 1 page of 5 for 7 posts (page 1 full)."""
    spider = full_crawl()
    out = read(spider, 1, {"X-WP-Total": "7", "X-WP-TotalPages": "1"})
    assert [r.cb_kwargs["page"] for r in out if isinstance(r, Request)] == [2], "the posts on page 2 are read"
    assert spider.complete_listing() is None
    read(spider, 2, {"X-WP-Total": "7", "X-WP-TotalPages": "1"})
    assert spider.complete_listing() is None, "neither header is trusted for deletions"
    [alarm] = spider.alarms
    assert alarm.endswith("X-WP-TotalPages says 1 page(s) of 5 posts but X-WP-Total says 7 posts; reading 2 pages, "
                          "and marking no post deleted")  # fmt: skip


def test_a_full_last_page_without_a_post_count_may_not_be_the_last() -> None:
    spider = full_crawl()
    read(spider, 1, {"X-WP-TotalPages": "1"})
    assert spider.complete_listing() is None


def test_pages_that_hold_fewer_posts_than_the_count_are_not_the_whole_listing() -> None:
    spider = full_crawl()
    read(spider, 1, {"X-WP-Total": "9", "X-WP-TotalPages": "2"})
    read(spider, 2, {"X-WP-Total": "9", "X-WP-TotalPages": "2"})  # 7 posts on the two pages
    assert spider.complete_listing() is None


@pytest.mark.parametrize(
    ("headers", "extent"),
    [
        ({"X-WP-Total": b"7", "X-WP-TotalPages": b"2"}, (2, 7, False)),
        ({"X-WP-TotalPages": b"3"}, (3, None, False)),
        ({"X-WP-Total": b"12", "X-WP-TotalPages": b"2"}, (3, 12, True)),
        ({"X-WP-Total": b"abc", "X-WP-TotalPages": b""}, (0, None, False)),
    ],
)
def test_api_extent(headers: dict[str, bytes], extent: tuple[int, int | None, bool]) -> None:
    found = api_extent(headers, 5)
    assert (found.pages, found.posts, found.contradiction is not None) == extent


def test_a_later_page_that_is_not_json_is_an_error_the_next_crawl_walks_past() -> None:
    spider = full_crawl()
    url = f"{API}?{api_query(5, 2)}"
    half = (BUNDLED / "wp-json/wp/v2/posts-page-2.json").read_bytes()[:500]
    response = TextResponse(url, body=half, headers={"Content-Type": "application/json"},
                            request=Request(url, cb_kwargs={"page": 2}))  # fmt: skip

    async def drain() -> list[Any]:
        return [out async for out in spider.parse_api(response, 2)]

    assert asyncio.run(drain()) == []
    [error] = spider.errors
    assert error.startswith(f"GET {url}: not JSON (application/json): ")
    [failure] = spider.failures.values()
    assert (failure.url, failure.kind) == (url, "listing")

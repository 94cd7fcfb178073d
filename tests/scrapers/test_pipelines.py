"""The storage pipeline's batching: a batch never waits for the annotation worker mid-crawl."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from scrapy.utils.test import get_crawler
from sqlalchemy import select

from db.engine import session_scope
from db.migrate import upgrade
from db.models import Announcement
from db.store import sync_sources
from scrapers.pipelines import StoragePipeline
from scrapers.registry import load_sources
from tests.db.test_store import make_item


def test_a_batch_writes_the_ready_items_in_order_and_close_writes_the_rest(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/pipeline.db"
    upgrade(url)
    with session_scope(url, write=True) as session:
        sync_sources(session, load_sources())
    settings = {"ROPSFEED_DATABASE_URL": url, "ROPSFEED_BATCH_SIZE": 2, "ROPSFEED_ANNOTATION_WORKERS": 0}
    pipeline = StoragePipeline.from_crawler(get_crawler(settings_dict=settings))
    base = make_item()
    items = [replace(base, url=f"https://mcps.com.pl/wpis-{n}/", external_id=f"wp:{n}", raw=None) for n in range(5)]
    waiting = {(i.source_id, i.url) for i in items[1:3]}  # the worker has not finished these yet
    pipeline.annotator.ready = lambda key: key not in waiting  # type: ignore[method-assign]

    def stored() -> list[str]:
        with session_scope(url) as session:
            return list(session.scalars(select(Announcement.url).order_by(Announcement.id)))

    for item in items[:4]:
        pipeline.process_item(item)
    assert stored() == [], "only one ready item ahead of the waiting ones: less than a batch, nothing written"
    waiting.clear()
    pipeline.process_item(items[4])
    assert stored() == [i.url for i in items], "all ready: written in the order they came"

    more = [replace(i, url=i.url + "nowy/", external_id=i.external_id + "0") for i in items[:3]]  # type: ignore[operator]
    waiting.add((more[0].source_id, more[0].url))
    for item in more[:2]:
        pipeline.process_item(item)
    assert len(stored()) == 5, "the first item is not ready: the batch waits, the crawl does not"
    waiting.clear()
    asyncio.run(pipeline.close_spider())
    assert stored()[5:] == [more[0].url, more[1].url], "closing writes what was left"

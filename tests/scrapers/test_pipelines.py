"""The storage pipeline's batching: a batch never waits for the annotation worker mid-crawl."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from db.engine import session_scope
from db.migrate import upgrade
from db.models import Announcement, FailedPage, RawPage
from db.store import sync_sources
from scrapers import pipelines
from scrapers.items import AnnouncementItem, RawResponse
from scrapers.pipelines import StoragePipeline
from scrapers.registry import load_sources
from scrapers.spiders.base import SourceSpider
from scrapers.spiders.generated import SPIDERS
from tests.db.test_store import make_item


def pipeline_on(tmp_path: object, waiting: set[tuple[str, str]], **settings: object) -> tuple[str, StoragePipeline]:
    """A storage pipeline over a new database, batches of 2, no worker processes; the items whose
    keys are in `waiting` are not annotated yet (the worker has not finished them)."""
    url = f"sqlite:///{tmp_path}/pipeline.db"
    upgrade(url)
    with session_scope(url, write=True) as session:
        sync_sources(session, load_sources())
    settings = {"ROPSFEED_DATABASE_URL": url, "ROPSFEED_BATCH_SIZE": 2, "ROPSFEED_ANNOTATION_WORKERS": 0, **settings}
    pipeline = StoragePipeline.from_crawler(get_crawler(settings_dict=settings))
    pipeline.annotator.ready = lambda key: key not in waiting  # type: ignore[method-assign]
    return url, pipeline


def numbered_items(count: int, **changes: object) -> list[AnnouncementItem]:
    base = make_item()
    return [replace(base, url=f"https://mcps.com.pl/wpis-{n}/", external_id=f"wp:{n}", raw=None,
                    body_text=f"{base.body_text} Nabór nr {n}.", **changes) for n in range(count)]  # fmt: skip


def test_a_batch_writes_the_ready_items_in_order_and_close_writes_the_rest(tmp_path: object) -> None:
    items = numbered_items(5)
    waiting = {(i.source_id, i.url) for i in items[1:3]}  # the worker has not finished these yet
    url, pipeline = pipeline_on(tmp_path, waiting)

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


def test_before_waiting_for_a_full_backlog_the_crawl_indexes_the_stories_of_what_it_stored(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ropsfeed crawl` (a run id, stories after the crawl): when ten batches wait for their
    annotations the crawl is about to block; first it adds what it stored to the story index
    (aggregator.stories.DraftRun), which the story step then continues."""
    from aggregator.stories import assign_stories, release_draft

    waiting: set[tuple[str, str]] = set()
    url, pipeline = pipeline_on(tmp_path, waiting, ROPSFEED_RUN_ID="run-1", ROPSFEED_STORIES_AFTER=True)
    assert pipeline.draft is not None
    items = numbered_items(24)
    for item in items[:4]:
        pipeline.process_item(item)
    assert pipeline.draft.result() is None, "no wait yet: nothing indexed"
    waiting.add((items[4].source_id, items[4].url))  # the worker is behind: the backlog grows
    for item in items[4:23]:
        pipeline.process_item(item)
    assert len(pipeline.items) == 19 and pipeline.draft.result() is None
    written: list[int] = []
    save = pipelines.save_announcements

    def counted(session: Any, batch: list[Any], *args: Any, **kwargs: Any) -> Any:
        written.append(len(batch))
        return save(session, batch, *args, **kwargs)

    monkeypatch.setattr(pipelines, "save_announcements", counted)
    pipeline.process_item(items[23])  # the tenth batch: catch up, then wait
    assert pipeline.items == []
    assert written == [2] * 10, "written batch by batch as the annotations come, not all at the end"
    draft = release_draft("run-1")
    assert draft is not None and [id_ for id_, *_ in draft.added] == [1, 2, 3, 4]

    report = assign_stories(url, draft=draft)
    assert (report.drafted, report.assigned) == (4, 24)


def test_closing_writes_batch_by_batch_as_the_annotations_arrive_and_indexes_meanwhile(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the end of a spider the workers still annotate its last batches: each batch is written as
    soon as its annotations are in, and what is stored goes into the story index while the next
    batch is awaited, not everything after the last annotation (the workers idle meanwhile)."""
    from aggregator.stories import release_draft

    items = numbered_items(6)
    waiting = {(i.source_id, i.url) for i in items}
    url, pipeline = pipeline_on(tmp_path, waiting, ROPSFEED_RUN_ID="run-2", ROPSFEED_STORIES_AFTER=True)
    assert pipeline.draft is not None
    for item in items:
        pipeline.process_item(item)
    assert pipeline.items == items, "nothing annotated yet: nothing written"
    written: list[list[str]] = []
    save = pipelines.save_announcements

    def counted(session: Any, batch: list[Any], *args: Any, **kwargs: Any) -> Any:
        written.append([i.url for i in batch])
        return save(session, batch, *args, **kwargs)

    monkeypatch.setattr(pipelines, "save_announcements", counted)

    async def close_while_the_workers_finish() -> None:
        async def workers() -> None:
            for start in (0, 2, 4):  # one batch of annotations after another
                await asyncio.sleep(0.1)
                assert len(written) == start // 2, "each batch written once its annotations are in"
                waiting.difference_update((i.source_id, i.url) for i in items[start : start + 2])

        await asyncio.gather(pipeline.close_spider(), workers())

    asyncio.run(close_while_the_workers_finish())
    assert written == [[i.url for i in items[n : n + 2]] for n in (0, 2, 4)]
    draft = release_draft("run-2")
    assert draft is not None and [id_ for id_, *_ in draft.added] == [1, 2, 3, 4], (
        "the batches written while the next were awaited are in the story index"
    )
    with session_scope(url) as session:
        assert list(session.scalars(select(Announcement.url).order_by(Announcement.id))) == [i.url for i in items]


class Spider:
    """What the pipeline tells a spider about writes: its errors, alarms and what it did not store."""

    name = "mcps"

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.alarms: list[str] = []
        self.unstored: list[tuple[int, str]] = []

    def not_stored(self, count: int, reason: str) -> None:
        self.unstored.append((count, reason))


class Engine:
    """The crawl's engine, as far as the pipeline stops a crawl."""

    def __init__(self) -> None:
        self.closed: list[str] = []

    async def close_spider_async(self, *, reason: str) -> None:
        self.closed.append(reason)


def connection_lost(*_: Any, **__: Any) -> Any:
    raise OperationalError("INSERT INTO announcements …", {}, Exception("server closed the connection unexpectedly"))


def stored_urls(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(Announcement.url).order_by(Announcement.id)))


def test_a_failed_write_while_the_backlog_is_full_keeps_the_whole_backlog(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away while ten batches wait: one write fails (not one per batch), its batch
    stays in front of the others, and the next writes store all of them, in order."""
    items = numbered_items(21)
    waiting = {(items[0].source_id, items[0].url)}
    url, pipeline = pipeline_on(tmp_path, waiting)
    for item in items[:19]:
        pipeline.process_item(item)
    attempts: list[int] = []

    def gone(session: Any, batch: list[Any], *args: Any, **kwargs: Any) -> Any:
        attempts.append(len(batch))
        raise OSError("disk I/O error")

    monkeypatch.setattr(pipelines, "save_announcements", gone)
    pipeline.process_item(items[19])  # the backlog is full: write, waiting
    assert attempts == [2] and pipeline.items == items[:20], "one write failed, its batch kept in front"
    monkeypatch.undo()
    waiting.clear()
    pipeline.process_item(items[20])
    asyncio.run(pipeline.close_spider())
    assert stored_urls(url) == [i.url for i in items], "the next writes stored everything, in order"


def test_a_database_back_within_the_crawl_loses_nothing(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection is cut during one write: its batch waits for the next one (a batch later, not
    at every item), which stores it; the run gets an alarm, not an error: nothing was lost."""
    items = numbered_items(5)
    url, pipeline = pipeline_on(tmp_path, set())
    spider = pipeline.crawler.spider = Spider()  # type: ignore[assignment]
    monkeypatch.setattr(pipelines, "save_announcements", connection_lost)
    for item in items[:3]:
        pipeline.process_item(item)
    assert stored_urls(url) == [] and pipeline.items == items[:3], "the failed batch kept; no write at item 3"
    monkeypatch.undo()  # the database is back
    pipeline.process_item(items[3])
    assert stored_urls(url) == [i.url for i in items[:4]], "the next write stored the kept batch with the rest"
    pipeline.process_item(items[4])
    asyncio.run(pipeline.close_spider())
    assert stored_urls(url) == [i.url for i in items]
    assert spider.errors == [] and spider.unstored == []
    assert spider.alarms == [
        "database write of 2 announcements failed: OperationalError: server closed the connection unexpectedly; "
        "a later write stored them"
    ]


def test_a_database_away_to_the_end_stops_the_crawl_and_reports_what_it_did_not_store(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three writes in a row find the database away: the crawl stops (what it would fetch could not
    be stored); what it fetched is an error of the run and is handed to the spider, whose next
    crawl looks for it."""
    items = numbered_items(7)
    url, pipeline = pipeline_on(tmp_path, set())
    spider = pipeline.crawler.spider = Spider()  # type: ignore[assignment]
    engine = pipeline.crawler.engine = Engine()  # type: ignore[assignment]
    monkeypatch.setattr(pipelines, "save_announcements", connection_lost)

    async def crawl() -> None:  # in the reactor's loop, as a crawl runs
        for item in items:
            pipeline.process_item(item)
        await asyncio.sleep(0)  # the closing of the spider, scheduled
        assert engine.closed == ["database unavailable"], "stopped at the third failed write (items 2, 4 and 6)"
        await pipeline.close_spider()

    asyncio.run(crawl())
    assert stored_urls(url) == []
    reason = "the database unavailable (OperationalError: server closed the connection unexpectedly)"
    assert spider.unstored == [(7, reason)]
    assert spider.errors[0] == (
        "database write of 2 announcements failed: OperationalError: server closed the connection unexpectedly"
    )
    assert spider.errors[-1] == (
        f"7 fetched announcements not stored, {reason}: the next crawl walks every listing page for them"
    )
    assert spider.alarms == []


def test_a_batch_the_database_refuses_is_written_again_in_parts(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A constraint or a value the database cannot take fails again however often it is written:
    the batch is written again in parts, and only the refused announcement is given up (an error of
    the run; a spider that cannot remember it has its next crawl walk the listings for it)."""
    items = numbered_items(4)
    url, pipeline = pipeline_on(tmp_path, set())
    spider = pipeline.crawler.spider = Spider()  # type: ignore[assignment]
    save = pipelines.save_announcements

    def refuses_the_first(session: Any, batch: list[Any], *args: Any, **kwargs: Any) -> Any:
        if batch and batch[0].url == items[0].url:
            raise IntegrityError("INSERT INTO announcements …", {}, Exception("CHECK constraint failed\nDETAIL: …"))
        return save(session, batch, *args, **kwargs)

    monkeypatch.setattr(pipelines, "save_announcements", refuses_the_first)
    for item in items:
        pipeline.process_item(item)
    asyncio.run(pipeline.close_spider())
    message = f"{items[0].url}: not stored, the database refused it: IntegrityError: CHECK constraint failed"
    assert stored_urls(url) == [i.url for i in items[1:]]
    assert spider.errors == [message] and spider.unstored == [(1, message)]
    assert pipeline.totals.new == 3 and pipeline.crawler.stats.get_value("ropsfeed/items_new") == 3  # type: ignore[union-attr]


def test_the_database_going_away_while_a_refused_batch_is_written_in_parts_keeps_the_rest(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts written before the database went away are stored and counted; the rest waits for
    the next write, as any batch that found the database away."""
    items = numbered_items(4)
    url, pipeline = pipeline_on(tmp_path, set(), ROPSFEED_BATCH_SIZE=4)
    spider = pipeline.crawler.spider = Spider()  # type: ignore[assignment]
    save = pipelines.save_announcements
    calls: list[list[str]] = []

    def refused_then_away(session: Any, batch: list[Any], *args: Any, **kwargs: Any) -> Any:
        calls.append([i.url[-3:-1] for i in batch])
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO announcements …", {}, Exception("CHECK constraint failed"))
        if len(calls) == 3:
            connection_lost()
        return save(session, batch, *args, **kwargs)

    monkeypatch.setattr(pipelines, "save_announcements", refused_then_away)
    for item in items:
        pipeline.process_item(item)
    assert calls == [["-0", "-1", "-2", "-3"], ["-0", "-1"], ["-2", "-3"]]
    assert stored_urls(url) == [i.url for i in items[:2]] and pipeline.items == items[2:]
    assert pipeline.totals.new == 2 and pipeline.away_in_a_row == 1, "counts toward stopping the crawl"
    assert pipeline.write_at == 2 + 4, "the kept part waits for a batch more"
    monkeypatch.undo()
    asyncio.run(pipeline.close_spider())
    assert stored_urls(url) == [i.url for i in items] and pipeline.totals.new == 4
    assert spider.errors == [] and spider.unstored == []
    assert spider.alarms == [
        "database write of 2 announcements failed: OperationalError: server closed the connection unexpectedly; "
        "a later write stored them"
    ]


MARKER = "[odrzuć]"
TRIGGER_REASON = "announcement refused by the test trigger"


def refuse_marked(url: str, marker: str = MARKER, column: str = "title") -> None:
    """A test-only trigger: the database refuses to insert an announcement whose title (`column`)
    holds `marker`, as it refuses a value it cannot take — an IntegrityError on both backends (a
    constraint), not the database away."""
    with session_scope(url, write=True) as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text(
                f"CREATE TRIGGER refuse_marked BEFORE INSERT ON announcements WHEN instr(NEW.{column}, '{marker}') > 0 "
                f"BEGIN SELECT RAISE(ABORT, '{TRIGGER_REASON}'); END"
            ))  # fmt: skip
        else:
            session.execute(text(
                "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF strpos(NEW.{column}, '{marker}') > 0 THEN "
                f"RAISE EXCEPTION '{TRIGGER_REASON}' USING ERRCODE = 'check_violation'; END IF; "
                "RETURN NEW; END $$"
            ))  # fmt: skip
            session.execute(text("CREATE TRIGGER refuse_marked BEFORE INSERT ON announcements "
                                 "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"))  # fmt: skip


def allow_all(url: str) -> None:
    """The cause is gone (the trigger dropped)."""
    with session_scope(url, write=True) as session:
        session.execute(text(
            "DROP TRIGGER refuse_marked" + ("" if session.get_bind().dialect.name == "sqlite" else " ON announcements")
        ))  # fmt: skip


def crawl_of_mcps(url: str, batch_size: int = 10) -> tuple[StoragePipeline, SourceSpider]:
    """The storage pipeline of a crawl of mcps, with its real spider (what it remembers of failed
    pages, db/failed_pages.py), no worker processes."""
    settings = {"ROPSFEED_DATABASE_URL": url, "ROPSFEED_BATCH_SIZE": batch_size, "ROPSFEED_ANNOTATION_WORKERS": 0}
    crawler = get_crawler(settings_dict=settings)
    spider = crawler.spider = SPIDERS["mcps"].from_crawler(crawler)
    spider.load_failed_pages()
    return StoragePipeline.from_crawler(crawler), spider


def end_crawl(url: str, pipeline: StoragePipeline, spider: SourceSpider) -> None:
    """As a crawl ends: the last writes, then the failures written with the run's outcome."""
    asyncio.run(pipeline.close_spider())
    with session_scope(url, write=True) as session:
        spider.remember_failures(session, "finished")


def failed_rows(url: str) -> list[tuple[str, str, str, int]]:
    with session_scope(url) as session:
        return [(r.url, r.kind, r.reason, r.attempts) for r in session.scalars(select(FailedPage))]


def test_one_announcement_the_database_refuses_loses_nothing_else_and_is_stored_once_the_cause_is_gone(
    database: str,
) -> None:
    """Before, the row cost its whole batch, and the next crawl met it again with the same batch:
    the same ten announcements lost every night. Now the nine others are stored; the refused one is
    an error naming its URL and the database's reason, asked for again by the next crawls (an alarm
    if it fails again) and stored once the cause is gone, read with the listing link's text that
    led to it the first time (it titles a page that states no title of its own)."""
    items = numbered_items(10)
    raw = RawResponse("mcps", items[6].url, "article", 200, {}, b"<html>6</html>", link_text=items[6].title)
    bad = items[6] = replace(items[6], title=f"{MARKER} {items[6].title}", raw=raw)
    refuse_marked(database)
    pipeline, spider = crawl_of_mcps(database)
    for item in items:
        pipeline.process_item(item)
    end_crawl(database, pipeline, spider)
    reason = f"the database refused it: IntegrityError: {TRIGGER_REASON}"
    assert stored_urls(database) == [i.url for i in items if i is not bad]
    assert spider.errors == [f"{bad.url}: not stored, {reason}"] and spider.alarms == []
    assert pipeline.totals.new == 9 and pipeline.crawler.stats.get_value("ropsfeed/items_new") == 9  # type: ignore[union-attr]
    assert failed_rows(database) == [(bad.url, "article", reason, 1)]
    with session_scope(database) as session:
        assert bad.url in session.scalars(select(RawPage.url)).all(), "its fetched page is archived all the same"

    pipeline, spider = crawl_of_mcps(database)  # the cause is still there
    [retry] = list(spider.retry_requests())
    assert retry.url == bad.url and retry.meta["link_text"] == raw.link_text
    pipeline.process_item(replace(bad, failed_key=retry.meta["failed_key"]))
    end_crawl(database, pipeline, spider)
    assert spider.errors == [] and spider.alarms == [
        f"{bad.url}: not stored, {reason} (failing since an earlier crawl)"
    ]
    assert failed_rows(database) == [(bad.url, "article", reason, 2)]

    allow_all(database)
    pipeline, spider = crawl_of_mcps(database)
    [retry] = list(spider.retry_requests())
    pipeline.process_item(replace(bad, failed_key=retry.meta["failed_key"]))
    end_crawl(database, pipeline, spider)
    assert (spider.errors, spider.alarms, pipeline.totals.new) == ([], [], 1)
    assert bad.url in stored_urls(database) and failed_rows(database) == []


def test_an_announcement_whose_url_is_too_long_is_refused_alone_and_reported_once(tmp_path: object) -> None:
    """It cannot be stored (a cut URL would name another page): an error of the run naming it, the
    rest of its batch stored; remembered once as unstorable (its row holds the URL's start and a
    digest of its key), so that the next crawls, which meet it again on the REST API's first page,
    neither ask for it nor report it again: before, it was an error of every crawl."""
    url, _ = pipeline_on(tmp_path, set())
    items = numbered_items(3)
    long_url = items[1].url + "x" * 2000
    items[1] = replace(items[1], url=long_url)
    pipeline, spider = crawl_of_mcps(url, batch_size=2)
    for item in items:
        pipeline.process_item(item)
    end_crawl(url, pipeline, spider)
    assert stored_urls(url) == [items[0].url, items[2].url]
    reason = f"its URL is {len(long_url)} characters long, longer than the 2000 the database takes"
    shown = f"{long_url[:300]}… ({len(long_url)} characters)"
    assert spider.errors == [f"{shown}: not stored, {reason}; not asked for again"]
    assert failed_rows(url) == [(shown, "unstorable", f"{reason}; not asked for again", 1)]

    pipeline, spider = crawl_of_mcps(url, batch_size=2)
    assert list(spider.retry_requests()) == []
    for item in items:
        pipeline.process_item(item)
    end_crawl(url, pipeline, spider)
    assert (spider.errors, spider.alarms) == ([], [])
    assert failed_rows(url) == [(shown, "unstorable", f"{reason}; not asked for again", 1)]

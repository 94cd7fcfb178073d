"""Stories in the database: cross-posts join one story, the representative rule, edits re-judged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from aggregator.stories import assign_stories
from db.engine import session_scope
from db.migrate import upgrade
from db.models import Announcement, Story
from db.store import save_announcements, sync_sources
from scrapers.items import AnnouncementItem
from scrapers.mirror.build import TEXTS_DIR
from scrapers.registry import load_sources


def text_item(source_id: str, url_part: str, **changes: object) -> AnnouncementItem:
    """An announcement built from a real text of the mirror corpus."""
    articles = json.loads((TEXTS_DIR / f"{source_id}.json").read_text(encoding="utf-8"))["articles"]
    [article] = [a for a in articles if url_part in a["url"]]
    body = "\n\n".join(article["paragraphs"])
    item = AnnouncementItem(source_id=source_id, url=article["url"], title=article["title"], body_html="",
                            body_text=body, lead=article["paragraphs"][0])  # fmt: skip
    return replace(item, **changes)


@pytest.fixture
def database(db_url: str) -> str:
    upgrade(db_url)
    with session_scope(db_url, write=True) as session:
        sync_sources(session, load_sources())
    return db_url


def stories(database: str) -> dict[str, tuple[str, list[str]]]:
    """{story key: (representative source, member sources)}."""
    with session_scope(database) as session:
        result = {}
        for story in session.scalars(select(Story)):
            members = session.scalars(select(Announcement).where(Announcement.story_key == story.key)).all()
            representative = session.get(Announcement, story.representative_id)
            assert representative is not None and story.size == len(members)
            result[story.key] = (representative.source_id, sorted(m.source_id for m in members))
        return result


@pytest.mark.parametrize("chunk", [500, 1], ids=["one-query", "chunked"])
def test_cross_post_joins_one_story_and_the_rest_stay_apart(
    database: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with the story refresh reading members, mentions and stories one key per query (the
    chunking that keeps a backfill under the parameter limits)."""
    monkeypatch.setattr("aggregator.stories._CHUNK", chunk)
    mcps = text_item("mcps", "rusza-konkurs-mazowiecka-marka-ekonomii-spolecznej-2018",
                     published_at=datetime(2018, 1, 31, 9, tzinfo=UTC))  # fmt: skip
    mcps_es = text_item("mcps-es", "rusza-konkurs-mazowiecka-marka-ekonomii-spo%C5%82ecznej%E2%80%99-2018")
    other = text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje")
    with session_scope(database, write=True) as session:
        save_announcements(session, [mcps, other])
    first = assign_stories(database)
    assert (first.assigned, first.joined, first.stories) == (2, 0, 2)

    with session_scope(database, write=True) as session:  # the copy arrives in a later crawl
        save_announcements(session, [mcps_es])
    second = assign_stories(database)
    assert (second.assigned, second.joined, second.stories, second.multi_source) == (1, 1, 2, 1)
    grouped = sorted(stories(database).values())
    assert grouped == [("mcps", ["mcps"]), ("mcps", ["mcps", "mcps-es"])], "the dated original represents"

    assert assign_stories(database).assigned == 0, "nothing new: nothing to do"

    edited = replace(other, title=other.title, body_text="Zmieniona treść: spotkanie odbędzie się w Radomiu.")
    with session_scope(database, write=True) as session:
        save_announcements(session, [edited])
    third = assign_stories(database)
    assert third.assigned == 1 and len(stories(database)) == 2, "an edit is judged again and keeps one story"


def test_representative_is_the_issuer_named_by_the_others_else_the_earliest() -> None:
    from types import SimpleNamespace

    from aggregator.stories import representative

    def row(id_: int, source: str, day: int | None) -> Announcement:
        published = datetime(2021, 2, day, 9, tzinfo=UTC) if day else None
        return SimpleNamespace(id=id_, source_id=source, published_at=published)  # type: ignore[return-value]

    publisher = {"rops-bialystok": "rops-bialystok", "mazovia": "um-mazowieckie", "mcps": "mcps"}
    original, repost = row(1, "rops-bialystok", 9), row(2, "mazovia", 8)
    # the repost names ROPS w Białymstoku ("źródło: ROPS w Białymstoku"): the ROPS page represents,
    # although the repost was published a day earlier
    assert representative([repost, original], publisher, {2: {"rops-bialystok"}, 1: set()}) is original
    # a page naming its own institution is not named by the others: the earlier repost represents
    assert representative([repost, original], publisher, {1: {"rops-bialystok"}, 2: set()}) is repost
    assert representative([original, repost], publisher, {1: {"rops-bialystok"}, 2: {"rops-bialystok"}}) is original
    # nobody names anybody: the earliest; undated ones last
    undated = row(3, "mcps", None)
    assert representative([undated, original, repost], publisher, {}) is repost
    assert representative([undated], publisher, {}) is undated


def test_a_page_stored_again_during_the_step_keeps_waiting_for_a_judgement(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run's crawl may store a new text of an announcement while this step judges the old
    one (the step reads, judges, then writes): the step must not give the new text the story of
    the old, it leaves it to the next step."""
    from aggregator.dedup import StoryIndex

    first = text_item("mcps", "ngo-moga-juz-ubiegac-sie-o-dotacje")
    second = text_item("mcps", "rusza-konkurs-mazowiecka-marka-ekonomii-spolecznej-2018")
    with session_scope(database, write=True) as session:
        save_announcements(session, [first, second])
    edited = replace(first, body_text="Zmieniona treść: spotkanie odbędzie się w Radomiu, w sali konferencyjnej.")
    add_many = StoryIndex.add_many

    def add_many_while_a_crawl_stores(self: StoryIndex, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        with session_scope(database, write=True) as session:  # the other run, between our read and our write
            save_announcements(session, [edited])
        yield from add_many(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(StoryIndex, "add_many", add_many_while_a_crawl_stores)
    report = assign_stories(database)
    with session_scope(database) as session:
        keys = dict(session.execute(select(Announcement.url, Announcement.story_key)).all())
    assert report.assigned == 1 and keys[first.url] is None and keys[second.url] is not None
    assert list(stories(database).values()) == [("mcps", ["mcps"])], "only the untouched page has a story"

    monkeypatch.undo()
    assert assign_stories(database).assigned == 1, "the next step judges the new text"
    with session_scope(database) as session:
        assert session.scalar(select(Announcement.story_key).where(Announcement.url == first.url)) is not None

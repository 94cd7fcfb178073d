"""Stories in the database: cross-posts join one story, the representative rule, edits re-judged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

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


def corpus_items(*source_ids: str) -> list[AnnouncementItem]:
    """Every article of these sources' real texts (the mcps/mcps-es/mazovia ones hold cross-posts)."""
    items = []
    for source_id in source_ids:
        for article in json.loads((TEXTS_DIR / f"{source_id}.json").read_text(encoding="utf-8"))["articles"]:
            items.append(AnnouncementItem(source_id=source_id, url=article["url"], title=article["title"], body_html="",
                                          body_text="\n\n".join(article["paragraphs"]),
                                          lead=article["paragraphs"][0]))  # fmt: skip
    return items


def partition(database: str) -> set[frozenset[str]]:
    """The stories as sets of member URLs (story keys depend on row ids, the grouping does not)."""
    with session_scope(database) as session:
        groups: dict[str | None, set[str]] = {}
        for url, key in session.execute(select(Announcement.url, Announcement.story_key)):
            groups.setdefault(key, set()).add(url)
    assert None not in groups, "every announcement has its story"
    return {frozenset(urls) for urls in groups.values()}


def test_the_index_built_during_the_crawl_decides_as_the_step_alone(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crawl adds what it stored to the story index whenever it would wait anyway (DraftRun);
    the step after it adds the rest. Same stories as a step that does it all, and the draft was used."""
    from aggregator.stories import DraftRun, StoryDraft

    first, later = corpus_items("mcps"), corpus_items("mcps-es", "mazovia")
    alone = f"sqlite:///{tmp_path / 'alone.db'}"
    for database in (db_url, alone):
        upgrade(database)
        with session_scope(database, write=True) as session:
            sync_sources(session, load_sources())
            save_announcements(session, first)
        assert assign_stories(database).assigned == len(first)  # a database with stories already
    built = []
    original_init = StoryDraft.__init__

    def counting_init(self: StoryDraft, *args: object) -> None:
        built.append(1)
        original_init(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(StoryDraft, "__init__", counting_init)
    run = DraftRun(db_url, ahead=None)
    for start, end, catch_up in ((0, 4, True), (4, 9, True), (9, None, False)):  # a crawl's writes
        with session_scope(db_url, write=True) as session:
            save_announcements(session, later[start:end])
        if catch_up:
            run.catch_up()
    draft = run.result()
    assert draft is not None and len(draft.added) == 9
    report = assign_stories(db_url, draft=draft)
    assert built == [1], "the step continued the crawl's index instead of building its own"
    with session_scope(alone, write=True) as session:
        save_announcements(session, later)
    expected = assign_stories(alone)
    assert report.drafted == 9 and report.assigned == expected.assigned == len(later)
    assert (report.joined, report.stories, report.multi_source) == (
        expected.joined, expected.stories, expected.multi_source)  # fmt: skip
    assert expected.multi_source > 0, "the corpus holds cross-posts: the test compares real decisions"
    assert partition(db_url) == partition(alone)


def test_an_index_built_during_the_crawl_is_dropped_when_the_database_moved_on(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Another run's story step, or an announcement edited after the draft read it: the step
    builds the index again, and decides as if there had been no draft."""
    from aggregator.stories import DraftRun

    items = corpus_items("mcps", "mcps-es")
    with session_scope(database, write=True) as session:
        save_announcements(session, items[:6])
    run = DraftRun(database, ahead=None)
    run.catch_up()
    with session_scope(database, write=True) as session:  # edited after the draft read it
        edited = replace(items[0], body_text=items[0].body_text + "\n\nAktualizacja: zmiana terminu.")
        save_announcements(session, [edited])
        save_announcements(session, items[6:])
    caplog.set_level("INFO", logger="aggregator.stories")
    report = assign_stories(database, draft=run.result())
    assert "out of date" in caplog.text and report.drafted == 0
    assert report.assigned == len(items)

    another = DraftRun(database, ahead=None)
    another.catch_up()  # nothing pending: an empty draft on the stories as they are
    with session_scope(database, write=True) as session:
        save_announcements(session, [replace(items[1], body_text=items[1].body_text + "\n\nSprostowanie.")])
    assign_stories(database)  # another run's step assigns it first
    caplog.clear()
    assert assign_stories(database, draft=another.result()).assigned == 0
    assert "out of date" not in caplog.text, "nothing pending: nothing to decide"


def test_a_draft_run_whose_database_fails_leaves_the_work_to_the_step(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from aggregator.stories import DraftRun

    (tmp_path / "a-file").write_text("not a folder")
    run = DraftRun(f"sqlite:///{tmp_path / 'a-file' / 'x.db'}", ahead=None)
    run.catch_up()
    run.catch_up()
    assert run.result() is None and run.failed
    assert caplog.text.count("no index built during the crawl") == 1


def test_a_draft_run_whose_server_is_away_says_so_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """The warning carried SQLAlchemy's whole text: the driver's lines and "(Background on this
    error at: https://sqlalche.me/…)", three lines in a night's log for one event."""
    from aggregator.stories import DraftRun

    DraftRun("postgresql+psycopg://ropsfeed@127.0.0.1:9/x", ahead=None).catch_up()
    [warning] = [r.getMessage() for r in caplog.records if "no index built" in r.getMessage()]
    assert warning.startswith("stories: no index built during the crawl (OperationalError: connection failed: ")
    assert "\n" not in warning and "sqlalche.me" not in warning, warning


def test_a_draft_whose_announcements_another_step_assigned_writes_nothing(database: str) -> None:
    from aggregator.stories import DraftRun

    items = corpus_items("mcps")
    with session_scope(database, write=True) as session:
        save_announcements(session, items)
    run = DraftRun(database, ahead=None)
    run.catch_up()
    draft = run.result()
    assert draft is not None and len(draft.added) == len(items)
    done = assign_stories(database)  # another run's step, first
    before = partition(database)
    report = assign_stories(database, draft=draft)
    assert done.assigned == len(items) and (report.assigned, report.drafted) == (0, 0)
    assert partition(database) == before

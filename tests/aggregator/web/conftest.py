"""A small hand-built database for the web tests: two sites, a story carried by both, an
announcement with no story yet, and one whose body tries every trick of a hostile page."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from db.engine import session_scope
from db.migrate import upgrade
from db.models import Announcement, Attachment, Entity, EventDate, Mention, Source, Story

XSS_BODY = (
    '<p>Nabór wniosków<script>document.title="hacked"</script></p>'
    '<img src="/logo.png" onerror="document.title=\'hacked\'">'
    "<a href=\"javascript:document.title='hacked'\">kliknij</a>"
    '<a href="/regulamin.pdf" onclick="steal()">Regulamin</a>'
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
)


def _source(source_id: str, institution: str, voivodeship: str, base_url: str, entity_key: str) -> Source:
    return Source(id=source_id, institution=institution, voivodeship=voivodeship, platform="wordpress",
                  base_url=base_url, entity_key=entity_key)  # fmt: skip


def _announcement(source_id: str, url: str, title: str, body_html: str, published: datetime | None,
                  story_key: str | None, lead: str = "") -> Announcement:  # fmt: skip
    from db.search import index_terms
    from db.store import fold_for_search

    text = body_html.replace("<p>", " ").replace("</p>", " ")
    return Announcement(
        source_id=source_id, url=url, title=title, lead=lead or None, body_text=text, body_html=body_html,
        published_at=published, published_granularity="minute" if published else None, content_hash=url,
        search_text=fold_for_search(title, lead, text), search_terms=index_terms(title, lead, text),
        story_key=story_key,
        first_seen_at=datetime(2020, 1, 1, tzinfo=UTC),
    )  # fmt: skip


@pytest.fixture(scope="session")
def web_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Filled once per session; the web tests only read it."""
    return fill(f"sqlite:///{tmp_path_factory.mktemp('web') / 'ropsfeed.db'}")


def fill(url: str) -> str:
    """The web tests' database at `url` (SQLite or PostgreSQL), migrated and filled."""
    upgrade(url)
    with session_scope(url, write=True) as session:
        session.add_all([
            _source("mcps", "Mazowieckie Centrum Polityki Społecznej", "mazowieckie", "https://mcps.com.pl/", "mcps"),
            _source("rops-bialystok", "Regionalny Ośrodek Polityki Społecznej w Białymstoku", "podlaskie",
                    "https://www.rops-bialystok.pl/", "rops-bialystok"),
        ])  # fmt: skip
        session.flush()
        mcps_entity = Entity(key="mcps", canonical="Mazowieckie Centrum Polityki Społecznej", acronym="MCPS",
                             kind="rops", voivodeship="mazowieckie", website="https://mcps.com.pl/",
                             in_gazetteer=True)  # fmt: skip
        bialystok_entity = Entity(key="rops-bialystok", acronym="ROPS", kind="rops", voivodeship="podlaskie",
                                  canonical="Regionalny Ośrodek Polityki Społecznej w Białymstoku",
                                  in_gazetteer=True)  # fmt: skip
        session.add_all([mcps_entity, bialystok_entity])
        original = _announcement(
            "mcps", "https://mcps.com.pl/aktualnosci/nabor-spoldzielnie/", "Nabór wniosków dla spółdzielni socjalnych",
            "<p>Mazowieckie Centrum Polityki Społecznej ogłasza nabór do 15 kwietnia 2024 r.</p>",
            datetime(2024, 3, 12, 9, 30, tzinfo=UTC), "story-nabor", lead="Ogłaszamy nabór wniosków.",
        )  # fmt: skip
        original.images = [
            {"url": "https://mcps.com.pl/wp-content/uploads/2024/03/nabor.jpg",
             "alt": "Spółdzielnia „Razem” przy pracy", "caption": "Fot. MCPS"},
            {"url": "javascript:alert(1)", "alt": "<b>x</b>", "caption": None},
        ]  # fmt: skip
        copy = _announcement(
            "rops-bialystok", "https://www.rops-bialystok.pl/nabor-mcps/", "MCPS: nabór dla spółdzielni",
            "<p>Przypominamy o naborze ogłoszonym przez MCPS.</p>", datetime(2024, 3, 13, 8, tzinfo=UTC), "story-nabor",
        )  # fmt: skip
        lonely = _announcement(
            "rops-bialystok", "https://www.rops-bialystok.pl/szkolenie/", "Szkolenie dla asystentów rodziny",
            "<p>Zapraszamy na szkolenie.</p>", datetime(2024, 2, 1, 10, tzinfo=UTC), None,
        )  # fmt: skip
        hostile = _announcement(
            "mcps", "https://mcps.com.pl/aktualnosci/xss/", "Konkurs ofert <b>2024</b>", XSS_BODY,
            datetime(2024, 1, 5, 12, tzinfo=UTC), "story-xss",
        )  # fmt: skip
        session.add_all([original, copy, lonely, hostile])
        session.flush()
        session.add_all([
            Story(key="story-nabor", representative_id=original.id, title=original.title, size=2),
            Story(key="story-xss", representative_id=hostile.id, title=hostile.title, size=1),
            Attachment(announcement_id=original.id, name="Regulamin naboru", url="https://mcps.com.pl/files/regulamin.pdf",
                       file_type="pdf", size="245 KB"),
            # the hostile page's text links this file itself
            Attachment(announcement_id=hostile.id, name="Regulamin", url="https://mcps.com.pl/regulamin.pdf",
                       file_type="pdf"),
            Mention(announcement_id=copy.id, entity_id=mcps_entity.id, field="body", surface="MCPS", char_start=30,
                    char_end=34),
            EventDate(announcement_id=original.id, field="body", match="do 15 kwietnia 2024 r.",
                      context="ogłasza nabór do 15 kwietnia 2024 r.", char_start=50, start_date=date(2024, 4, 15),
                      end_date=date(2024, 4, 15), granularity="day", kind="until"),
        ])  # fmt: skip
        for number in range(25):  # enough for a second page
            session.add(_announcement(
                "mcps", f"https://mcps.com.pl/archiwum/{number}/", f"Komunikat archiwalny nr {number}",
                "<p>Archiwum.</p>", datetime(2023, 1, 1 + number, 12, tzinfo=UTC), None,
            ))  # fmt: skip
    return url

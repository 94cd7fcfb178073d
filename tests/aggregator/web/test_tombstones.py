"""A page the site deleted leaves the web page: its story shows the copies left, its own URL is 404."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from starlette.testclient import TestClient

from aggregator.stories import refresh_stories
from aggregator.web.app import create_app
from db.engine import session_scope
from db.models import Announcement
from db.store import tombstone
from tests.aggregator.web.conftest import fill

ORIGINAL = "https://mcps.com.pl/aktualnosci/nabor-spoldzielnie/"


def test_a_tombstone_leaves_the_listing_and_its_story(tmp_path: Path) -> None:
    database = fill(f"sqlite:///{tmp_path / 'ropsfeed.db'}")
    with session_scope(database, write=True) as session:
        original_id = session.scalar(select(Announcement.id).where(Announcement.url == ORIGINAL))
        assert tombstone(session, "mcps", [], [ORIGINAL], "HTTP 404") == 1
        refresh_stories(session, {"story-nabor"})
    with TestClient(create_app(database)) as client:
        front = client.get("/").text
        assert "Nabór wniosków dla spółdzielni socjalnych" not in front
        assert "MCPS: nabór dla spółdzielni" in front, "the copy left represents the story"
        story = client.get("/story/story-nabor").text
        assert "rops-bialystok.pl/nabor-mcps/" in story and ORIGINAL not in story
        assert client.get(f"/announcement/{original_id}").status_code == 404

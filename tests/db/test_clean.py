"""Values the database would refuse are cleaned before they are written (db/clean.py): stored as
cleaned on both backends (PostgreSQL refused them before), with a warning naming the page."""

from __future__ import annotations

import copy
import logging
import unicodedata

import pytest
from sqlalchemy import select

from db.clean import URL_LENGTH, clean_item, fit
from db.engine import session_scope
from db.models import Announcement, Attachment, RawPage
from db.store import RefusedItem, save_announcements
from scrapers.items import AttachmentItem, ImageItem, RawResponse
from tests.db.test_store import URL, make_item

LONG_URL = "https://mcps.com.pl/wp-content/uploads/" + "a" * URL_LENGTH + ".pdf"


def test_fit_cuts_at_a_character_boundary_and_keeps_a_letter_with_its_marks() -> None:
    decomposed = unicodedata.normalize("NFD", "Łódź ó")  # "o" and U+0301 are two characters
    assert fit("abc", 3) == "abc"
    assert fit("Mazowieckie Centrum", 12) == "Mazowieckie"
    assert fit("Mazowieckie Centrum", 15) == "Mazowieckie", "not Mazowieckie Cen"
    assert fit("wp-api:date_gmt", 10) == "wp-api:dat", "no word ends in the last half: at a character"
    assert fit(decomposed, 2) == "Ł", "no bare o: an ó that does not fit goes whole, its mark with it"
    assert fit(decomposed, 3) == unicodedata.normalize("NFD", "Łó")


def test_nul_characters_and_over_long_values_are_stored_cleaned(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL refused each of these (text with U+0000, a varchar(n) overflow): the batch failed."""
    item = make_item(
        title="Nabór\x00 wniosków",
        body_text="Treść\x00 ogłoszenia",
        body_html="<p>Treść\x00 ogłoszenia</p>",
        lead="Lead\x00",
        categories=["Aktualności\x00"],
        published_from="wp-api:" + "x" * 60,
        external_id="wp:" + "9" * 200,
        attachments=[
            AttachmentItem("Regulamin\x00", "https://mcps.com.pl/r.pdf", "pdf" * 10, "1,2 MB " * 10),
            AttachmentItem("Za długi adres", LONG_URL, "pdf", "1 MB"),
        ],
        images=[
            ImageItem(LONG_URL.replace(".pdf", ".jpg")),
            ImageItem("https://mcps.com.pl/a.jpg", "Alt\x00", "P\x00"),
        ],
        raw=RawResponse("mcps", URL, "article", 200, {"X-Odd": "a\x00b"}, b"<html>v1</html>"),
    )
    with caplog.at_level(logging.WARNING, logger="db.clean"), session_scope(database, write=True) as session:
        result = save_announcements(session, [item])
    assert result.new == 1
    with session_scope(database) as session:
        row = session.scalars(select(Announcement)).one()
        assert (row.title, row.body_text, row.body_html, row.lead) == (
            "Nabór wniosków", "Treść ogłoszenia", "<p>Treść ogłoszenia</p>", "Lead"
        )  # fmt: skip
        assert row.categories == ["Aktualności"]
        assert row.published_from == "wp-api:" + "x" * 33
        assert row.external_id is None, "a cut CMS id would name another post: dropped"
        assert row.images == [{"url": "https://mcps.com.pl/a.jpg", "alt": "Alt", "caption": "P"}]
        files = session.execute(select(Attachment.name, Attachment.url, Attachment.file_type, Attachment.size)).all()
        assert files == [("Regulamin", "https://mcps.com.pl/r.pdf", "pdf" * 6 + "pd", "1,2 MB " * 5 + "1,2")]
        assert session.scalars(select(RawPage.headers)).one() == {"X-Odd": "ab"}
    [warning] = [r.getMessage() for r in caplog.records if r.name == "db.clean"]
    assert warning.startswith(f"mcps: {URL}: stored cleaned: removed NUL characters from title, body_html, body_text, ")
    for part in ("cut published_from from 67 to 40 characters", "dropped the CMS id wp:999",
                 f"dropped the attachment {LONG_URL[:300]}… ({len(LONG_URL)} characters): its URL is longer than 2000",
                 "dropped the picture", "cut an attachment's file_type from 30 to 20 characters"):  # fmt: skip
        assert part in warning


def test_a_clean_item_is_left_alone_without_a_word(caplog: pytest.LogCaptureFixture) -> None:
    item = make_item()
    before = copy.deepcopy(item)
    with caplog.at_level(logging.WARNING, logger="db.clean"):
        assert clean_item(item) is None
    assert item == before and caplog.records == []


def test_an_announcement_whose_url_is_too_long_is_refused_never_cut(database: str) -> None:
    url = "https://mcps.com.pl/" + "ogloszenie-" * 200
    assert clean_item(make_item(url=url)) == (
        f"its URL is {len(url)} characters long, longer than the 2000 the database takes"
    )
    with pytest.raises(RefusedItem, match="longer than the 2000"), session_scope(database, write=True) as session:
        save_announcements(session, [make_item(), make_item(url=url)])
    with session_scope(database) as session:
        assert session.scalars(select(Announcement.url)).all() == []

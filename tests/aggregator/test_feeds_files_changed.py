"""A page whose files alone changed between two crawls — a questionnaire replaced by a corrected
file under the same name, its text as it was — is shown updated by the feeds: the entry's Atom
`updated` (JSON Feed's `date_modified`) becomes the time the crawl saw the change, as for an edit
of its text (db/store.py `files_changed_at`, aggregator/feeds.py `_updated`). Before, only the
ETag moved: a reader fetched the feed, found the entry's `updated` as it was, and showed nothing
new. Real crawls of rops.krakow.pl from the mirror over HTTP, then `ropsfeed feed`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror
from tests.conftest import run_cli
from tests.scrapers.overlays import KRAKOW_FILES_ARTICLE, KRAKOW_HOST, krakow_article_changed

pytestmark = pytest.mark.network

ATOM = "{http://www.w3.org/2005/Atom}"
ARTICLE_URL = f"https://{KRAKOW_HOST}{KRAKOW_FILES_ARTICLE}"
OLD_FILE = "/pliki/kwestionariusz-2006-2007-gminy-osrodki-pomocy-spolecznej.doc"
NEW_FILE = "/pliki/kwestionariusz-2006-2007-gminy-osrodki-pomocy-spolecznej-poprawiony.docx"


def file_replaced(root: Path) -> None:
    """The municipalities' questionnaire replaced by a corrected .docx: the link's text, and so the
    page's text, as before."""
    krakow_article_changed(root, "file-replaced", lambda page: page.replace(OLD_FILE, NEW_FILE))


def mirror_of(tmp_path: Path, *overlays: Callable[[Path], None]) -> BackgroundMirror:
    root = tmp_path / f"overlay-{len(list(tmp_path.glob('overlay-*')))}"
    root.mkdir()
    for overlay in overlays:
        overlay(root)
    return BackgroundMirror([root, SNAPSHOT_DIR])


def crawl(server: BackgroundMirror, database: str) -> None:
    """A `--full` crawl: an incremental one does not fetch a stored HTML article again."""
    with server:
        result = run_cli("crawl", "rops-krakow", "--full", "--mirror", server.url, "--db", database)
    assert result.returncode == 0, result.stdout + result.stderr


def atom_updated(database: str) -> dict[str, datetime]:
    """Each entry's `updated` in `ropsfeed feed --format atom`, by the page it links."""
    result = run_cli("feed", "--format", "atom", "--source", "rops-krakow", "--db", database)
    assert result.returncode == 0, result.stderr
    root = etree.fromstring(result.stdout.encode())
    entries = root.iter(f"{ATOM}entry")
    return {e.find(f"{ATOM}link[@rel='alternate']").get("href"): datetime.fromisoformat(e.findtext(f"{ATOM}updated"))
            for e in entries}  # fmt: skip


def json_modified(database: str) -> dict[str, datetime]:
    result = run_cli("feed", "--format", "json", "--source", "rops-krakow", "--db", database)
    assert result.returncode == 0, result.stderr
    return {item["url"]: datetime.fromisoformat(item["date_modified"]) for item in json.loads(result.stdout)["items"]}


def test_a_file_replaced_under_the_same_name_shows_the_entry_updated(sqlite_url: str, tmp_path: Path) -> None:
    crawl(mirror_of(tmp_path), sqlite_url)
    before = atom_updated(sqlite_url)
    assert ARTICLE_URL in before and before[ARTICLE_URL].year == 2006, "the 2006 page, as published"

    changed_from = datetime.now(UTC)
    crawl(mirror_of(tmp_path, file_replaced), sqlite_url)
    after = atom_updated(sqlite_url)
    assert changed_from <= after[ARTICLE_URL] <= datetime.now(UTC), "updated when the crawl saw the new file"
    assert {url: day for url, day in after.items() if url != ARTICLE_URL} == {
        url: day for url, day in before.items() if url != ARTICLE_URL
    }, "the pages whose files did not change are not"
    assert json_modified(sqlite_url)[ARTICLE_URL] == after[ARTICLE_URL]

    crawl(mirror_of(tmp_path, file_replaced), sqlite_url)  # seen again as it now is: nothing new
    assert atom_updated(sqlite_url) == after
    assert after[ARTICLE_URL] - before[ARTICLE_URL] > timedelta(days=365)

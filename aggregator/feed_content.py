"""What a feed entry carries besides the list's fields: the full text and the files.

The list (aggregator.feeds.select_entries) never loads bodies: the web page, digests and exports
do not show them. A feed does: `load_content` fills the entries it is about to render with the
representative's body and clean text, and with the attachments of every live page of the story
("Do pobrania", "Załączniki": regulations, application forms), the representative's first.

The body is the HTML stored at ingest (sanitised by nh3 there, links absolute to the real site),
sanitised again as the web page does (aggregator.web.sanitize): a feed must not trust the database
more than a page does (an older parser, a hand-edited row), and a relative link left by one still
leads to the site. Bounded: a body longer than CONTENT_MAX characters is cut before a tag (the
sanitiser closes what the cut left open) and ends with a link to the page; at most ATTACHMENTS_MAX
files an entry.

Sizes: the sites print them as text ("1,2 MB", "245 kB", "523 bajty"). Only a size in bytes is
exact and becomes a number (JSON Feed's `size_in_bytes`, Atom's `length`). "1,2 MB" is rounded
(anything from 1,15 to 1,25 MB) and the site does not say whether its MB is 10^6 or 2^20 bytes,
so any byte count made from it would be invented: it is left out, and the site's own text is
kept (in the RSS list and JSON Feed's `_ropsfeed.size`).
"""

from __future__ import annotations

import html
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.polish import file_label
from db.models import Announcement, Attachment
from scrapers.extraction.file_names import file_name_of, suffix_of

if TYPE_CHECKING:
    from aggregator.feeds import FeedEntry

CONTENT_MAX = 20_000  # characters of body HTML (and of text) per entry; the longest real bodies are a few thousand
ATTACHMENTS_MAX = 50
READ_MORE = "Czytaj dalej na stronie źródłowej"
ATTACHMENTS_HEADING = "Załączniki"
DEFAULT_MIME_TYPE = "application/octet-stream"  # a file of unknown type: readers offer to save it
# The attachment types scrapers.extraction.attachments recognises. Not `mimetypes` alone: it
# reads the system's /etc/mime.types, so odt or 7z would get a type on one machine and not another.
MIME_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "csv": "text/csv",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
    "xml": "application/xml",
    "epub": "application/epub+zip",
}
# "523 bajty", "1 234 bajtów", "812 B": a whole number of bytes (a lower-case b is bits: not a size)
_EXACT_SIZE = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)\s*(?:B|[bB]ajt(?:y|ów|a)?)")


@dataclass(frozen=True)
class FeedAttachment:
    """A file of a feed entry, with what feed formats say about it."""

    url: str  # the real site's
    title: str  # its name on the page, made unique within the entry (see _unique_titles)
    mime_type: str
    file_type: str | None  # "pdf", as the page's link says (None: a download link without one)
    size: str | None  # as the site wrote it
    size_in_bytes: int | None  # only when `size` is an exact number of bytes

    def label(self) -> str:
        """What the RSS list shows after the name, "PDF, 1,2 MB" ("" when nothing is known): the size
        said in Polish as the web page says it (a site's "1.2 MB" has an English decimal point)."""
        return file_label(self.file_type or suffix_of(self.url), self.size)


def mime_type_of(file_type: str | None, url: str) -> str:
    """The MIME type of a file: by its type (extension), else by its URL, else a safe default."""
    for suffix in (file_type, suffix_of(url)):
        if suffix and suffix.lower() in MIME_TYPES:
            return MIME_TYPES[suffix.lower()]
    return mimetypes.guess_type(urlsplit(url).path, strict=True)[0] or DEFAULT_MIME_TYPE


def size_in_bytes(size: str | None) -> int | None:
    """The byte count of a size the site printed, when it is exact ("523 bajty"); None for a
    rounded figure in kB/MB (see the module's docstring) and for anything unreadable."""
    if not size:
        return None
    match = _EXACT_SIZE.fullmatch(size.strip())
    return int(re.sub(r"\D", "", match.group(1))) if match else None


def body_html(stored: str, url: str, limit: int = CONTENT_MAX) -> str:
    """`stored` sanitised, links resolved against the page's `url`; beyond `limit` characters,
    its beginning (cut before a tag: the sanitiser closes the elements left open) and a link to
    the whole page."""
    from aggregator.web.sanitize import sanitize_html  # nh3, bs4: only when a feed is rendered

    if len(stored) <= limit:
        return sanitize_html(stored, url)
    cut = stored.rfind("<", 0, limit)
    head = sanitize_html(stored[: cut if cut > 0 else limit], url)
    return f'{head}<p>…</p><p><a href="{html.escape(url)}">{READ_MORE}</a></p>'


def truncate_text(text: str, url: str, limit: int = CONTENT_MAX) -> str:
    """`text` when within `limit` characters; else its beginning up to a space, and the page's URL."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return f"{text[: cut if cut > limit // 2 else limit].rstrip()}…\n\n{READ_MORE}: {url}"


def attachments_html(attachments: Sequence[FeedAttachment]) -> str:
    """The files as an HTML list under a Polish heading (RSS has one enclosure per item: the
    picture keeps it, and the files go into the item's HTML)."""
    if not attachments:
        return ""
    items = []
    for attachment in attachments:
        label = attachment.label()
        items.append(
            f'<li><a href="{html.escape(attachment.url)}">{html.escape(attachment.title)}</a>'
            + (f" ({html.escape(label)})" if label else "")
            + "</li>"
        )
    return f"<h3>{ATTACHMENTS_HEADING}</h3><ul>{''.join(items)}</ul>"


def load_content(session: Session, entries: Sequence[FeedEntry]) -> None:
    """Fill `entries` (in place) with their bodies and files, for a feed about to be rendered."""
    ids = [entry.announcement_id for entry in entries if entry.announcement_id is not None]
    if not ids:
        return
    bodies = {
        id_: (stored, text)
        for id_, stored, text in session.execute(
            select(Announcement.id, Announcement.body_html, Announcement.body_text).where(Announcement.id.in_(ids))
        )
    }
    # every live page of each story: a cross-post may carry a file the representative does not
    keys = {entry.story_key for entry in entries if entry.story_key}
    pages: dict[str, list[int]] = {}
    if keys:
        for story_key, page_id in session.execute(
            select(Announcement.story_key, Announcement.id)
            .where(Announcement.story_key.in_(keys), Announcement.deleted_at.is_(None))
            .order_by(Announcement.published_at, Announcement.id)
        ):
            pages.setdefault(str(story_key), []).append(page_id)
    files: dict[int, list[Attachment]] = {}
    wanted = sorted({*ids, *(page for members in pages.values() for page in members)})
    for attachment in session.scalars(
        select(Attachment).where(Attachment.announcement_id.in_(wanted)).order_by(Attachment.id)
    ):
        files.setdefault(attachment.announcement_id, []).append(attachment)
    for entry in entries:
        if entry.announcement_id is None or entry.announcement_id not in bodies:
            continue
        stored_html, body_text = bodies[entry.announcement_id]
        entry.content_html = body_html(stored_html or "", entry.url)
        entry.content_text = truncate_text(body_text or "", entry.url)
        others = [p for p in pages.get(str(entry.story_key), []) if p != entry.announcement_id]
        entry.attachments = story_attachments(files.get(entry.announcement_id, []), [files.get(p, []) for p in others])


def story_attachments(own: Sequence[Attachment], others: Sequence[Sequence[Attachment]]) -> list[FeedAttachment]:
    """The representative's files, then those of the story's other pages that are not the same
    file: not the same URL, nor a file of the same name, type and size that another site carries
    (mcps.com.pl and es.mcps-efs.pl each host the contest's form). At most ATTACHMENTS_MAX."""
    kept: list[Attachment] = []
    urls: set[str] = set()
    seen: set[tuple[str, str | None, str | None]] = set()
    for number, page in enumerate([own, *others]):
        here: set[tuple[str, str | None, str | None]] = set()
        for attachment in page:
            same = (_folded(attachment.name), attachment.file_type, attachment.size)
            if attachment.url in urls or (number and same in seen):
                continue
            kept.append(attachment)
            urls.add(attachment.url)
            here.add(same)
        seen |= here
    kept = kept[:ATTACHMENTS_MAX]
    titles = _unique_titles([(a.name.strip() or file_name_of(a.url), a.url) for a in kept])
    return [
        FeedAttachment(
            url=a.url,
            title=title,
            mime_type=mime_type_of(a.file_type, a.url),
            file_type=a.file_type,
            size=a.size,
            size_in_bytes=size_in_bytes(a.size),
        )
        for a, title in zip(kept, titles, strict=True)
    ]


def _unique_titles(named: Sequence[tuple[str, str]]) -> list[str]:
    """Each file's name, distinct within the entry. JSON Feed reads attachments with the same
    title as one file in several formats; two "Pobierz" links are two files: the second gets its
    file name ("Pobierz (regulamin.pdf)"), or a number when that does not tell them apart."""
    counts: dict[str, int] = {}
    for name, _ in named:
        counts[name] = counts.get(name, 0) + 1
    titles: list[str] = []
    for name, url in named:
        title = name
        if counts[name] > 1 and (file_name := file_name_of(url)) and file_name != name:
            title = f"{name} ({file_name})"
        number = 2
        unique = title
        while unique in titles:
            unique, number = f"{title} ({number})", number + 1
        titles.append(unique)
    return titles


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()

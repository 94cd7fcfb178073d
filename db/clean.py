"""Values the database would refuse, fixed before they are written (or the item refused cleanly).

A batch is one transaction: one row PostgreSQL rejects used to cost the whole batch, every night
(the pipeline now writes such a batch again in parts and gives up only the rejected row:
scrapers/pipelines.py). The known causes are removed here, before annotations and search terms are
computed from the text, with a WARNING naming the page wherever data changes:

- NUL characters (U+0000): PostgreSQL's text cannot hold them ("A string literal cannot contain
  NUL"); they are dropped from every text of an item, on both backends, so both store the same;
- values longer than their `String(n)` column (PostgreSQL refuses them; SQLite would keep them,
  so both backends cut them alike): a text is cut at a character boundary, never between a letter
  and its combining mark; an identifier is never cut (a cut CMS id or URL names another thing):
  the CMS id is dropped (the page is then known by its URL), an attachment or picture whose URL
  is too long is dropped, a raw page whose URL is too long is not archived, and an announcement
  whose own URL or identity key is too long cannot be stored at all (`clean_item` says why).

The limits are read from the models, so a migration that widens a column widens them here.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from db.models import Announcement, Attachment, RawPage

if TYPE_CHECKING:
    from scrapers.items import AnnouncementItem, RawResponse

log = logging.getLogger(__name__)

NUL = "\x00"


def column_length(model: Any, name: str) -> int:
    """The `String(n)` length of a column (the models give every such column one)."""
    length = model.__table__.c[name].type.length
    assert isinstance(length, int), f"{model.__tablename__}.{name} has no length"
    return length


URL_LENGTH = column_length(Announcement, "url")  # announcements, attachments and raw pages alike
KEY_LENGTH = column_length(Announcement, "url_key")
EXTERNAL_ID_LENGTH = column_length(Announcement, "external_id")
RAW_URL_LENGTH = column_length(RawPage, "url")
# item attribute → its column's length: texts cut to fit
ANNOUNCEMENT_TEXTS = {
    name: column_length(Announcement, name)
    for name in ("language", "published_from", "published_granularity", "modified_from")
}
ATTACHMENT_TEXTS = {name: column_length(Attachment, name) for name in ("file_type", "size")}
SHOWN_URL = 300  # an over-long URL in a message: its start, and its length


def fit(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters: after its last whole word when one ends in the
    last half (`1,2 MB 1,2 MB`, not `1,2 MB 1,2 M`), else at a character boundary that does not
    part a letter from its combining marks (a decomposed "ó" is two characters)."""
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit].rstrip()
    space = max(text.rfind(" ", 0, limit), text.rfind("\n", 0, limit))
    if space >= limit // 2:
        return text[:space].rstrip()
    cut = limit
    while cut > 0 and unicodedata.combining(text[cut]):
        cut -= 1
    return text[:cut].rstrip()


def shown(url: str) -> str:
    """A URL as a message names it: whole, or an over-long one's start and length."""
    return url if len(url) <= SHOWN_URL else f"{url[:SHOWN_URL]}… ({len(url)} characters)"


class _Changes:
    """What cleaning one item changed, for its one warning."""

    def __init__(self) -> None:
        self.nul: list[str] = []
        self.notes: list[str] = []

    def text(self, value: str, what: str, limit: int | None = None) -> str:
        if NUL in value:
            value = value.replace(NUL, "")
            self.nul.append(what)
        if limit is not None and len(value) > limit:
            self.notes.append(f"cut {what} from {len(value)} to {limit} characters")
            value = fit(value, limit)
        return value

    def url(self, value: str, what: str) -> str | None:
        """A file's URL without NULs, or None when it is too long to store (a cut URL would name
        another file: `what`, "the attachment", is dropped instead)."""
        url = self.text(value, f"{what}'s URL")
        if len(url) > URL_LENGTH:
            self.notes.append(f"dropped {what} {shown(url)}: its URL is longer than {URL_LENGTH}")
            return None
        return url

    def optional(self, value: str | None, what: str, limit: int | None = None) -> str | None:
        return None if value is None else self.text(value, what, limit)

    def summary(self) -> str:
        nul = [f"removed NUL characters from {', '.join(dict.fromkeys(self.nul))}"] if self.nul else []
        return "; ".join([*nul, *self.notes])


def clean_item(item: AnnouncementItem) -> str | None:
    """Make `item` storable in place (see the module's docstring), logging what changed; the
    reason it cannot be stored at all (its own URL or identity key too long), else None.
    Idempotent: a clean item is left as it is, without a word."""
    if len(item.url) > URL_LENGTH:
        return f"its URL is {len(item.url)} characters long, longer than the {URL_LENGTH} the database takes"
    if len(item.key) > KEY_LENGTH:
        return f"its identity key is {len(item.key)} characters long, longer than the {KEY_LENGTH} the database takes"
    changes = _Changes()
    item.url = changes.text(item.url, "the URL")  # NUL only: a cut URL would name another page
    item.url_keys = tuple(changes.text(key, "the identity key") for key in item.url_keys)
    for name in ("title", "body_html", "body_text"):
        setattr(item, name, changes.text(getattr(item, name), name))
    item.lead = changes.optional(item.lead, "lead")
    for name, limit in ANNOUNCEMENT_TEXTS.items():
        setattr(item, name, changes.optional(getattr(item, name), name, limit))
    item.categories = [changes.text(category, "categories") for category in item.categories]
    if item.external_id is not None:
        external_id = changes.text(item.external_id, "the CMS id")
        if len(external_id) > EXTERNAL_ID_LENGTH:
            changes.notes.append(f"dropped the CMS id {external_id[:40]}… ({len(external_id)} characters, "
                                 f"longer than {EXTERNAL_ID_LENGTH})")  # fmt: skip
            external_id = None
        item.external_id = external_id
    attachments = []
    for attachment in item.attachments:
        if (url := changes.url(attachment.url, "the attachment")) is None:
            continue
        attachment.url, attachment.name = url, changes.text(attachment.name, "an attachment's name")
        for name, limit in ATTACHMENT_TEXTS.items():
            setattr(attachment, name, changes.optional(getattr(attachment, name), f"an attachment's {name}", limit))
        attachments.append(attachment)
    item.attachments = attachments
    images = []
    for image in item.images:
        if (url := changes.url(image.url, "the picture")) is None:
            continue
        image.url = url
        image.alt = changes.optional(image.alt, "a picture's alt text")
        image.caption = changes.optional(image.caption, "a picture's caption")
        images.append(image)
    item.images = images
    if item.raw is not None and not clean_raw(item.raw):
        changes.notes.append(f"did not archive its raw page {shown(item.raw.url)}: its URL is longer than "
                             f"{RAW_URL_LENGTH}")  # fmt: skip
        item.raw = None
    if summary := changes.summary():
        log.warning("%s: %s: stored cleaned: %s", item.source_id, shown(item.url), summary,
                    extra={"source": item.source_id})  # fmt: skip
    return None


def clean_raw(raw: RawResponse) -> bool:
    """Make a raw page's headers and link text storable (NUL); False when it cannot be archived at all (its URL
    is longer than the column: a cut one would file the body under another page)."""
    if len(raw.url) > RAW_URL_LENGTH:
        return False
    if any(NUL in name or NUL in value for name, value in raw.headers.items()):
        raw.headers = {name.replace(NUL, ""): value.replace(NUL, "") for name, value in raw.headers.items()}
    if raw.link_text and NUL in raw.link_text:
        raw.link_text = raw.link_text.replace(NUL, "")
    return True


def clean_raws(raws: Sequence[RawResponse]) -> list[RawResponse]:
    """The raw pages that can be archived (`clean_raw`); the others are logged."""
    kept = []
    for raw in raws:
        if clean_raw(raw):
            kept.append(raw)
        else:
            log.warning("%s: %s: not archived: its URL is longer than the %d characters the database takes",
                        raw.source_id, shown(raw.url), RAW_URL_LENGTH, extra={"source": raw.source_id})  # fmt: skip
    return kept

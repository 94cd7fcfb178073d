"""What the crawl must store, taken from the real texts the mirror was built from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scrapers.extraction.text import join_soft_breaks
from scrapers.mirror.build import TEXTS_DIR, load_spec, same_site, site_url
from scrapers.registry import get_source


def normalise(paragraph: str) -> str:
    """Whitespace as the text extraction leaves it: one space between words, line breaks kept
    but those inside a sentence (`join_soft_breaks`)."""
    return join_soft_breaks("\n".join(" ".join(line.split()) for line in paragraph.split("\n") if line.strip()))


@dataclass(frozen=True)
class ExpectedArticle:
    url: str
    title: str
    paragraphs: list[str]
    categories: list[str]
    attachment_names: list[str]
    published_at: datetime | None


def expected_articles(source_id: str) -> dict[str, ExpectedArticle]:
    source = get_source(source_id)
    texts = json.loads((TEXTS_DIR / f"{source_id}.json").read_text(encoding="utf-8"))
    dates = load_spec(source_id)["articles"]
    result = {}
    for article in texts["articles"]:
        if not same_site(article["url"], source) or article.get("skip_in_mirror"):
            continue  # the mirror builder leaves these out too
        url = site_url(article["url"], source)
        stamp = dates[url].get("published")
        published = datetime.fromisoformat(stamp).replace(tzinfo=ZoneInfo("Europe/Warsaw")) if stamp else None
        result[url] = ExpectedArticle(
            url=url,
            title=article["title"],
            paragraphs=[normalise(p) for p in article["paragraphs"]],
            categories=article.get("categories") or ["Aktualności"],
            attachment_names=[a["name"] for a in article.get("attachments") or []],
            published_at=published.astimezone(UTC) if published else None,
        )
    return result

"""What the crawl must store, taken from the real texts the mirror was built from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scrapers.mirror.build import TEXTS_DIR, load_spec, same_site, site_url
from scrapers.registry import get_source


def normalise(paragraph: str) -> str:
    """Whitespace as the text extraction leaves it: one space between words, line breaks kept."""
    return "\n".join(" ".join(line.split()) for line in paragraph.split("\n") if line.strip())


def joins_lines_of(stored: str, text: str) -> bool:
    """Whether the stored paragraph is the text's with some of its line breaks made spaces (a
    sentence wrapped by hand): the same words, and no line break the text does not have."""
    return stored.split() == text.split() and set(_breaks(stored)) <= set(_breaks(text))


def _breaks(paragraph: str) -> list[int]:
    """After how many words of the paragraph each line break comes."""
    counts, words = [], 0
    for line in paragraph.split("\n")[:-1]:
        words += len(line.split())
        counts.append(words)
    return counts


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

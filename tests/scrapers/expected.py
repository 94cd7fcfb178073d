"""What the crawl must store, taken from the real texts the mirror was built from."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aggregator.urls import canonical_url
from scrapers.mirror.build import HERE as MIRROR_DIR


@dataclass(frozen=True)
class ExpectedArticle:
    url: str
    title: str
    paragraphs: list[str]
    categories: list[str]
    attachment_names: list[str]
    published_at: datetime


def expected_articles(source_id: str) -> dict[str, ExpectedArticle]:
    texts = json.loads((MIRROR_DIR / "texts" / f"{source_id}.json").read_text(encoding="utf-8"))
    with (MIRROR_DIR / "fixture_dates.toml").open("rb") as handle:
        dates = tomllib.load(handle)[source_id]
    result = {}
    for article in texts["articles"]:
        url = canonical_url(article["url"].replace("http://", "https://", 1))
        if url not in dates:
            continue  # not on this source's host (the mirror builder skips it too)
        published = datetime.fromisoformat(dates[url]["published"]).replace(tzinfo=ZoneInfo("Europe/Warsaw"))
        result[url] = ExpectedArticle(
            url=url,
            title=article["title"],
            paragraphs=[" ".join(p.split()) for p in article["paragraphs"]],
            categories=article.get("categories") or ["Aktualności"],
            attachment_names=[a["name"] for a in article.get("attachments") or []],
            published_at=published.astimezone(UTC),
        )
    return result

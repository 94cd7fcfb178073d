"""An article parser with a bug, named by a test registry (`parser = "tests.scrapers.spiders.
buggy_parser.BuggyParser"`): the spider's own code raising on every article page, which a registry
cannot cause any more (a selector no library reads is refused when it loads)."""

from __future__ import annotations

from scrapers.extraction.article import ArticleParser, ParsedArticle


class BuggyParser(ArticleParser):
    """Raises on every page, as a per-site parser's bug would."""

    def parse(self, html: str, url: str, link_text: str | None = None) -> ParsedArticle:
        raise LookupError("a bug in a per-site parser")

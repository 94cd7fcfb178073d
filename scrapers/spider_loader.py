"""Scrapy's spider loader, saying an unknown spider in one line (`SPIDER_LOADER_CLASS`).

`scrapy crawl nosuch` from the repo root (or a Scrapyd job scheduled with a mistyped id) printed
Scrapy's traceback ending in `KeyError: 'Spider not found: nosuch'`. The loader is Scrapy's
documented hook for finding spiders by name; this one raises a `UsageError`, which Scrapy's command
line reports as a usage error (its usage lines, then `scrapy: error: unknown source 'nosuch' (…)`,
exit 2), naming the ids closest to it as `ropsfeed crawl` does (registry.unknown_source).
The exception is a `KeyError` too, the loader protocol's "not found", which `scrapy parse --spider`
and other callers catch.
"""

from __future__ import annotations

from scrapy import Spider
from scrapy.exceptions import UsageError
from scrapy.spiderloader import SpiderLoader

from scrapers.registry import unknown_source


class UnknownSpider(UsageError, KeyError):
    """Scrapy's usage error and the loader protocol's KeyError in one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, print_help=False)  # the message is enough: no page of options

    def __str__(self) -> str:  # KeyError's own would quote the message
        return str(self.args[0])


class SourceSpiderLoader(SpiderLoader):
    """The project's spiders as Scrapy finds them (scrapers/spiders/generated.py), an unknown name said plainly."""

    def load(self, spider_name: str) -> type[Spider]:
        try:
            return super().load(spider_name)
        except KeyError:
            raise UnknownSpider(unknown_source(spider_name, self.list())) from None

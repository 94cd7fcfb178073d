"""One spider class per registry entry, so `scrapy list` and `scrapy crawl SOURCE_ID` just work.

A source gets its platform's strategy class; nothing here is per site.
"""

from __future__ import annotations

from scrapers.registry import SourceConfig, load_sources, parser_class
from scrapers.spiders.base import SourceSpider
from scrapers.spiders.wordpress import WordPressSpider

PLATFORM_SPIDERS: dict[str, type[SourceSpider]] = {
    "wordpress": WordPressSpider,
    "joomla": SourceSpider,
    "drupal": SourceSpider,
    "html": SourceSpider,
}


def spider_class(source: SourceConfig) -> type[SourceSpider]:
    name = "".join(part.capitalize() for part in source.id.replace("_", "-").split("-")) + "Spider"
    base = PLATFORM_SPIDERS[source.platform]
    attributes: dict[str, object] = {"name": source.id, "source": source, "__module__": __name__}
    if source.parser:
        attributes["parser_class"] = parser_class(source.parser)
    return type(name, (base,), attributes)


SPIDERS: dict[str, type[SourceSpider]] = {s.id: spider_class(s) for s in load_sources()}
globals().update({cls.__name__: cls for cls in SPIDERS.values()})

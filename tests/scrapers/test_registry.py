from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scrapers.registry import PLATFORMS, VOIVODESHIPS, get_source, load_sources, voivodeship_named
from scrapers.spiders.generated import SPIDERS
from tests.conftest import run_cli


def test_registry_entries_are_complete() -> None:
    for source in load_sources():
        assert source.voivodeship in VOIVODESHIPS and source.platform in PLATFORMS
        assert source.base_url.startswith(("https://", "http://")) and source.base_url.endswith("/")
        assert source.listing_urls or source.api_url or source.feed_url, source.id
        assert source.verified or source.note, f"{source.id}: an unverified source says what is inferred"


def test_one_spider_per_source() -> None:
    assert sorted(SPIDERS) == sorted(s.id for s in load_sources())
    assert SPIDERS["mcps"].source is get_source("mcps")


def test_unknown_source_names_the_closest_or_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown source 'rops-krakw' \(did you mean 'rops-krakow'\?\)"):
        get_source("rops-krakw")
    with pytest.raises(KeyError, match=r"unknown source 'nosuch' \(known: .*mcps"):
        get_source("nosuch")


def test_every_source_names_its_publishing_institution_in_the_gazetteer() -> None:
    from aggregator.entities import gazetteer

    keys = {entity.key for entity in gazetteer()}
    for source in load_sources():
        assert source.entity in keys, f"{source.id}: entity {source.entity!r} is not a gazetteer key"


ENTRY = (
    "[[source]]\nid = 'x'\ninstitution = 'I'\nvoivodeship = 'mazowieckie'\nplatform = 'html'\n"
    "base_url = 'https://x.pl/'\nlisting_urls = ['/news']\n"
)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, r"cannot read the source registry \S+ \(ROPSFEED_SOURCES\): No such file or directory$"),
        ("[[source]\nid = 'x'\n", r"the source registry \S+ \(ROPSFEED_SOURCES\) is not valid TOML: .+"),
        ("[[source]]\nid = 'x'\n", r"\(ROPSFEED_SOURCES\): source x: missing "
                                   r"'institution', 'voivodeship', 'platform', 'base_url'$"),
        (ENTRY + "listing = ['/news']\n", r"source x: unknown key 'listing' \(did you mean 'listing_urls'\?\)$"),
        (ENTRY.replace("'html'", "'wordpres'"),
         r"source x: unknown platform 'wordpres' \(one of: wordpress, joomla, drupal, html\)$"),
        (ENTRY + "selectors = { titel = 'h1' }\n",
         r"source x: unknown key 'titel' in selectors \(did you mean 'title'\?\)$"),
        (ENTRY + "aliases = [{ hots = 'www.x.pl' }]\n",
         r"source x: unknown key 'hots' in aliases \(did you mean 'host'\?\); an alias without its 'host'$"),
        (ENTRY + "enabled = 'false'\n", r"source x: enabled must be true or false, not 'false'$"),
        (ENTRY.replace("listing_urls = ['/news']", "listing_urls = '/news'"),
         r"source x: listing_urls must be a list, not '/news'$"),
        (ENTRY + "per_page = '20'\n", r"source x: per_page must be an integer, not '20'$"),
        (ENTRY.replace("[[source]]", "[[sources]]"),
         r": unknown table 'sources' at the top level \(did you mean 'source'\?\)$"),
        (ENTRY.replace("id = 'x'", "id = 'Rops Krakow'"), r"source Rops Krakow: id 'Rops Krakow' is not lower-case"),
        (ENTRY.replace("https://x.pl/", "https://x.pl"), r"source x: base_url 'https://x.pl' is not a scheme and host"),
        (ENTRY + "parser = 'scrapers.parsers.nosuch.Parser'\n",
         r"source x: parser 'scrapers.parsers.nosuch.Parser' cannot be imported: No module named "
         r"'scrapers.parsers.nosuch'$"),
        (ENTRY + "parser = 'scrapers.extraction.article.ArticleParsr'\n",
         r"source x: parser 'scrapers.extraction.article.ArticleParsr': no class 'ArticleParsr' in "
         r"scrapers.extraction.article$"),
        (ENTRY + "parser = 'scrapers.registry.Selectors'\n",
         r"source x: parser 'scrapers.registry.Selectors' is not a subclass of "
         r"scrapers.extraction.article.ArticleParser$"),
    ],
)  # fmt: skip
def test_a_registry_that_cannot_be_read_is_one_error_line_and_exit_2(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    """`ROPSFEED_SOURCES` (an operator's own selection) naming no file or a broken one: every command
    says so in one line and exits 2, a setting to fix; `run` used to print a traceback and exit 1,
    as if a source had failed. An entry with a misspelt key, a wrong platform, a value of the wrong
    type (`enabled = "false"` was true, `listing_urls = "/news"` five one-letter paths), a misspelt
    `[[sources]]` (no source at all) or a parser class that is not there is refused the same way,
    naming the key and its likely fix."""
    registry = tmp_path / "sources.toml"
    if content is not None:
        registry.write_text(content, encoding="utf-8")
    for command in (["run"], ["status"]):
        result = run_cli(*command, "--db", f"sqlite:///{tmp_path / 'x.db'}", env={"ROPSFEED_SOURCES": str(registry)})
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: "), result.stderr
        assert re.search(problem, result.stderr.strip()), result.stderr


@pytest.mark.parametrize(
    ("typed", "named"),
    [("śląskie", "śląskie"), ("slaskie", "śląskie"), ("Łódzkie", "łódzkie"), ("LODZKIE", "łódzkie"),
     (" Warminsko-Mazurskie ", "warmińsko-mazurskie"), ("mazowsze", None), ("województwo mazowieckie", None)],
)  # fmt: skip
def test_a_voivodeship_is_named_however_it_is_typed(typed: str, named: str | None) -> None:
    assert voivodeship_named(typed) == named


def test_scrapy_list_from_the_repo_root_names_every_source() -> None:
    """DESIGN.md §8: `scrapy list` / `scrapy crawl SOURCE_ID` work from the repo root as in any
    Scrapy project: one generated spider per registry entry, nothing listed by hand."""
    repo = Path(__file__).parents[2]
    result = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=repo, capture_output=True, text=True,
                            timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == sorted(s.id for s in load_sources())

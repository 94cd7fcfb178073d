"""Registry selectors are checked when the registry loads (scrapers/registry_selectors.py), each by
the library the crawl reads it with: a selector no library reads is one `error: …` line naming the
source, the field and the selector, exit 2, on every command — not a failed page per article at
crawl time, night after night."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from scrapers.registry import REGISTRY_PATH
from tests.conftest import REPO, run_cli


def krakow_registry(folder: Path, old: str, new: str) -> Path:
    """The bundled registry's rops-krakow entry alone, with `old` replaced by `new`."""
    text = REGISTRY_PATH.read_text(encoding="utf-8")
    entry = re.search(r'\[\[source\]\]\nid = "rops-krakow"\n.*?(?=\n\[\[source\]\])', text, re.S)
    assert entry is not None and old in entry.group(0)
    path = folder / "sources.toml"
    path.write_text(entry.group(0).replace(old, new, 1), encoding="utf-8")
    return path


BODY = 'body = "div.news div.news-body"'
LINKS = 'listing_links = "div.lista-newsow div.news-item a.news-link::attr(href)"'


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        # soupsieve reads the article's fields (scrapers/extraction/select.py)
        (BODY, 'body = "div.news div..news-body"',
         "selectors.body 'div.news div..news-body' is not a CSS selector soupsieve reads: "
         "Malformed class selector at position 12"),
        (BODY, f'{BODY}, remove = ["div.share", "p:has("]',
         "selectors.remove[1] 'p:has(' is not a CSS selector soupsieve reads: Unclosed pseudo-class at position 6"),
        # Scrapy's response.css (parsel) the listing's: its grammar is not soupsieve's
        (LINKS, 'listing_links = "div.news-item a::attr(href"',
         "selectors.listing_links 'div.news-item a::attr(href' is not a CSS selector Scrapy's response.css "
         "(parsel) reads: Expected an argument, got <EOF at 26>"),
        (LINKS, 'listing_links = "div.news-item svg|a::attr(href)"',  # soupsieve takes it, lxml does not
         "selectors.listing_links 'div.news-item svg|a::attr(href)' is not a CSS selector Scrapy's "
         "response.css (parsel) reads: XPath error: Undefined namespace prefix"),
        (LINKS, 'listing_links = "div.news-item a::href"',
         "selectors.listing_links 'div.news-item a::href' is not a CSS selector Scrapy's response.css "
         "(parsel) reads: The pseudo-element ::href is unknown"),
    ],
)  # fmt: skip
def test_a_selector_no_library_reads_is_refused_when_the_registry_loads(
    tmp_path: Path, old: str, new: str, problem: str
) -> None:
    registry = krakow_registry(tmp_path, old, new)
    env = {"ROPSFEED_SOURCES": str(registry), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for command in (["sources"], ["status"], ["crawl"], ["run"]):
        result = run_cli(*command, "--db", f"sqlite:///{tmp_path / 'x.db'}", env=env)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr == (
            f"error: the source registry {registry} (ROPSFEED_SOURCES): source rops-krakow: {problem}\n"
        ), command
    assert not (tmp_path / "cache" / "ropsfeed" / "selectors-checked").exists(), "a refused set is not remembered"


LOAD = """
import sys
from scrapers.registry import load_sources
load_sources()
print("soupsieve" in sys.modules, "parsel" in sys.modules)
"""


def test_a_registry_that_passed_is_not_checked_again(tmp_path: Path) -> None:
    """Checking costs ~0.2 s (importing soupsieve and parsel, compiling); every command loads the
    registry, so a selector set that passed is remembered and the next load imports neither. A
    changed selector is checked again."""
    registry = krakow_registry(tmp_path, BODY, BODY)
    env = {"ROPSFEED_SOURCES": str(registry), "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}

    def load() -> str:
        done = subprocess.run([sys.executable, "-c", LOAD], env=env, cwd=REPO, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert load() == "True True", "checked"
    assert (tmp_path / "cache" / "ropsfeed" / "selectors-checked").is_file()
    assert load() == "False False", "remembered"
    registry.write_text(registry.read_text().replace(BODY, 'body = "div.news > div.news-body"'))
    assert load() == "True True", "another selector: checked again"
    registry.write_text(registry.read_text().replace('"div.news > div.news-body"', '"div.news >> div"'))
    assert run_cli("sources", env={**env, "ROPSFEED_SOURCES": str(registry)}).returncode == 2


def test_the_bundled_registry_passes(tmp_path: Path) -> None:
    result = run_cli("sources", "--db", f"sqlite:///{tmp_path / 'x.db'}", env={"XDG_CACHE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr

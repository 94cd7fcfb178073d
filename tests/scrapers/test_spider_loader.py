"""An unknown spider id (scrapers/spider_loader.py): `scrapy crawl nosuch` from the repo root was
Scrapy's traceback ending in `KeyError: 'Spider not found: nosuch'`; now Scrapy's usage error
naming the closest ids, exit 2, as `ropsfeed crawl` names them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.utils.project import get_project_settings

from scrapers.spider_loader import SourceSpiderLoader
from scrapers.spiders.generated import SPIDERS
from tests.conftest import REPO, run_cli


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    """The `scrapy` command of this environment, from the repo root, as an operator runs it."""
    return subprocess.run([str(Path(sys.executable).with_name("scrapy")), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "said"),
    [("rops-krakw", "unknown source 'rops-krakw' (did you mean 'rops-krakow'?)"),
     ("nosuch", "unknown source 'nosuch' (known: mcps, rops-rzeszow, ")],
)  # fmt: skip
def test_scrapy_crawl_of_an_unknown_id_is_a_usage_error_naming_the_closest(typed: str, said: str) -> None:
    result = scrapy("crawl", typed)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"scrapy: error: {said}"), result.stderr


def test_ropsfeed_crawl_names_the_closest_ids_too(tmp_path: Path) -> None:
    result = run_cli("crawl", "rops-krakw", "mcp", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2
    assert result.stderr == ("error: unknown source 'rops-krakw' (did you mean 'rops-krakow'?); "
                             "unknown source 'mcp' (did you mean 'mcps'?)\n")  # fmt: skip


def test_the_loader_keeps_scrapys_protocol() -> None:
    """Spiders load as before; an unknown name is still the protocol's KeyError (`scrapy parse
    --spider` catches it), with the plain message."""
    loader = SourceSpiderLoader.from_settings(get_project_settings())
    assert loader.load("mcps") is SPIDERS["mcps"] and sorted(loader.list()) == sorted(SPIDERS)
    with pytest.raises(KeyError) as raised:
        loader.load("mcsp")
    assert str(raised.value) == "unknown source 'mcsp' (did you mean 'mcps'?)"

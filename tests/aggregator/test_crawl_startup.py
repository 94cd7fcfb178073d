"""What a crawl process pays before and around its first page (aggregator/crawl.py, scrapers/settings.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.settings import Settings

from aggregator.crawl import crawl_settings, quiet_crawler_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root_level() -> Iterator[logging.Logger]:
    root, scrapy_logger = logging.getLogger(), logging.getLogger("scrapy")
    before = root.level, scrapy_logger.level
    yield root
    root.setLevel(before[0])
    scrapy_logger.setLevel(before[1])


@pytest.mark.parametrize(
    ("before", "crawl_level", "after"),
    [
        (logging.WARNING, "WARNING", logging.WARNING),  # `ropsfeed crawl`: no record for Scrapy's DEBUG lines
        (logging.WARNING, "INFO", logging.INFO),  # the crawl asked for more than the root had
        (logging.INFO, "WARNING", logging.INFO),  # someone (a test's caplog) wants INFO: kept
        (logging.NOTSET, "WARNING", logging.NOTSET),  # everything was wanted before: still is
    ],
)
def test_scrapy_logger_passes_on_what_a_handler_may_want(
    root_level: logging.Logger, before: int, crawl_level: str, after: int
) -> None:
    root_level.setLevel(before)
    settings = crawl_settings("sqlite:///unused.db", None, False, "run", crawl_level)
    quiet_crawler_process(settings)
    engine = logging.getLogger("scrapy.core.engine")
    assert engine.getEffectiveLevel() == (after or logging.DEBUG)  # NOTSET: Scrapy's own DEBUG stays
    assert engine.isEnabledFor(logging.DEBUG) is (after == logging.NOTSET)


def test_switched_off_consoles_are_not_imported() -> None:
    """Scrapy imports every extension named in EXTENSIONS_BASE/EXTENSIONS, even one switched off:
    the remote-control console would import aiohttp at every crawl's start."""
    code = (
        "import sys\n"
        "from scrapy.settings import Settings\n"
        "from scrapy.utils.misc import build_from_crawler\n"
        "settings = Settings(); settings.setmodule('scrapers.settings', priority='project')\n"
        "names = list(settings.getwithbase('EXTENSIONS'))\n"
        "print('aiohttp' in sys.modules, 'scrapy.extensions.corestats.CoreStats' in names, "
        "any('remote_control' in n or 'telnet' in n for n in names))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "False"]


def test_the_other_base_extensions_stay() -> None:
    from scrapy.settings import default_settings

    settings = Settings()
    settings.setmodule("scrapers.settings", priority="project")
    ours = set(settings.getwithbase("EXTENSIONS"))
    expected = set(default_settings.EXTENSIONS_BASE) - {
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.remote_control.RemoteControl",
    }
    assert expected | {"scrapers.extensions.CrawlRunRecorder"} == ours


def test_an_unreachable_database_stops_the_crawl_before_any_worker_starts() -> None:
    """The schema comes first: with the database away the command fails at once, without forking
    worker processes whose start-up (morfeusz2, dateparser: about a second) the exit would wait for."""
    code = (
        "from aggregator.crawl import run_crawl\n"
        "from scrapers import worker_pool\n"
        "try:\n"
        "    run_crawl([], 'postgresql://nobody@127.0.0.1:1/none')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, worker_pool.running() is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.split()[-1] == "True", out

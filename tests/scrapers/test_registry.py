from __future__ import annotations

import re
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


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"known: .*mcps"):
        get_source("rops-atlantyda")


def test_every_source_names_its_publishing_institution_in_the_gazetteer() -> None:
    from aggregator.entities import gazetteer

    keys = {entity.key for entity in gazetteer()}
    for source in load_sources():
        assert source.entity in keys, f"{source.id}: entity {source.entity!r} is not a gazetteer key"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, r"cannot read the source registry \S+ \(ROPSFEED_SOURCES\): No such file or directory$"),
        ("[[source]\nid = 'x'\n", r"the source registry \S+ \(ROPSFEED_SOURCES\) is not valid TOML: .+"),
        ("[[source]]\nid = 'x'\n", r"\(ROPSFEED_SOURCES\): source x: missing 4 required positional arguments: "
                                   r"'institution', 'voivodeship', 'platform', and 'base_url'$"),
        ("[[source]]\nid = 'x'\ninstitution = 'I'\nvoivodeship = 'mazowieckie'\nplatform = 'html'\n"
         "base_url = 'https://x.pl/'\nlisting = ['/news']\n",
         r"source x: got an unexpected keyword argument 'listing'$"),
    ],
)  # fmt: skip
def test_a_registry_that_cannot_be_read_is_one_error_line_and_exit_2(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    """`ROPSFEED_SOURCES` (an operator's own selection) naming no file or a broken one: every command
    says so in one line and exits 2, a setting to fix; `run` used to print a traceback and exit 1,
    as if a source had failed."""
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

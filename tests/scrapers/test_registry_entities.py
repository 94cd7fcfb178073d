"""A source's `entity` is checked against the gazetteer when the registry loads
(scrapers/registry_entities.py): a key the gazetteer lacks is one `error: …` line naming the source,
the field, the value and the closest key, exit 2, on every command — it was caught by the tests
alone, and an operator's own registry (`ROPSFEED_SOURCES`) left the source out of every institution
filter without a word."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scrapers import registry_entities
from scrapers.registry import load_sources
from tests.conftest import run_cli
from tests.scrapers.test_registry_selectors import krakow_registry

ENTITY = 'entity = "rops-krakow"'


@pytest.mark.parametrize(
    ("typed", "hint"),
    [("rops-krakw", "did you mean 'rops-krakow'?"), ("ROPS Kraków", "did you mean 'rops-krakow'?"),
     ("xyzzy", "no key is close to it")],
)  # fmt: skip
def test_an_entity_the_gazetteer_lacks_is_refused_when_the_registry_loads(
    tmp_path: Path, typed: str, hint: str
) -> None:
    registry = krakow_registry(tmp_path, ENTITY, f'entity = "{typed}"')
    env = {"ROPSFEED_SOURCES": str(registry), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for command in (["sources"], ["run"]):
        result = run_cli(*command, "--db", f"sqlite:///{tmp_path / 'x.db'}", env=env)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert result.stderr == (
            f"error: the source registry {registry} (ROPSFEED_SOURCES): source rops-krakow: entity {typed!r} is "
            f"not the key of an institution in aggregator/entities/gazetteer.toml ({hint})\n"
        ), command


def test_entities_that_passed_are_not_checked_again_until_the_gazetteer_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the gazetteer would add half again to every command's registry load: values that
    passed are remembered with the gazetteer file's size and time; an edited gazetteer is read again."""
    gazetteer = tmp_path / "gazetteer.toml"
    shutil.copy(registry_entities.GAZETTEER, gazetteer)
    monkeypatch.setattr(registry_entities, "GAZETTEER", gazetteer)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    reads: list[Path] = []
    read = registry_entities.gazetteer_keys
    monkeypatch.setattr(registry_entities, "gazetteer_keys", lambda path: reads.append(path) or read(path))
    sources = load_sources()
    registry_entities.check_entities(sources)
    registry_entities.check_entities(sources)
    assert len(reads) == 1, "remembered"
    gazetteer.write_text(gazetteer.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    registry_entities.check_entities(sources)
    assert len(reads) == 2, "the gazetteer changed: read again"
    gazetteer.write_text(gazetteer.read_text(encoding="utf-8").replace('key = "rops-krakow"', 'key = "x"'),
                         encoding="utf-8")  # fmt: skip
    with pytest.raises(ValueError, match=r"^source rops-krakow: entity 'rops-krakow' is not the key of an "):
        registry_entities.check_entities(sources)

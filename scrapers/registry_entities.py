"""The registry's `entity` values checked when it loads, against the gazetteer of institutions.

A source's `entity` is the key of its publishing institution in aggregator/entities/gazetteer.toml:
it is copied to `sources.entity_key`, where the feed's `--entity` filter, the web page's list of
publishers and the story step find the source's announcements by it. A misspelt one was refused
by the tests alone (tests/scrapers/test_registry.py) — never for an operator's own registry
(`ROPSFEED_SOURCES`), whose sources then silently left every institution filter. It is refused
now as the other fields are (scrapers/registry.py): one line naming the source, the field, the
value and the closest key, exit 2.

Reading the gazetteer costs ~3 ms (tomllib), a registry load ~6: a set of values that passed is
remembered in the selectors' cache file (scrapers/registry_selectors.py), keyed by the values and
the gazetteer file's size and time, so an unchanged registry costs a hash and a stat.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from scrapers.registry_hints import closest
from scrapers.registry_selectors import remember, remembered

if TYPE_CHECKING:
    from scrapers.registry import SourceConfig

# Next to the gazetteer's loader (aggregator/entities/gazetteer.py), read here without importing
# the package: aggregator.entities loads the name machinery (~30 ms at every command's start).
GAZETTEER = Path(__file__).resolve().parents[1] / "aggregator" / "entities" / "gazetteer.toml"


def check_entities(sources: Iterable[SourceConfig]) -> None:
    """Refuse the first `entity` that is no gazetteer key: `ValueError("source S: entity 'X' is not
    an institution of the gazetteer …")`, which load_sources says as the registry's error (exit 2)."""
    given = [(source.id, source.entity) for source in sources if source.entity is not None]
    if not given:
        return
    key = _fingerprint(given, GAZETTEER)
    if key is not None and key in remembered():
        return
    keys = gazetteer_keys(GAZETTEER)
    for source_id, entity in given:
        if entity not in keys:
            close = closest(entity, sorted(keys))
            hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "no key is close to it"
            raise ValueError(f"source {source_id}: entity {entity!r} is not the key of an institution in "
                             f"aggregator/entities/gazetteer.toml ({hint})")  # fmt: skip
    if key is not None:
        remember(key)


def gazetteer_keys(gazetteer: Path = GAZETTEER) -> set[str]:
    """The `key` of every `[[entity]]` of the gazetteer."""
    try:
        data = tomllib.loads(gazetteer.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):  # not a plain file here (a zipped egg): through the package
        from aggregator.entities import gazetteer as known

        return {entity.key for entity in known()}
    return {str(entry.get("key")) for entry in data.get("entity", []) if isinstance(entry, dict)}


def _fingerprint(given: list[tuple[str, str]], gazetteer: Path) -> str | None:
    """What decides the check: the values and the gazetteer file (size and time); None when the
    file cannot be seen, which checks every time."""
    try:
        stat = os.stat(gazetteer)
    except OSError:
        return None
    digest = hashlib.sha256(f"entities\0{gazetteer}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    for source_id, entity in sorted(given):
        digest.update(f"\0{source_id}\0{entity}".encode())
    return digest.hexdigest()

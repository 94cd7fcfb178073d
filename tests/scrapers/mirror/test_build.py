"""The committed mirror is what `make build-mirror` makes of the texts, specs and templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from scrapers.mirror.build import SITES_DIR, build
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.registry import get_source


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("source_id", sorted(p.stem for p in SITES_DIR.glob("*.toml")))
def test_the_committed_snapshot_is_the_build_of_its_texts(source_id: str, tmp_path: Path) -> None:
    """A text, spec or template edited without rebuilding would leave tests crawling stale pages."""
    build(source_id, tmp_path)
    host = get_source(source_id).host
    built, committed = _files(tmp_path / host), _files(SNAPSHOT_DIR / host)
    stale = sorted(name for name in built.keys() | committed.keys() if built.get(name) != committed.get(name))
    assert not stale, f"{source_id}: run `make build-mirror SOURCES={source_id}`; differing files: {stale[:5]}"


def test_every_snapshot_and_expected_file_belongs_to_a_mirrored_source() -> None:
    """A source disabled or removed leaves no snapshot or expected JSON behind (docs/adding-a-source.md)."""
    mirrored = sorted(p.stem for p in SITES_DIR.glob("*.toml"))
    hosts = sorted(get_source(source_id).host for source_id in mirrored)
    snapshot = sorted(p.name for p in SNAPSHOT_DIR.iterdir() if p.is_dir())
    assert snapshot == hosts, "snapshot/<host>/ of no sites/<id>.toml"
    expected = Path(__file__).parents[1] / "expected"
    assert sorted(p.stem for p in expected.glob("*.json")) == mirrored, "expected/<id>.json of no sites/<id>.toml"

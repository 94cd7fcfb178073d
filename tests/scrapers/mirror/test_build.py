"""The committed mirror is what `make build-mirror` makes of the texts, specs and templates."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from scrapers.mirror import build as build_module
from scrapers.mirror.build import SITES_DIR, TEXTS_DIR, build, build_wordpress, load_pages, load_spec
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.registry import SourceConfig, get_source


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


def _sibling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, of: str, host: str
) -> tuple[SourceConfig, dict[str, Any]]:
    """Source `of` as if a sibling host with the same theme were registered under `zz-sibling`:
    its texts and its site spec moved to `host`, no templates of its own."""
    source = get_source(of)
    sibling = replace(source, id="zz-sibling", base_url=f"https://{host}/", aliases=())
    texts = json.loads((TEXTS_DIR / f"{of}.json").read_text(encoding="utf-8"))
    for article in texts["articles"]:
        article["url"] = article["url"].replace(source.host, host)
    (tmp_path / "zz-sibling.json").write_text(json.dumps(texts), encoding="utf-8")
    monkeypatch.setattr(build_module, "TEXTS_DIR", tmp_path)
    spec = load_spec(of)
    spec["articles"] = {url.replace(source.host, host): entry for url, entry in spec["articles"].items()}
    return sibling, spec


def test_a_sibling_host_uses_another_sources_templates_without_copying_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`templates_from = "<id>"` in a site spec: the WordPress builder had no way to name another
    source's theme (`templates` is the html builder's), and a one-line `extends` of it broke on its
    own `extends "wordpress/base.html"` (looked up in the new source's folder, then the generic one,
    which has no base.html): a second host of a known theme meant copying the theme."""
    sibling, spec = _sibling(tmp_path, monkeypatch, "rops-poznan", "zz-sibling.example.pl")
    spec["templates_from"] = "rops-poznan"
    out = tmp_path / "snapshot"
    build_wordpress(sibling, spec, out)
    page = (out / "nagradzamy-dobre-praktyki-kadry-socjalnej" / "index.html").read_text(encoding="utf-8")
    original = SNAPSHOT_DIR / "rops.poznan.pl" / "nagradzamy-dobre-praktyki-kadry-socjalnej" / "index.html"
    assert "Kontakt dla osób niesłyszących" in page, "rops-poznan's theme, its accessibility bar included"

    def same(html: str) -> str:  # the post ids are made from the URLs (build.Page.id)
        return re.sub(r"\b\d{5}\b", "ID", html.replace("zz-sibling.example.pl", "rops.poznan.pl"))

    assert same(page) == same(original.read_text(encoding="utf-8")), "the same page, on its own host"


def test_a_site_spec_with_an_unknown_key_or_a_date_for_no_page_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelt key (`page_ulr`) was ignored without a word, and so was an `[articles."<url>"]`
    entry whose URL no served text has (a typo, a text moved to another source or skipped): the
    date it holds was silently not the page's."""
    source = get_source("rops-poznan")
    spec = load_spec(source.id)
    spec["articles"]["https://rops.poznan.pl/no-such-post/"] = {"published": "2020-01-01T12:00:00"}
    with pytest.raises(SystemExit, match=r'rops-poznan: \[articles."https://rops.poznan.pl/no-such-post/"\]'):
        load_pages(source, spec)
    monkeypatch.setattr(build_module, "SITES_DIR", tmp_path)
    (tmp_path / "zz.toml").write_text('builder = "html"\npage_ulr = "{listing}?page={n}"\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"sites/zz.toml: unknown key 'page_ulr'"):
        load_spec("zz")
    (tmp_path / "zz.toml").write_text('builder = "wordpres"\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"sites/zz.toml: builder must be one of wordpress, html, not 'wordpres'"):
        load_spec("zz")

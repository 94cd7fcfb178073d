"""Fixtures shared by the spider tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scrapers.mirror.server import SNAPSHOT_DIR, BackgroundMirror


@pytest.fixture
def layered(tmp_path: Path) -> Callable[..., BackgroundMirror]:
    """A mirror with overlay variants applied over the bundled copy."""

    def make(*variants: Callable[[Path], object]) -> BackgroundMirror:
        root = tmp_path / f"overlay-{len(list(tmp_path.glob('overlay-*')))}"
        root.mkdir()
        for variant in variants:
            variant(root)
        return BackgroundMirror([root, SNAPSHOT_DIR])

    return make

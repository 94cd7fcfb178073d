"""Schema upgrades: a database at the newest revision is only asked for it (db/migrate.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from db import migrate
from db.migrate import current_revision, files_head, head_revision, upgrade
from tests.conftest import REPO


def test_the_files_name_the_head_alembic_finds() -> None:
    assert files_head() == head_revision() is not None


def test_files_that_do_not_say_one_head_plainly_leave_it_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, revision, down in (("a", "0001", "None"), ("b", "0002", '"0001"'), ("c", "0003", '"0001"')):
        (versions / f"{name}.py").write_text(f'revision: str = "{revision}"\ndown_revision: str | None = {down}\n')
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    files_head.cache_clear()
    try:
        assert files_head() is None, "two heads (a branch)"
        (versions / "c.py").write_text('revision = "0003"\ndown_revision = "0002"\n')
        files_head.cache_clear()
        assert files_head() == "0003"
        (versions / "d.py").write_text("revision = make_one()\n")
        files_head.cache_clear()
        assert files_head() is None, "a revision that is not a plain string"
    finally:
        monkeypatch.undo()
        files_head.cache_clear()


def test_a_current_database_is_not_upgraded_and_alembic_stays_unimported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'current.db'}"
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert current_revision(fresh) is None
    upgrade(url)
    code = (
        "import sys\n"
        "from db.migrate import ensure_schema, current_revision\n"
        f"ensure_schema({url!r})\n"
        "print('alembic' in sys.modules, 'sqlalchemy.dialects.postgresql' in sys.modules)\n"
        f"ensure_schema({fresh!r})\n"
        f"print('alembic' in sys.modules, current_revision({fresh!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "True", head_revision()]

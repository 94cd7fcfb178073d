"""Building the project egg Scrapyd runs, as `scrapyd-deploy` does: `setup.py bdist_egg` with the
`scrapy` entry point naming the settings module — here over a clean copy of the packages, so the
checkout gets no setup.py, build/ or egg-info litter."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from configparser import ConfigParser
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aggregator", "db", "scrapers")
LEFT_OUT = ("__pycache__", "*.pyc", "snapshot", "templates", "texts")  # the offline mirror's data: not for spiders
ENTRY_MODULE = "ropsfeed_egg"
SETUP = """
from setuptools import find_namespace_packages, setup

setup(
    name={project!r},
    version={version!r},
    packages=find_namespace_packages(include=["aggregator*", "db*", "scrapers*"]),  # migrations have no __init__
    py_modules=[{entry!r}],
    package_data={{"": ["*.toml", "*.json", "*.ini", "*.mako", "*.j2", "*.html", "*.txt", "*.xml"]}},
    include_package_data=True,
    zip_safe=False,
    entry_points={{"scrapy": ["settings = {entry}"]}},
)
"""


class EggBuildError(RuntimeError):
    pass


def project_name(default: str = "ropsfeed") -> str:
    """The `[deploy] project` of scrapy.cfg (the name Scrapyd files the eggs and jobs under)."""
    config = ConfigParser()
    config.read(ROOT / "scrapy.cfg")
    return config.get("deploy", "project", fallback=default)


def default_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def build_egg(version: str, project: str | None = None) -> bytes:
    """The egg of the code in this checkout (or installation), as bytes ready for addversion.json."""
    with tempfile.TemporaryDirectory(prefix="ropsfeed-egg-") as folder:
        work = Path(folder) / "src"
        for package in PACKAGES:
            shutil.copytree(ROOT / package, work / package, ignore=shutil.ignore_patterns(*LEFT_OUT))
        shutil.copy(Path(__file__).with_name("egg_entry.py"), work / f"{ENTRY_MODULE}.py")
        (work / "setup.py").write_text(
            SETUP.format(project=project or project_name(), version=version, entry=ENTRY_MODULE), encoding="utf-8"
        )
        dist = Path(folder) / "dist"
        result = subprocess.run(
            [sys.executable, "setup.py", "--quiet", "bdist_egg", "--dist-dir", str(dist)],
            cwd=work, capture_output=True, text=True, check=False,
        )  # fmt: skip
        eggs = sorted(dist.glob("*.egg"))
        if result.returncode != 0 or not eggs:
            raise EggBuildError(f"building the egg failed:\n{result.stderr.strip()[-2000:]}")
        return eggs[0].read_bytes()

"""Every `ropsfeed` start imports `aggregator.cli`; the libraries only some commands need must not
come with it (each command imports its own when it runs), or `ropsfeed feed`, `status` and
`--help` pay for Scrapy, numpy and the rest: 0.85 s instead of 0.36 s to import it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

HEAVY = (
    "scrapy", "twisted", "numpy", "bs4", "soupsieve", "nh3", "lxml", "morfeusz2", "_morfeusz2", "dateparser",
    "email_validator", "feedgen", "jinja2", "alembic", "requests", "aggregator.reparse", "aggregator.crawl",
    "aggregator.stories", "aggregator.dedup", "aggregator.entities", "aggregator.dates",
)  # fmt: skip


def test_importing_the_command_line_leaves_the_heavy_modules_out() -> None:
    # A fresh interpreter: the test process has imported most of these already.
    script = "import aggregator.cli, sys; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60,
                            check=True)  # fmt: skip
    loaded = set(result.stdout.split())
    heavy = sorted(m for m in loaded if m in HEAVY or m.startswith(tuple(f"{name}." for name in HEAVY)))
    assert not heavy, f"imported by `import aggregator.cli`: {', '.join(heavy)}"

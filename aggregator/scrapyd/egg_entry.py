"""The Scrapy settings entry point inside the ropsfeed egg (copied into the egg as `ropsfeed_egg`).

Scrapyd imports a project from its zipped egg, but ropsfeed reads files next to its modules (the
source registry, the gazetteer, the Alembic migrations), which a zip cannot offer as paths. So
this module, imported first by Scrapyd's runner, unpacks the egg once per egg content into a cache
folder and puts that folder first on `sys.path`: the spiders then run the deployed version of the
code, with its files, whatever else is installed on the machine.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGES = ("aggregator", "db", "scrapers")


def unpack() -> Path | None:
    egg = Path(__file__).resolve().parent
    if not zipfile.is_zipfile(egg):
        return None  # already a folder (an unpacked egg, a checkout)
    digest = hashlib.sha256(egg.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("ROPSFEED_EGG_CACHE") or Path(tempfile.gettempdir()) / "ropsfeed-eggs")
    target = cache / digest
    if not (target / "EGG-INFO").is_dir():
        partial = cache / f"{digest}.{os.getpid()}.partial"
        with zipfile.ZipFile(egg) as archive:
            archive.extractall(partial)
        try:
            partial.rename(target)
        except OSError:  # another job unpacked the same egg meanwhile
            shutil.rmtree(partial, ignore_errors=True)
    sys.path.insert(0, str(target))
    for name in [m for m in sys.modules if m.split(".")[0] in PACKAGES]:
        del sys.modules[name]
    return target


unpack()

from scrapers.settings import *  # noqa: E402, F403

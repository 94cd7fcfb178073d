"""A spider's layout alarms: the list crawl_runs.alarms is written from, which also logs each one.

Alarms are raised in many places (listings, the REST API, feeds, the storage pipeline's tombstone
guard) by appending to `spider.alarms`. Logging them where the list grows, instead of at each of
those places, means no alarm can be recorded without a WARNING record that names its source
(`source` and `event` in a JSON log line, aggregator/logs.py), and the call sites stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger("scrapers.spiders")


class Alarms(list[str]):
    """The alarms of one crawl of `source_id`; each one appended is logged at WARNING."""

    def __init__(self, source_id: str) -> None:
        super().__init__()
        self.source_id = source_id

    def append(self, alarm: str) -> None:
        super().append(alarm)
        log.warning("%s: %s", self.source_id, alarm, extra={"source": self.source_id, "event": "alarm"})

    def extend(self, alarms: Iterable[str]) -> None:
        for alarm in alarms:
            self.append(alarm)

    def add_logged(self, alarm: str) -> None:
        """An alarm that is an error of the run too, logged as that (one line, not two)."""
        super().append(alarm)

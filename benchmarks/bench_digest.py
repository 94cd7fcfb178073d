"""Speed of `digest send`: digests built, rendered and sent per second to N subscribers with varied
filters through a local SMTP server, and the peak memory of the sending process.

The SMTP server is aiosmtpd (a Sink handler that accepts and drops every message) in its own
process, so its work does not share this process's interpreter. The database is a fresh SQLite
file (or `--db URL`) with S synthetic stories first seen in the last day across every
voivodeship, with attachments and dates, and subscribers whose filters mix voivodeships, sources,
keywords and institutions like real ones: a quarter want everything.

Run: ``.venv/bin/python benchmarks/bench_digest.py [--subscribers 10000] [--stories 400]``
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.mail.send import send_digests  # noqa: E402
from aggregator.mail.settings import MailSettings, SmtpSettings, parse_sender  # noqa: E402
from db.engine import session_scope  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Announcement, Attachment, Delivery, Entity, EventDate, Mention, Story, Subscriber  # noqa: E402
from db.store import fold_for_search, sync_sources  # noqa: E402
from scrapers.registry import load_sources  # noqa: E402

_VOCABULARY = (
    "nabór wniosków konkurs ofert szkolenie seniorzy spółdzielnia socjalna ekonomia społeczna rodzina zastępcza "
    "asystent rodziny wolontariat dotacje organizacje pozarządowe przemoc uzależnienia niepełnosprawność integracja "
    "aktywizacja zawodowa centrum integracji społecznej"
)
WORDS = tuple(_VOCABULARY.split())
KEYWORDS = ("seniorzy", "spółdzielnia socjalna", "dotacje", "szkolenie", "rodzina zastępcza", "wolontariat",
            "przemoc", "ekonomia społeczna")  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
                               "-c", "aiosmtpd.handlers.Sink"])  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("aiosmtpd did not start")


def fill(url: str, stories: int, subscribers: int, now: datetime, rng: random.Random) -> None:
    upgrade(url)
    sources = [s for s in load_sources() if s.enabled]
    with session_scope(url, write=True) as session:
        sync_sources(session, sources)
        entity_ids = []
        for n in range(20):
            entity = Entity(key=f"bench-{n}", canonical=f"Fundacja Testowa {n}", acronym=f"FT{n}", kind="foundation",
                            in_gazetteer=True)  # fmt: skip
            session.add(entity)
            session.flush()
            entity_ids.append(entity.id)
        for n in range(stories):
            source = sources[n % len(sources)]
            title = " ".join(rng.choices(WORDS, k=8)).capitalize()
            body = " ".join(rng.choices(WORDS, k=120))
            key = hashlib.sha1(f"{n}".encode()).hexdigest()[:16]
            seen = now - timedelta(minutes=rng.randrange(1, 7 * 24 * 60))  # a week of news
            url_ = f"https://{source.id}.example.pl/{n}"
            row = Announcement(source_id=source.id, url=url_, title=title, lead=body[:400], body_text=body,
                               body_html=f"<p>{body}</p>", content_hash=key, search_text=fold_for_search(title, body),
                               published_at=seen - timedelta(hours=1), first_seen_at=seen, last_seen_at=seen,
                               updated_at=seen, story_key=key)  # fmt: skip
            session.add(row)
            session.flush()
            session.add(Story(key=key, representative_id=row.id, title=title, size=1))
            for a in range(n % 4):
                session.add(Attachment(announcement_id=row.id, name=f"Plik {a}", url=f"{url_}/{a}.pdf"))
            for d in range(n % 3):
                session.add(EventDate(announcement_id=row.id, field="body", match="…", context="…", char_start=d,
                                      start_date=date(2027, 1, 10 + d), end_date=None, granularity="day",
                                      kind="until" if d == 0 else "point"))  # fmt: skip
            if n % 5 == 0:
                session.add(Mention(announcement_id=row.id, entity_id=rng.choice(entity_ids), field="body",
                                    surface="Fundacja", char_start=0, char_end=8))  # fmt: skip
    voivodeships = sorted({s.voivodeship for s in sources})
    rows = []
    for n in range(subscribers):
        kind = n % 8
        filters: dict[str, list[str]] = {"voivodeships": [], "sources": [], "entities": [], "keywords": []}
        if kind in (2, 3, 4):
            filters["voivodeships"] = rng.sample(voivodeships, rng.randint(1, 3))
        elif kind == 5:
            filters["sources"] = [s.id for s in rng.sample(sources, rng.randint(1, 2))]
        elif kind == 6:
            filters["keywords"] = rng.sample(KEYWORDS, rng.randint(1, 2))
        elif kind == 7:
            filters["entities"] = [f"FT{rng.randrange(20)}"]
            filters["voivodeships"] = rng.sample(voivodeships, 1) if n % 16 == 7 else []
        weekly = n % 3 == 0
        rows.append({"email": f"subscriber{n}@example.org", "frequency": "weekly" if weekly else "daily",
                     "weekday": now.weekday() if weekly else None, "created_at": now - timedelta(days=30),
                     "confirmed_at": now - timedelta(days=30), "bounce_count": 0, **filters})  # fmt: skip
    with session_scope(url, write=True) as session:
        session.execute(insert(Subscriber), rows)


PHASES = {"lease": ("aggregator.mail.send", "_take_lease"), "build": ("aggregator.mail.send", "DigestBuilder.build"),
          "render": ("aggregator.mail.send", "render_digest"), "compose": ("aggregator.mail.send", "compose"),
          "smtp": ("aggregator.mail.send", "SmtpSender.send"),
          "record": ("aggregator.mail.send", "_record_delivery")}  # fmt: skip


def timed_phases() -> dict[str, float]:
    """Wall time spent in each step of a send, by wrapping the functions the send loop calls."""
    import functools
    import importlib

    spent = dict.fromkeys(PHASES, 0.0)
    for phase, (module_name, attribute) in PHASES.items():
        owner: object = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, name)

        def wrapper(*args: object, __original: object = original, __phase: str = phase, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)  # type: ignore[operator]
            finally:
                spent[__phase] += time.perf_counter() - started

        setattr(owner, name, functools.wraps(original)(wrapper))
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--stories", type=int, default=400)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    rng = random.Random(8)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        started = time.perf_counter()
        fill(url, args.stories, args.subscribers, now, rng)
        print(f"database: {url.split('///')[0]}… with {args.stories} stories and {args.subscribers} subscribers "
              f"(filled in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        port = free_port()
        server = start_smtp(port)
        settings = MailSettings(sender=parse_sender("ropsfeed <digest@ropsfeed.example.org>"),
                                base_url="https://ropsfeed.example.org/", secret_key="bench",
                                smtp=SmtpSettings.from_url(f"smtp://127.0.0.1:{port}"))  # fmt: skip
        spent = timed_phases()
        try:
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            cpu = time.process_time()
            started = time.perf_counter()
            report = send_digests(url, settings, now=now, echo=lambda _: None)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        finally:
            server.terminate()
            server.wait(10)
        with session_scope(url) as session:
            delivered = session.scalar(select(func.count()).select_from(Delivery)) or 0
        print(report.summary())
        per_message = elapsed / max(1, report.sent) * 1000
        print(f"messages sent: {report.sent} in {elapsed:.1f} s -> {report.sent / elapsed:.0f} messages/s "
              f"({per_message:.2f} ms per message; this process's CPU {cpu:.1f} s)")  # fmt: skip
        print(f"stories per digest: {report.stories / max(1, report.sent):.1f} on average; delivery rows: {delivered}")
        share = ", ".join(f"{phase} {seconds / max(1, report.sent) * 1000:.1f}" for phase, seconds in spent.items())
        print(f"per message, ms of wall time: {share}")
        print(f"peak RSS: {rss_after / 1024:.0f} MiB (before the send: {rss_before / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()

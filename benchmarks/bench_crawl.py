"""Crawl throughput: the full ropsfeed pipeline vs a bare Scrapy spider over the same pages.

Generates a local mirror of two WordPress sites built from the real texts — one read through its
REST API (100 posts per page), one with the API and feed disabled so it is crawled through HTML
listings and article pages — serves it from a separate process on 127.0.0.1, and crawls it twice
in one run: `ropsfeed crawl` into SQLite (extraction, sanitising, dates, institutions, raw archive,
upserts), and a bare Scrapy spider that fetches the same pages and only yields their URLs, once
with Scrapy's defaults beyond concurrency and politeness (the issue's "bare Scrapy spider", the
baseline of its target: at least half its speed) and once with Scrapy set up as ropsfeed sets it
up (`engine_settings`: the cost of ropsfeed's own work per page, a diagnosis with no target),
each ratio reported.
Politeness delays are off for all. Prints pages per second, the ratio, peak memory and the CPU
seconds each used (ours with its worker processes, and how they split between the crawl process
and its workers), and the mirror server's CPU during each: the ratio is bounded by the cores there
are to spend that CPU on, and the server takes its share of them.

A machine's speed drifts (by a fifth within minutes on shared hosts), so the crawls are run
`--rounds` times, one after the other, ropsfeed after the bare spiders in even rounds and before
them in odd ones, and the median round's ratio is the result.

    .venv/bin/python benchmarks/bench_crawl.py [--articles 5000] [--rounds 5] [--baseline engine|defaults|both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scrapers.mirror.build import (  # noqa: E402
    WARSAW,
    Page,
    SnapshotWriter,
    api_post,
    chunks,
    environment,
)
from scrapers.registry import SourceConfig  # noqa: E402
from scrapers.wp_rest import api_query  # noqa: E402

API_HOST, HTML_HOST = "bench-api.ropsfeed.test", "bench-html.ropsfeed.test"
REGISTRY = f"""
[[source]]
id = "bench-api"
institution = "Mazowieckie Centrum Polityki Społecznej"
voivodeship = "mazowieckie"
platform = "wordpress"
base_url = "https://{API_HOST}/"
api_url = "/wp-json/wp/v2/posts"
feed_url = "/feed/"
listing_urls = ["/aktualnosci/"]
per_page = 100
note = "benchmark"

[[source]]
id = "bench-html"
institution = "Regionalny Ośrodek Polityki Społecznej w Rzeszowie"
voivodeship = "podkarpackie"
platform = "wordpress"
base_url = "https://{HTML_HOST}/"
api_url = "/wp-json/wp/v2/posts"
feed_url = "/feed/"
listing_urls = ["/aktualnosci/"]
per_page = 50
note = "benchmark"
"""

BARE_SPIDER = textwrap.dedent("""
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    MIRROR, HTML_HOST, API_URLS = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])  # bench_crawl.api_urls()
    ENGINE = json.loads(sys.argv[4])  # bench_crawl.engine_settings()

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for url in API_URLS:
                yield scrapy.Request(url, callback=self.api)
            yield scrapy.Request(f"{MIRROR}/{HTML_HOST}/aktualnosci/", callback=self.listing)

        def api(self, response):
            for post in json.loads(response.body):
                yield {"url": post["link"]}

        def listing(self, response):
            for href in response.css("h2.entry-title a::attr(href)").getall():
                yield response.follow(href.replace("https://", MIRROR + "/"), callback=self.article)
            nxt = response.css("a.next::attr(href)").get()
            if nxt:
                yield response.follow(nxt.replace("https://", MIRROR + "/"), callback=self.listing)

        def article(self, response):
            yield {"url": response.url}

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "ROBOTSTXT_OBEY": False, "ITEM_PIPELINES": {}, **ENGINE})
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    print(json.dumps({"pages": crawler.stats.get_value("response_received_count", 0)}))
""")


def real_texts() -> list[dict]:
    texts = []
    for path in sorted((ROOT / "scrapers/mirror/texts").glob("*.json")):
        texts += [a for a in json.loads(path.read_text(encoding="utf-8"))["articles"] if len(a["paragraphs"]) >= 2]
    return texts


def generate(root: Path, articles: int) -> tuple[int, int]:
    """Writes both sites; returns (API pages, HTML pages) a complete crawl fetches."""
    texts = real_texts()
    start = datetime(2024, 1, 1, 9, 0, tzinfo=WARSAW)
    api_source = SourceConfig(id="bench-api", institution="MCPS", voivodeship="mazowieckie", platform="wordpress",
                              base_url=f"https://{API_HOST}/", per_page=100)  # fmt: skip
    html_source = SourceConfig(id="bench-html", institution="ROPS", voivodeship="podkarpackie", platform="wordpress",
                               base_url=f"https://{HTML_HOST}/", per_page=50)  # fmt: skip
    env = environment("bench")
    counts = []
    for source, share in ((api_source, articles // 2), (html_source, articles - articles // 2)):
        pages = []
        for i in range(share):
            text = texts[i % len(texts)]
            url = f"{source.base_url}{i // 100:03d}/wpis-{i}-{source.id}/"
            pages.append(Page(id=10000 + i, url=url, title=f"{text['title']} ({i})", paragraphs=text["paragraphs"],
                              attachments=text.get("attachments") or [], categories=["Aktualności"],
                              published=start - timedelta(hours=i), attachment_path="wp-content/uploads/{slug}.pdf",
                              base=source.base_url))  # fmt: skip
        writer = SnapshotWriter(root / source.host)
        writer.write("robots.txt", "User-agent: *\nDisallow: /wp-admin/\n")
        site = {"institution": source.institution, "base": source.base_url}
        if source is api_source:
            api_pages = chunks(pages, 100)
            for number, chunk in enumerate(api_pages, start=1):
                rel = f"wp-json/posts-{number}.json"
                writer.write(rel, json.dumps([api_post(p, source) for p in chunk], ensure_ascii=False))
                writer.route(path="/wp-json/wp/v2/posts", query=api_query(100, number),
                             file=rel, content_type="application/json; charset=UTF-8",
                             headers={"X-WP-TotalPages": str(len(api_pages))})  # fmt: skip
            counts.append(len(api_pages))
        else:
            writer.route(path="/wp-json/wp/v2/posts", status=401, body='{"code":"rest_cannot_access"}')
            writer.route(path="/feed/", status=404, body="nie ma")
            listing_pages = chunks(pages, 50)
            for number, chunk in enumerate(listing_pages, start=1):
                path = "/aktualnosci/" if number == 1 else f"/aktualnosci/page/{number}/"
                next_url = f"{source.base_url}aktualnosci/page/{number + 1}/" if number < len(listing_pages) else None
                writer.page(path, "", env.get_template("wordpress/listing.html").render(
                    site=site, articles=chunk, page=number, next_url=next_url, prev_url=None))  # fmt: skip
            for page in pages:
                writer.page(page.path, "", env.get_template("wordpress/article.html").render(
                    site=site, a=page, json_ld=page.json_ld(source)))  # fmt: skip
            counts.append(len(listing_pages) + len(pages))
        writer.finish()
    return counts[0], counts[1]


def api_urls(mirror: str, api_pages: int) -> list[str]:
    """The REST API listing pages of the API site, requested as ropsfeed's spider requests them."""
    return [f"{mirror}/{API_HOST}/wp-json/wp/v2/posts?{api_query(100, page)}" for page in range(1, api_pages + 1)]


def engine_settings(scrapy_defaults: bool = False) -> dict[str, Any]:
    """How ropsfeed's crawl of a mirror sets up Scrapy's engine, for the bare spider to run the same
    (with `scrapy_defaults`: only its concurrency and politeness, Scrapy's defaults otherwise: the
    issue's "bare Scrapy spider … politeness delays off", the baseline of its target).

    Concurrency, politeness off (as for any mirror: aggregator.crawl.crawl_overrides), items handed
    over `CONCURRENT_ITEMS` at a time, cookies and the same middlewares off, the two consoles and the
    cookies' middleware not even imported (`EXTENSIONS_BASE`, `DOWNLOADER_MIDDLEWARES_BASE`). These
    are settings of Scrapy, not work of the pipeline: with Scrapy's default `CONCURRENT_ITEMS` of
    100 (an asyncio task per possible item of every response) bare Scrapy took 1.5–1.9× as long for
    these pages, a cost ropsfeed does not pay, which would count in ropsfeed's favour. Left as they
    are: the bare spider fetches no robots.txt (ropsfeed obeys it: one page more per site), has no
    pipeline and keeps Scrapy's own classes where ropsfeed plugs in its own (statistics, download
    handler).
    """
    from scrapy.settings import Settings

    from aggregator.crawl import crawl_overrides

    settings = Settings()
    settings.setmodule("scrapers.settings", priority="project")
    settings.setdict(crawl_overrides("sqlite://", "http://127.0.0.1", False, "bench", "ERROR"), priority="cmdline")
    names = ["CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "AUTOTHROTTLE_ENABLED",
             "TELNETCONSOLE_ENABLED", "REMOTE_CONTROL_ENABLED"]  # fmt: skip
    if scrapy_defaults:
        return {name: settings[name] for name in names}
    engine: dict[str, Any] = {name: settings[name] for name in (*names, "CONCURRENT_ITEMS", "COOKIES_ENABLED")}
    for name in ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES"):  # the ones switched off
        engine[name] = {path: None for path, order in settings.getdict(name).items() if order is None}
    engine["EXTENSIONS_BASE"] = settings.getdict("EXTENSIONS_BASE")  # without the two consoles' imports
    engine["DOWNLOADER_MIDDLEWARES_BASE"] = settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")  # nor the cookies'
    return engine


def own_cpu(pid: int) -> float | None:
    """CPU seconds a running process has used itself, its children not included (Linux's /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str, float | None]:
    """Wall time, CPU seconds and peak RSS (MiB) of a child process, its worker processes included
    (``wait4``'s account of the child), its stdout, and the CPU seconds of the child process alone
    (read from /proc every 50 ms until it ends; None where there is no /proc): which of the crawl
    process and its workers the CPU went to."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True, cwd=ROOT)
        alone = None
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            alone = own_cpu(process.pid) or alone
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode not in (0, 1):
        sys.exit(f"{command[:4]} failed:\n{stdout[-2000:]}\n{stderr[-4000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, stdout, alone


BASELINES = {
    # name: (label, Scrapy's defaults beyond concurrency and politeness)
    "engine": ("bare Scrapy, ropsfeed's engine settings", False),
    "defaults": ("bare Scrapy, Scrapy's defaults", True),
}
TARGETS = {
    "engine": "ropsfeed's own cost per page, a diagnosis: no target",
    "defaults": "the issue's baseline: target ≥ 0.5",
}


@dataclass
class Crawl:
    """One crawl of the mirror: pages fetched, wall and CPU seconds (with its worker processes),
    peak RSS, and the CPU seconds the mirror server used meanwhile (None where there is no /proc:
    it shares the machine's cores with the crawl, which a live site's server does not)."""

    pages: int
    time: float
    cpu: float
    mem: int
    server_cpu: float | None

    @property
    def speed(self) -> float:
        return self.pages / self.time


@dataclass
class Round:
    bare: dict[str, Crawl]  # by baseline (BASELINES)
    ours: Crawl
    stored: int
    ours_own_cpu: float | None  # the crawl process alone, without its workers

    def ratio(self, baseline: str) -> float:
        return self.ours.speed / self.bare[baseline].speed


def used(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def crawl_round(
    tmp: Path,
    number: int,
    mirror: str,
    api_pages: int,
    env: dict[str, str],
    bare_script: Path,
    server: int,
    baselines: list[str],
) -> Round:
    """The bare spider once per baseline and ropsfeed into a new SQLite database, over the same
    mirror (served by the process `server`): the bare spiders first in even rounds, ropsfeed first
    in odd ones. A machine whose speed drifts within a round (by a fifth within minutes, seen here)
    would otherwise always favour the same side of the ratio; alternating, the median round does
    not lean on the drift's direction."""
    bare: dict[str, Crawl] = {}

    def crawl_bare() -> None:
        for baseline in baselines:
            engine = json.dumps(engine_settings(BASELINES[baseline][1]))
            server_start = own_cpu(server)
            time_, cpu, mem, out, _ = run([sys.executable, str(bare_script), mirror, HTML_HOST,
                                           json.dumps(api_urls(mirror, api_pages)), engine], env)  # fmt: skip
            pages = json.loads(out.strip().splitlines()[-1])["pages"]
            bare[baseline] = Crawl(pages, time_, cpu, mem, used(server_start, own_cpu(server)))

    if number % 2 == 0:
        crawl_bare()
    path = tmp / f"bench-{number}.db"
    crawl = [sys.executable, "-m", "aggregator.cli", "crawl", "--mirror", mirror, "--db", f"sqlite:///{path}"]
    server_start = own_cpu(server)
    ours_time, ours_cpu, ours_mem, _, ours_own_cpu = run(crawl, env)
    ours_server = used(server_start, own_cpu(server))
    if number % 2 == 1:
        crawl_bare()
    import sqlite3

    connection = sqlite3.connect(path)
    stored = connection.execute("select count(*) from announcements").fetchone()[0]
    ours_pages = connection.execute("select sum(pages_fetched) from crawl_runs").fetchone()[0]
    connection.close()
    return Round(bare, Crawl(ours_pages, ours_time, ours_cpu, ours_mem, ours_server), stored, ours_own_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="bare/ropsfeed crawls run one after the other (ropsfeed first in every other round); the median ratio "
        "is the result",
    )
    parser.add_argument("--baseline", choices=[*BASELINES, "both"], default="both",
                        help="defaults: Scrapy's defaults beyond concurrency and politeness (the issue's bare Scrapy "
                             "spider, the target's baseline); engine: bare Scrapy set up as ropsfeed sets it up "
                             "(ropsfeed's own cost per page); both (default): each in every round")  # fmt: skip
    parser.add_argument("--scrapy-defaults", action="store_true", help="the same as --baseline defaults")
    args = parser.parse_args()
    baselines = (
        ["defaults"] if args.scrapy_defaults else list(BASELINES) if args.baseline == "both" else [args.baseline]
    )
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "snapshot"
        api_pages, html_pages = generate(root, args.articles)
        registry = Path(tmp) / "sources.toml"
        registry.write_text(REGISTRY, encoding="utf-8")
        server = subprocess.Popen([sys.executable, "-m", "aggregator.cli", "mirror", "serve", "--port", "0",
                                   "--root", str(root)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)  # fmt: skip
        try:
            mirror = (server.stdout.readline() if server.stdout else "").strip()
            env = {**os.environ, "ROPSFEED_SOURCES": str(registry)}
            bare_script = Path(tmp) / "bare.py"
            bare_script.write_text(BARE_SPIDER, encoding="utf-8")
            for number in range(max(1, args.rounds)):
                rounds.append(crawl_round(Path(tmp), number, mirror, api_pages, env, bare_script, server.pid,
                                          baselines))  # fmt: skip
        finally:
            server.terminate()
    report(rounds, baselines, args.articles, api_pages, html_pages)


def report(rounds: list[Round], baselines: list[str], articles: int, api_pages: int, html_pages: int) -> None:
    cores = os.cpu_count() or 1
    width = max(len(BASELINES[b][0]) for b in baselines) + 4
    print(f"mirror: {articles} articles ({api_pages} REST API pages + {html_pages} HTML listing/article pages)")
    ratio_heads = "".join(f"{'ratio/' + b:>16}" for b in baselines)
    print(f"{'':{width}}{'pages':>8}{'seconds':>10}{'pages/s':>10}{'CPU s':>8}{'peak MiB':>10}{ratio_heads}")
    for number, r in enumerate(rounds, start=1):
        rows = [(f"{number}. {BASELINES[b][0]}", r.bare[b], "") for b in baselines]
        ratios = "".join(f"{r.ratio(b):>16.2f}" for b in baselines)
        for name, c, ratio in (*rows, (f"{number}. ropsfeed pipeline", r.ours, ratios)):
            print(f"{name:{width}}{c.pages:>8}{c.time:>10.1f}{c.speed:>10.1f}{c.cpu:>8.1f}{c.mem:>10}{ratio}")
    # where the CPU goes is told against the engine baseline when it ran: the same engine, so the
    # difference is ropsfeed's own work
    against = baselines[0]
    median = sorted(rounds, key=lambda r: r.ratio(against))[(len(rounds) - 1) // 2]  # the lower of an even count
    print(
        f"announcements stored: {median.stored}  (CPU s: the crawl process with its worker processes; cores: {cores})"
    )
    for b in baselines:
        ratios = sorted(r.ratio(b) for r in rounds)
        each = ", ".join(f"{x:.2f}" for x in ratios)
        print(f"ratio against {BASELINES[b][0]} (ropsfeed pages/s ÷ bare pages/s), median of {len(rounds)} round(s): "
              f"{ratios[(len(ratios) - 1) // 2]:.2f}  (rounds {each}; {TARGETS[b]})")  # fmt: skip
    bare = median.bare[against]
    print(f"the rest against {BASELINES[against][0]}, median round of that ratio:")
    if median.ours_own_cpu is not None:
        # however many cores run the workers, the crawl process cannot finish before its own CPU is spent
        bound = (median.ours.pages / median.ours_own_cpu) / bare.speed
        print(
            f"ropsfeed CPU: the crawl process {median.ours_own_cpu:.1f} s (bare Scrapy's whole run: "
            f"{bare.cpu:.1f} s), its workers {median.ours.cpu - median.ours_own_cpu:.1f} s; the crawl process "
            f"alone bounds the ratio at {bound:.2f} on any number of cores"
        )
    per_page = [1000 * c.cpu / c.pages for c in (median.ours, bare)]
    ceiling = (median.ours.pages / (median.ours.cpu / cores)) / bare.speed
    print(
        f"CPU per page: ropsfeed {per_page[0]:.1f} ms, bare {per_page[1]:.1f} ms "
        f"({per_page[0] / per_page[1]:.1f}×); ceiling of the ratio at this CPU on {cores} cores, all busy all the "
        f"time: {ceiling:.2f}"
    )
    if bare.server_cpu is not None and median.ours.server_cpu is not None:
        # Bare Scrapy runs in one process: the server has a core of its own beside it. ropsfeed's
        # processes use every core, so the server's CPU comes out of what they could have had.
        shared = (median.ours.pages / ((median.ours.cpu + median.ours.server_cpu) / cores)) / bare.speed
        print(
            f"the mirror server, on the same cores: {bare.server_cpu:.1f} CPU s during bare Scrapy, "
            f"{median.ours.server_cpu:.1f} during ropsfeed; the ceiling with the server's CPU counted: {shared:.2f}"
        )


if __name__ == "__main__":
    main()

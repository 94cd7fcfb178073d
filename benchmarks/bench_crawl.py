"""Crawl throughput: the full ropsfeed pipeline vs a bare Scrapy spider over the same pages.

Generates a local mirror of two WordPress sites built from the real texts — one read through its
REST API (100 posts per page), one with the API and feed disabled so it is crawled through HTML
listings and article pages — serves it from a separate process on 127.0.0.1, and crawls it twice
in one run: `ropsfeed crawl` into SQLite (extraction, sanitising, dates, institutions, raw archive,
upserts), and a bare Scrapy spider that fetches the same pages and only yields their URLs.
Politeness delays are off for both. Prints pages per second, the ratio, peak memory and the CPU
seconds each used (ours with its worker processes): the ratio is bounded by the cores there are
to spend that CPU on.

    .venv/bin/python benchmarks/bench_crawl.py [--articles 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

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

    MIRROR, API_HOST, HTML_HOST, API_PAGES = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    class Bare(scrapy.Spider):
        name = "bare"

        async def start(self):
            for page in range(1, API_PAGES + 1):
                yield scrapy.Request(f"{MIRROR}/{API_HOST}/wp-json/wp/v2/posts?per_page=100&page={page}"
                                     "&_embed=wp%3Aterm", callback=self.api)
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

    process = CrawlerProcess({"LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
                              "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
                              "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
                              "ITEM_PIPELINES": {}})
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
                writer.route(path="/wp-json/wp/v2/posts", query=f"per_page=100&page={number}&_embed=wp%3Aterm",
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


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall time, CPU seconds (the process and its worker processes), peak RSS (MiB) and stdout
    of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"{command[:4]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, cpu, max(after.ru_maxrss, before.ru_maxrss) // 1024, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000)
    args = parser.parse_args()
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
            bare_time, bare_cpu, bare_mem, out = run([sys.executable, str(bare_script), mirror, API_HOST, HTML_HOST,
                                            str(api_pages)], env)  # fmt: skip
            bare_pages = json.loads(out.strip().splitlines()[-1])["pages"]
            database = f"sqlite:///{tmp}/bench.db"
            crawl = [sys.executable, "-m", "aggregator.cli", "crawl", "--mirror", mirror, "--db", database]
            ours_time, ours_cpu, ours_mem, out = run(crawl, env)
        finally:
            server.terminate()
        import sqlite3

        connection = sqlite3.connect(f"{tmp}/bench.db")
        stored = connection.execute("select count(*) from announcements").fetchone()[0]
        ours_pages = connection.execute("select sum(pages_fetched) from crawl_runs").fetchone()[0]
        connection.close()
    print(f"mirror: {args.articles} articles ({api_pages} REST API pages + {html_pages} HTML listing/article pages)")
    print(f"{'':18}{'pages':>8}{'seconds':>10}{'pages/s':>10}{'CPU s':>8}{'peak MiB':>10}")
    rows = (
        ("bare Scrapy", bare_pages, bare_time, bare_cpu, bare_mem),
        ("ropsfeed pipeline", ours_pages, ours_time, ours_cpu, ours_mem),
    )
    for name, pages, seconds, cpu, mem in rows:
        print(f"{name:18}{pages:>8}{seconds:>10.1f}{pages / seconds:>10.1f}{cpu:>8.1f}{mem:>10}")
    print(
        f"announcements stored: {stored}  (CPU s: the crawl process with its worker processes; cores: {os.cpu_count()})"
    )
    ratio = (ours_pages / ours_time) / (bare_pages / bare_time)
    print(f"ratio (ropsfeed pages/s ÷ bare pages/s): {ratio:.2f}  (target ≥ 0.5)")
    cores = os.cpu_count() or 1
    per_page = [1000 * cpu / pages for pages, cpu in ((ours_pages, ours_cpu), (bare_pages, bare_cpu))]
    ceiling = (ours_pages / (ours_cpu / cores)) / (bare_pages / bare_time)
    print(
        f"CPU per page: ropsfeed {per_page[0]:.1f} ms, bare {per_page[1]:.1f} ms ({per_page[0] / per_page[1]:.1f}×); "
        f"ceiling of the ratio at this CPU on {cores} cores, all busy all the time: {ceiling:.2f}"
    )


if __name__ == "__main__":
    main()

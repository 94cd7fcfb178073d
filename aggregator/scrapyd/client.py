"""A small client of Scrapyd's JSON API (addversion, schedule, listjobs, cancel, daemonstatus).

Scrapyd answers `{"status": "error", "message": …}` for refused calls; those, HTTP errors and
connection failures all become `ScrapydError` with a message that names the server (never its
password: `http://user:pass@host:6800` is accepted and sent as basic auth).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests


class ScrapydError(RuntimeError):
    pass


class Scrapyd:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ScrapydError(f"not a Scrapyd URL: {parts.scheme}://{parts.hostname or ''}")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.session = requests.Session()
        if parts.username:
            self.session.auth = (parts.username, parts.password or "")
        self.timeout = timeout

    def __str__(self) -> str:
        return self.base

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.session.request(method, f"{self.base}/{endpoint}", timeout=self.timeout, **kwargs)
            answer = response.json()
        except requests.RequestException as exc:
            raise ScrapydError(f"Scrapyd {self.base} unreachable ({endpoint}): {type(exc).__name__}") from None
        except ValueError:
            raise ScrapydError(f"Scrapyd {self.base} {endpoint}: HTTP {response.status_code}, not JSON") from None
        if response.status_code >= 400 or answer.get("status") != "ok":
            message = answer.get("message") or f"HTTP {response.status_code}"
            raise ScrapydError(f"Scrapyd {self.base} {endpoint}: {str(message).strip().splitlines()[-1]}")
        return answer

    def daemon_status(self) -> dict[str, Any]:
        return self._call("GET", "daemonstatus.json")

    def add_version(self, project: str, version: str, egg: bytes) -> int:
        """Uploads the egg; returns how many spiders Scrapyd found in it."""
        answer = self._call("POST", "addversion.json", data={"project": project, "version": version},
                            files={"egg": (f"{project}-{version}.egg", egg)})  # fmt: skip
        return int(answer.get("spiders", 0))

    def schedule(self, project: str, spider: str, settings: dict[str, Any]) -> str:
        """Queues one job; returns its id. Settings go as `setting=NAME=VALUE` pairs."""
        data = [("project", project), ("spider", spider)]
        data += [("setting", f"{name}={value}") for name, value in settings.items()]
        return str(self._call("POST", "schedule.json", data=data)["jobid"])

    def list_jobs(self, project: str) -> dict[str, list[dict[str, Any]]]:
        answer = self._call("GET", "listjobs.json", params={"project": project})
        return {state: answer.get(state, []) for state in ("pending", "running", "finished")}

    def cancel(self, project: str, job: str) -> str | None:
        """Cancels one job: a pending one leaves the queue, a running one gets SIGINT (Scrapyd's
        default), which Scrapy takes as a graceful stop. Returns its state before: "pending",
        "running", or None (finished or unknown)."""
        prevstate = self._call("POST", "cancel.json", data={"project": project, "job": job}).get("prevstate")
        return str(prevstate) if prevstate else None

    def log_url(self, project: str, spider: str, job: str) -> str:
        return f"{self.base}/logs/{project}/{spider}/{job}.log"

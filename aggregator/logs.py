"""Logging for every command: readable lines by default, JSON lines with `--log-format json`, and
never a secret.

One handler on the root logger (stderr) serves ropsfeed and Scrapy alike (the crawl runs Scrapy
with `install_root_handler=False`). Its `RedactingFilter` rewrites every record before any
formatter sees it: passwords in URLs (`smtps://user:PASSWORD@host`, database URLs), token-like
query parameters and `Authorization` headers, and the literal values of the secrets ropsfeed is
configured with (the secret key, the SMTP and database passwords), tracebacks included.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

MASK = "***"
SECRET_ENV = ("ROPSFEED_SECRET_KEY",)  # whole values
URL_ENV = ("ROPSFEED_SMTP_URL", "ROPSFEED_DATABASE_URL")  # the password inside
URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?=@)")
SECRET_PARAMETER = re.compile(
    r"(?P<head>(?<![\w-])(?:password|passwd|pwd|secret|secret_key|token|access_token|api_key|apikey|key|signature)"
    r"=)(?P<secret>[^\s&\"',;]+)",
    re.IGNORECASE,
)
AUTHORIZATION = re.compile(
    r"(?P<head>\bauthorization[\"']?\s*[:=]\s*[\"']?(?:bearer |basic |token )?)(?P<secret>[^\s\"',]+)", re.IGNORECASE
)


def configured_secrets() -> list[str]:
    """The literal secret values of this process's configuration, longest first."""
    secrets = [os.environ.get(name, "") for name in SECRET_ENV]
    for name in URL_ENV:
        try:
            password = urlsplit(os.environ.get(name, "")).password
        except ValueError:
            password = None
        if password:
            secrets += [password, unquote(password)]
    return sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    for secret in configured_secrets() if secrets is None else secrets:
        text = text.replace(secret, MASK)
    for pattern in (URL_PASSWORD, AUTHORIZATION, SECRET_PARAMETER):
        text = pattern.sub(lambda m: m.group("head") + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Replaces the message (and any traceback) of each record by its redacted text."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = configured_secrets()
        self._traceback = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._traceback.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class NetworkTracebackFilter(logging.Filter):
    """Drops the traceback of a Scrapy record about a site that could not be reached.

    Scrapy's robots.txt middleware logs such a failure at ERROR with the whole traceback (30 lines
    of Twisted frames for "connection refused"); the message already names the request and the
    error, and the spider reports the failure of the page itself. A site that is down would
    otherwise fill the nightly log with tracebacks that say nothing about ropsfeed's code. Any
    other exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith("scrapy.") and _unreachable(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None
        return True


def _unreachable(exc: BaseException | None) -> bool:
    from scrapy import exceptions  # only when there is such a record: not at every CLI start
    from twisted.internet import error

    network = (exceptions.DownloadConnectionRefusedError, exceptions.CannotResolveHostError,
               exceptions.DownloadTimeoutError, exceptions.DownloadFailedError, exceptions.ResponseDataLossError,
               error.ConnectError, error.TimeoutError, error.ConnectionLost)  # fmt: skip
    return isinstance(exc, network)


# A record's leading word: "mcps: database write …", "mcps skipped: …"
_LEADING_WORD = re.compile(r"([a-z0-9][a-z0-9_-]*)[: ]")


def record_source(record: logging.LogRecord) -> str | None:
    """The source a record is about: given as `extra={"source": …}`, or the spider Scrapy's and
    our spiders' loggers attach (`extra={"spider": …}`; a spider's name is its source id), or the
    registry's source id its message starts with, as every line about one source does ("mcps:
    database write of 3 announcements failed …"): the pipeline's, the crawl recorder's, the lock
    and politeness lines, none of which carried the field in JSON lines."""
    source = getattr(record, "source", None)
    if isinstance(source, str):
        return source
    name = getattr(getattr(record, "spider", None), "name", None)
    if isinstance(name, str):
        return name
    found = _LEADING_WORD.match(record.getMessage())
    return found.group(1) if found and found.group(1) in _source_ids() else None


def _source_ids() -> frozenset[str]:
    """The registry's source ids (none when it cannot be read: a log line must never fail)."""
    try:
        from scrapers.registry import load_sources  # cached: read once per process

        return frozenset(s.id for s in load_sources())
    except Exception:
        return frozenset()


class TextFormatter(logging.Formatter):
    """Readable lines, the source first: `… ERROR scrapy.downloadermiddlewares.retry: mcps: Gave up
    retrying <GET https://mcps.com.pl/robots.txt> …`. Scrapy's records name the request, not the
    source; an operator greps a night's log for a source id."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        source = record_source(record)
        if source and not record.message.startswith((f"{source}:", f"{source} ")):
            record.message = f"{source}: {record.message}"
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message[, exception], and the
    structured data a collector filters on when a record has it: `source` (a source id), `event`
    (`alarm`, `error`, `failed`, `skipped`, `deleted`, `crawled`, `failing`, `alarming`) and
    `crawl` (a crawled source's status and numbers)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if source := record_source(record):
            entry["source"] = source
        for key in ("event", "crawl"):
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


def json_lines() -> bool:
    """Whether this command logs JSON lines: then what it would print for people on stderr goes
    through logging instead, so that the log stays one JSON object per line."""
    return any(
        h.get_name() == "ropsfeed" and isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers
    )


def configure_logging(log_format: str = "text", level: str | None = None) -> logging.Handler:
    """The one stderr handler on the root logger; replaces any earlier one (idempotent)."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("ropsfeed")
    handler.addFilter(NetworkTracebackFilter())  # before the redaction formats the traceback
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT, "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "ropsfeed"]:
        root.removeHandler(old)
    root.addHandler(handler)
    try:
        set_level(level or os.environ.get("ROPSFEED_LOG_LEVEL") or "WARNING")
    except ValueError:
        set_level("WARNING")  # the handler stays usable: the CLI says the refusal through it
        raise
    return handler


_twisted_begun = False


def begin_twisted_logging() -> None:
    """Twisted prints its critical events (an exception in a timed call of the reactor) to stderr
    as plain text until its logging is "begun", which Scrapy never does: it only adds an observer
    that hands Twisted's events to the `twisted` logger. Such an event came twice, once as a line
    that is no JSON object (`--log-format json` promises one per line; seen under load in
    tests/aggregator/test_operations.py). Begun here with no observer of its own, Twisted's events
    reach stderr through Scrapy's observer and our handler only: called as a crawler process (and
    its observer) is made, before any reactor runs (not for every command: Twisted's logger costs
    ~0.1 s to import). Python's warnings stay where they were: Twisted would take them over."""
    global _twisted_begun
    if _twisted_begun:
        return
    import warnings

    from twisted.logger import globalLogBeginner

    showwarning = warnings.showwarning
    globalLogBeginner.beginLoggingTo([], discardBuffer=True, redirectStandardIO=False)
    warnings.showwarning = showwarning
    _twisted_begun = True


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def set_level(level: str) -> None:
    """The level of the root logger and of our handler (Scrapy gives its own loggers DEBUG, so the
    handler, not the root logger, is what keeps `scrapy.*` chatter out). A name logging does not
    know is refused naming the setting (`ROPSFEED_LOG_LEVEL=LOUD` was a traceback on every command)."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"ROPSFEED_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    root = logging.getLogger()
    root.setLevel(name)
    for handler in root.handlers:
        if handler.get_name() == "ropsfeed":
            handler.setLevel(name)

"""Response headers that keep scraped content harmless even if something slipped through, and the
rate limits that keep the subscribe form from being used to mail people.

The pages need no JavaScript, so none may run (script-src 'none'); styles come only from our own
stylesheet; forms post only to us. Images may come from the sites (bodies show their pictures).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' https: http:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS to every HTTP response (pages, feeds, errors, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimit:
    """At most `limit` events per key in any `window` seconds (a sliding window), counted in this
    process's memory: `ropsfeed serve` is one process, and a restart forgetting the counts costs
    an abuser no more than one window. The least recently seen keys are forgotten beyond
    `max_keys`, so a flood of keys cannot grow it without bound."""

    def __init__(self, limit: int, window: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # sync endpoints run in Starlette's thread pool

    def allow(self, key: str) -> bool:
        """Whether one more event for `key` fits, counting it if it does."""
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                events = self._events[key] = deque()
                if len(self._events) > self.max_keys:
                    self._events.popitem(last=False)
            else:
                self._events.move_to_end(key)
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def refund(self, key: str) -> None:
        """Takes back the latest event `allow` counted for `key`: the thing counted did not happen
        (a confirmation the SMTP server did not take was not mailed to anyone)."""
        with self._lock:
            events = self._events.get(key)
            if events:
                events.pop()

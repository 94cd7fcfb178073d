"""The Jinja2 environment of every page: autoescape on, Polish filters, the shared layout.

Other route modules (subscriptions) render through `templates` and extend `base.html`.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.routing import NoMatchFound
from starlette.templating import Jinja2Templates

from aggregator.mail.render import filter_parts
from aggregator.polish import count_noun, date_span, day, file_label, plural
from aggregator.urls import site_of
from aggregator.web.sanitize import demote_headings, linked_in, sanitize_html

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

# The layout's navigation: a link shows once a route of that name exists, so the subscription
# pages appear in the menu as soon as their module is in ROUTE_MODULES (route name "subscribe").
NAV_LINKS = (("index", "Wiadomości"), ("subscribe", "Subskrypcja"))


def route_url(request: Request, name: str, **path_params: object) -> str | None:
    """The path of the route `name`, or None when the app has no such route."""
    try:
        return str(request.url_for(name, **path_params).path)
    except NoMatchFound:
        return None


templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True))
templates.env.filters["polish_date"] = day
templates.env.filters["sanitize"] = sanitize_html
templates.env.filters["demote_headings"] = demote_headings
templates.env.filters["site"] = site_of
templates.env.tests["linked_in"] = linked_in
templates.env.globals["plural"] = plural
templates.env.globals["count_noun"] = count_noun
templates.env.globals["file_label"] = file_label
templates.env.globals["polish_period"] = date_span
templates.env.globals["route_url"] = route_url
templates.env.globals["filter_parts"] = filter_parts  # the confirm page names filters as the mail does
templates.env.globals["nav_links"] = NAV_LINKS

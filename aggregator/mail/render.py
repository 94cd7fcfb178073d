"""Digest and confirmation emails rendered from Jinja2 templates: plain text and HTML.

HTML templates are autoescaped (a scraped title is text, never markup) and their `<style>` block is
inlined into `style` attributes by css-inline, because many mail clients drop `<style>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from aggregator import polish
from aggregator.mail.digest import Digest
from aggregator.mail.tokens import CONFIRM_MAX_AGE

WEEKDAYS_PLURAL = ("poniedziałki", "wtorki", "środy", "czwartki", "piątki", "soboty", "niedziele")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("aggregator.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(day=polish.day, plural=polish.plural)
    return env


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return _inliner().inline(html)


def frequency_label(frequency: str, weekday: int | None) -> str:
    """`codzienny`, `cotygodniowy (w piątki)` — as in „zapisano na codzienny przegląd”."""
    if frequency == "weekly":
        return f"cotygodniowy (w {WEEKDAYS_PLURAL[weekday or 0]})"
    return "codzienny"


def render_digest(digest: Digest, *, unsubscribe_url: str, home_url: str, frequency: str,
                  weekday: int | None) -> Rendered:  # fmt: skip
    context = {
        "digest": digest,
        "count_label": polish.stories_count(digest.total).capitalize(),
        "unsubscribe_url": unsubscribe_url,
        "home_url": home_url,
        "frequency_label": frequency_label(frequency, weekday),
    }
    env = environment()
    text = env.get_template("digest.txt.j2").render(context)
    html = inline_css(env.get_template("digest.html.j2").render(context))
    return Rendered(subject=digest.subject, text=text, html=html)


def render_confirmation(email: str, confirm_url: str, frequency: str, weekday: int | None) -> Rendered:
    context = {
        "email": email,
        "confirm_url": confirm_url,
        "frequency_label": frequency_label(frequency, weekday),
        "valid_days": CONFIRM_MAX_AGE // 86400,
    }
    env = environment()
    return Rendered(
        subject="Potwierdź zapis na przegląd ogłoszeń ropsfeed",
        text=env.get_template("confirm.txt.j2").render(context),
        html=inline_css(env.get_template("confirm.html.j2").render(context)),
    )

"""Digest and confirmation emails rendered from Jinja2 templates: plain text and HTML.

HTML templates are autoescaped (a scraped title is text, never markup) and their `<style>` block is
inlined into `style` attributes by css-inline, because many mail clients drop `<style>`. Plain-text
parts are wrapped at TEXT_WIDTH after rendering (`wrap_text`), whatever a template's line holds.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from aggregator import polish
from aggregator.mail.digest import Digest
from aggregator.mail.tokens import CONFIRM_MAX_AGE
from aggregator.urls import site_of

# RFC 5322 advises lines of at most 78 characters; mail clients show a text part's lines as they are.
TEXT_WIDTH = 76
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
    env.filters["site"] = site_of  # what a link to another site's copy says
    env.filters["nbsp"] = nbsp
    return env


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def inline_css(html: str) -> str:
    return _inliner().inline(html)


_MONTHS = "|".join(polish.MONTHS_GENITIVE)
# Spaces a line is not broken at, as Polish typesetting wants: inside a date ("9 października 2018",
# "2021 r."), and after a one-letter word ("w Rzeszowie", "i", "z"), which must not end a line.
_UNBREAKABLE = (
    re.compile(rf"\b(\d{{1,2}}) (?=(?:{_MONTHS})\b)"),
    re.compile(rf"\b({_MONTHS}) (?=\d{{4}}\b)"),
    re.compile(r"\b(\d{4}) (?=r\.)"),
    re.compile(r"(?<!\S)([aiouwzAIOUWZ]) (?=\S)"),
)
_GLUE = "\x00"  # stands for such a space while textwrap cuts the line (a letter to textwrap)


def _glued(text: str, glue: str) -> str:
    """`text` with its _UNBREAKABLE spaces replaced by `glue`."""
    for pattern in _UNBREAKABLE:
        text = pattern.sub(rf"\1{glue}", text)
    return text


@lru_cache(maxsize=50_000)
def nbsp(text: str) -> str:
    """For the HTML part: the spaces the text part's wrapping keeps (_UNBREAKABLE) as no-break
    spaces, so a narrow mail window does not cut "4 grudnia 2026" or leave "w" at a line's end.
    Memoised: every digest of a run repeats the same stories' titles, leads and dates."""
    return _glued(text, "\u00a0")


@lru_cache(maxsize=20_000)
def _wrapped(line: str, width: int) -> str:
    """One long line as several: its indentation kept, a bullet's (`* `) continuation lines
    indented under its text; a word longer than the width (a link) stays whole on a line of its own,
    hyphenated words ("Warmińsko-Mazurskiego", "2021-2024") are not cut at the hyphen, and no line
    is cut at an _UNBREAKABLE space."""
    body = line.lstrip(" ")
    indent = line[: len(line) - len(body)]
    hanging = indent + ("  " if body.startswith("* ") else "")
    lines = textwrap.wrap(_glued(body, _GLUE), width, initial_indent=indent, subsequent_indent=hanging,
                          break_long_words=False, break_on_hyphens=False)  # fmt: skip
    return "\n".join(lines).replace(_GLUE, " ")


def wrap_text(text: str, width: int = TEXT_WIDTH) -> str:
    """A rendered plain-text part with every line longer than `width` wrapped (`_wrapped`): titles,
    institutions' names and dates come from the sites and may be any length. Cached per line, since
    thousands of digests of a run repeat the same stories' lines."""
    return "\n".join(line if len(line) <= width else _wrapped(line, width) for line in text.split("\n"))


def frequency_label(frequency: str, weekday: int | None) -> str:
    """`codzienny`, `cotygodniowy (w piątki)` — as in „zapisano na codzienny przegląd”."""
    if frequency == "weekly":
        return f"cotygodniowy (w {WEEKDAYS_PLURAL[weekday or 0]})"
    return "codzienny"


# How the confirm page and the confirmation mail name a subscription's filters, in this order: the
# singular for one value ("instytucja: …"), the plural label for more ("źródła: …, …").
FILTER_LABELS = (
    ("voivodeships", "województwo", "województwa"),
    ("sources", "źródło", "źródła"),
    ("entities", "instytucja", "instytucje"),
    ("keywords", "słowo kluczowe", "słowa kluczowe"),
)


def filter_parts(named: Mapping[str, Sequence[str]]) -> list[str]:
    """`["województwo: podlaskie", "słowa kluczowe: seniorzy, spółdzielnia socjalna"]` for the
    filters named as the form showed them (the web's `_named`); kinds with no value are left out."""
    return [
        f"{polish.plural(len(values), one, more, more)}: {', '.join(values)}"
        for kind, one, more in FILTER_LABELS
        if (values := named.get(kind))
    ]


def render_digest(digest: Digest, *, unsubscribe_url: str, home_url: str, frequency: str,
                  weekday: int | None) -> Rendered:  # fmt: skip
    context = {
        "digest": digest,
        "count_label": digest.headline.capitalize(),
        "unsubscribe_url": unsubscribe_url,
        "home_url": home_url,
        "frequency_label": frequency_label(frequency, weekday),
    }
    env = environment()
    text = wrap_text(env.get_template("digest.txt.j2").render(context))
    html = inline_css(env.get_template("digest.html.j2").render(context))
    return Rendered(subject=digest.subject, text=text, html=html)


def render_confirmation(email: str, confirm_url: str, frequency: str, weekday: int | None,
                        filters: Mapping[str, Sequence[str]] | None = None) -> Rendered:  # fmt: skip
    """The double opt-in mail; `filters` named as on the confirm page (`filter_parts`), so the
    visitor sees in the mail what they are about to confirm, not only how often."""
    context = {
        "email": email,
        "confirm_url": confirm_url,
        "frequency_label": frequency_label(frequency, weekday),
        "filters": filter_parts(filters or {}),
        "valid_days": CONFIRM_MAX_AGE // 86400,
    }
    env = environment()
    return Rendered(
        subject="Potwierdź zapis na przegląd ogłoszeń ropsfeed",
        text=wrap_text(env.get_template("confirm.txt.j2").render(context)),
        html=inline_css(env.get_template("confirm.html.j2").render(context)),
    )

"""Notices served with HTTP 200 in place of an announcement, through the article parser: in the
site's own layout (its title and body selectors still match), so only their words tell."""

from __future__ import annotations

import pytest

from scrapers.extraction.article import ArticleParser
from scrapers.extraction.soft_errors import soft_error
from scrapers.registry import Selectors

_SELECTORS = Selectors(title="div.article h1", body="div.article-content")


def _page(title: str, *paragraphs: str) -> str:
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html><body><div class="article"><h1>{title}</h1><div class="article-content">{text}</div>'
            '</div></body></html>')  # fmt: skip


def _problems(title: str, *paragraphs: str) -> list[str]:
    return ArticleParser(_SELECTORS).parse(_page(title, *paragraphs), "https://www.rops.rzeszow.pl/a-1633-x").problems


@pytest.mark.parametrize(
    ("title", "paragraphs"),
    [
        # the template prints the site's name where the title was, the message is in the text
        ("Regionalny Ośrodek Polityki Społecznej w Rzeszowie", ["Nie znaleziono strony o podanym adresie."]),
        ("Regionalny Ośrodek Polityki Społecznej w Rzeszowie",
         ["Przepraszamy, strona o podanym adresie nie istnieje.", "Wróć na stronę główną."]),
        ("Aktualności", ["Ups! Żądana strona nie została znaleziona."]),
        # maintenance notices in the site's layout
        ("Trwa przerwa techniczna", ["Serwis będzie dostępny wkrótce. Przepraszamy za utrudnienia."]),
        ("Prace konserwacyjne", ["Zapraszamy później."]),
        ("Strona w przebudowie!", ["Zapraszamy wkrótce."]),
        # cookie walls: a notice for a title, or the text withheld behind one
        ("Ta strona używa plików cookies", ["Korzystając z serwisu wyrażasz zgodę. Akceptuję"]),
        ("Ponad 1 800 000,00 zł dla organizacji",
         ["Ta strona używa plików cookies w celu świadczenia usług. Akceptuję", "Ustawienia"]),
    ],
)  # fmt: skip
def test_a_notice_in_the_sites_layout_is_no_announcement(title: str, paragraphs: list[str]) -> None:
    problems = _problems(title, *paragraphs)
    assert any("soft 404" in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("title", "paragraphs"),
    [
        ("Przerwa techniczna w systemie SEPI", ["W dniu 12 maja system SEPI będzie niedostępny od 8:00 do 12:00."]),
        ("Nie znaleziono wykonawcy na dostawę paczek świątecznych", ["Postępowanie zostanie powtórzone."]),
        ("Konkurs na logo", ["Zwycięzca nie został wyłoniony. Strona konkursu zostanie zaktualizowana."]),
        ("Polityka senioralna", ["Strona internetowa projektu używa nowego adresu: seniorzy.pl."]),
    ],
)  # fmt: skip
def test_a_short_announcement_about_such_things_is_one(title: str, paragraphs: list[str]) -> None:
    assert _problems(title, *paragraphs) == []


def test_a_long_text_is_an_announcement_whatever_it_says() -> None:
    text = "Nie znaleziono strony o podanym adresie. " + "Treść ogłoszenia o naborze wniosków. " * 12
    assert soft_error("Regionalny Ośrodek Polityki Społecznej w Rzeszowie", text) is None

"""Text of an announcement: its lines and its lead (scrapers.extraction.text)."""

from __future__ import annotations

from scrapers.extraction.text import html_to_text, lead_of

INVITATION = (
    "mamy zaszczyt zaprosić na konferencję regionalną pn. „Deinstytucjonalizacja placówek opieki całkowitej nad "
    "dziećmi i młodzieżą w województwie łódzkim”."
)


def test_the_lead_is_the_first_paragraph_cut_at_a_word() -> None:
    assert lead_of("Pierwszy  akapit\nw dwóch liniach.\n\nDrugi akapit.") == "Pierwszy akapit w dwóch liniach."
    long = "słowo " * 120
    lead = lead_of(long)
    assert lead is not None and lead.endswith("słowo…") and len(lead) <= 501
    assert lead_of(" \n\n ") is None


def test_a_salutation_or_a_list_heading_goes_on_with_what_it_opens() -> None:
    assert lead_of(f"Szanowni Państwo,\n\n{INVITATION}\n\nKonferencja odbędzie się on-line.") == (
        f"Szanowni Państwo, {INVITATION}"
    )
    listed = (
        "Celem FORUM było:\n\npromowanie idei ekonomii społecznej;\n\nprezentacja dobrych praktyk.\n\nFormuła FORUM:"
    )
    assert lead_of(listed) == "Celem FORUM było: promowanie idei ekonomii społecznej; prezentacja dobrych praktyk."


def test_a_long_lead_announcing_what_follows_takes_only_what_fits_whole() -> None:
    first = (
        "Uwagi i wnioski można zgłaszać do dnia 25 września 2020 roku pisemnie lub elektronicznie. " * 4 + "na adres:"
    )
    address = "Regionalny Ośrodek Polityki Społecznej w Katowicach, ul. Modelarska 10, 40-142 Katowice " * 2
    assert lead_of(f"{first}\n\n{address}") == first
    assert lead_of(f"{first}\n\nrops@rops-katowice.pl") == f"{first} rops@rops-katowice.pl"


def test_a_line_break_inside_a_sentence_is_a_space_and_one_between_lines_stays() -> None:
    html = (
        "<p>Ofertę podpisaną przez osoby upoważnione<br>do reprezentowania oferenta należy złożyć najpóźniej do<br>"
        "9 października 2015 r. w dniach 8-9 grudnia 2016 r.<br>spotkanie sieciujące.</p>"
        "<p>Regionalny Ośrodek Polityki Społecznej Województwa Śląskiego<br>ul. Modelarska 10, 40-142 Katowice<br>"
        "e-mail: rops@rops-katowice.pl<br>tel. 32 730 68 02</p>"
        "<p>Do zadań Rady należy:<br>inicjowanie przedsięwzięć,<br>udział w zespołach;<br>opiniowanie projektów.</p>"
        "<p>Zgłoszenia:<br>1) Zespół Szkół w Ełku<br>2) Szkoła Podstawowa w Iławie</p>"
        "<p>Dokumenty:<br>wniosek<br>zaświadczenie<br>oświadczenie</p>"
        "<p>Jan Kowalski<br>dyrektor ROPS<br>www.rops.krakow.pl</p>"
        "<p>Zgłoszenia przyjmuje od poniedziałku do piątku<br>biuro projektu<br>ul. Długa 1</p>"
    )
    assert html_to_text(html).split("\n\n") == [
        "Ofertę podpisaną przez osoby upoważnione do reprezentowania oferenta należy złożyć najpóźniej do "
        "9 października 2015 r. w dniach 8-9 grudnia 2016 r. spotkanie sieciujące.",
        "Regionalny Ośrodek Polityki Społecznej Województwa Śląskiego\nul. Modelarska 10, 40-142 Katowice\n"
        "e-mail: rops@rops-katowice.pl\ntel. 32 730 68 02",
        "Do zadań Rady należy:\ninicjowanie przedsięwzięć,\nudział w zespołach;\nopiniowanie projektów.",
        "Zgłoszenia:\n1) Zespół Szkół w Ełku\n2) Szkoła Podstawowa w Iławie",
        "Dokumenty:\nwniosek\nzaświadczenie\noświadczenie",
        "Jan Kowalski\ndyrektor ROPS\nwww.rops.krakow.pl",
        "Zgłoszenia przyjmuje od poniedziałku do piątku biuro projektu\nul. Długa 1",
    ]


def test_a_long_lead_announcing_a_list_takes_the_items_that_fit_whole() -> None:
    heading = "Członkowie Kapituły Konkursu nominowali pięć szkół z Warmii i Mazur " * 5 + "tj.:"
    items = ["1) Zespół Szkół nr 5 w Ełku;", "2) Szkoła Podstawowa nr 1 w Iławie;", "3) " + "Zespół Szkół " * 20 + ";"]
    assert lead_of(heading + "\n\n" + "\n".join(items)) == f"{heading} {items[0]} {items[1]}"


def test_preformatted_lines_are_never_joined() -> None:
    html = (
        "<p>Harmonogram naboru wniosków do programu został przedstawiony poniżej<br>w tabeli.</p>"
        "<pre>nabór wniosków od organizacji pozarządowych   do 15 marca\n"
        "ocena formalna złożonych wniosków              do 30 marca<br>ogłoszenie wyników  kwiecień</pre>"
    )
    assert html_to_text(html).split("\n\n") == [
        "Harmonogram naboru wniosków do programu został przedstawiony poniżej w tabeli.",
        "nabór wniosków od organizacji pozarządowych do 15 marca\n"
        "ocena formalna złożonych wniosków do 30 marca\nogłoszenie wyników kwiecień",
    ]

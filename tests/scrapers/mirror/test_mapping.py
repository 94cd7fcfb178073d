from __future__ import annotations

import pytest

from scrapers.mirror.mapping import from_mirror, to_mirror

MIRROR = "http://127.0.0.1:8700"


@pytest.mark.parametrize(
    ("real", "mirrored"),
    [
        ("https://mcps.com.pl/aktualnosci/", "http://127.0.0.1:8700/mcps.com.pl/aktualnosci/"),
        ("https://mcps.com.pl", "http://127.0.0.1:8700/mcps.com.pl/"),
        (
            "https://rops.torun.pl/2-uncategorised?start=120",
            "http://127.0.0.1:8700/rops.torun.pl/2-uncategorised?start=120",
        ),
        ("http://es.rops-opole.pl/?p=1269", "http://127.0.0.1:8700/es.rops-opole.pl/?p=1269"),
        ("https://seniorzy.mcps.com.pl/artyku%C5%82/x", "http://127.0.0.1:8700/seniorzy.mcps.com.pl/artyku%C5%82/x"),
    ],
)
def test_to_mirror_and_back(real: str, mirrored: str) -> None:
    assert to_mirror(real, MIRROR) == mirrored
    scheme = real.split(":", 1)[0]
    assert from_mirror(mirrored, MIRROR, scheme=scheme) == (real if real.count("/") > 2 else real + "/")


def test_mirror_with_path_prefix() -> None:
    mirror = "http://127.0.0.1:8700/snap"
    assert to_mirror("https://mcps.com.pl/feed/", mirror) == "http://127.0.0.1:8700/snap/mcps.com.pl/feed/"
    assert from_mirror("/snap/mcps.com.pl/feed/", mirror) == "https://mcps.com.pl/feed/"


def test_real_urls_pass_through() -> None:
    assert from_mirror("https://mcps.com.pl/o-nas/", MIRROR) == "https://mcps.com.pl/o-nas/"
    assert from_mirror("/mcps.com.pl/o-nas/", MIRROR, scheme="http") == "http://mcps.com.pl/o-nas/"

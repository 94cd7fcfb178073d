"""URL identity: which URLs are one page (url_key) and which URL is stored (canonical_url)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from aggregator.urls import UrlIdentity, canonical_url, host_key, url_key
from scrapers.registry import get_source, load_sources

ES = "http://es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres"


@pytest.mark.parametrize(
    "variant",
    [
        ES,
        "https://es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres",  # scheme
        "http://www.es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres",  # www.
        "http://ES.mcps-efs.PL/artyku%C5%82/vii-posiedzenie-mkres/",  # host case, trailing slash
        "http://es.mcps-efs.pl/artykuł/vii-posiedzenie-mkres",  # the same path not percent-encoded
        "http://es.mcps-efs.pl/artyku%c5%82/vii-posiedzenie-mkres",  # lower-case escapes
        "http://es.mcps-efs.pl:80/artyku%C5%82/vii-posiedzenie-mkres#main",  # default port, fragment
        "http://es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres?utm_source=facebook&utm_medium=social&fbclid=X1",
    ],
)
def test_forms_of_one_url_share_its_key(variant: str) -> None:
    assert url_key(variant) == url_key(ES) == "es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres"


@pytest.mark.parametrize(
    "other",
    [
        "http://es.mcps-efs.pl/artyku%C5%82/vi-posiedzenie-mkres",  # another page
        "http://es.mcps-efs.pl/artyku%C5%82/VII-posiedzenie-mkres",  # paths are case-sensitive
        "http://mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres",  # another host
        "http://es.mcps-efs.pl:8080/artyku%C5%82/vii-posiedzenie-mkres",  # another port
        "http://es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres?page=2",  # a real parameter
    ],
)
def test_other_pages_keep_their_own_key(other: str) -> None:
    assert url_key(other) != url_key(ES)


def test_query_order_is_irrelevant_but_values_are_not() -> None:
    assert url_key("https://es.rops-opole.pl/?p=1269&lang=pl") == url_key("https://es.rops-opole.pl/?lang=pl&p=1269")
    assert url_key("https://es.rops-opole.pl/?p=1269") != url_key("https://es.rops-opole.pl/?p=1571")
    assert url_key("https://es.rops-opole.pl/?p=1269") == "es.rops-opole.pl/?p=1269"


def test_www_is_dropped_only_before_a_registrable_name() -> None:
    assert host_key("WWW.Rops.Krakow.pl.") == "rops.krakow.pl"
    assert host_key("www.pl") == "www.pl"
    assert host_key("www2.mcps.com.pl") == "mcps.com.pl"


def test_stored_url_keeps_scheme_www_and_path() -> None:
    assert canonical_url("HTTP://WWW.Rops.Krakow.pl/aktualnosc/x-12.html?utm_source=nl&id=3#top") == (
        "http://www.rops.krakow.pl/aktualnosc/x-12.html?id=3"
    )


def test_alias_hosts_of_the_registry() -> None:
    torun = get_source("rops-torun").identity
    page = "/42-archiwum-2022/1604-konferencja"
    assert torun.key(f"https://rops.torun.pl{page}") == torun.key(f"https://www.ropstorun.home.pl{page}")
    assert torun.key(f"http://www.rops.torun.pl{page}") == torun.key(f"https://ropstorun.home.pl{page}")
    assert torun.same_site("https://rops.torun.pl/", "https://www.ropstorun.home.pl/x")
    assert not torun.same_site("https://rops.torun.pl/", "https://mcps.com.pl/")
    # without the registry's alias, the two names are two sites
    assert url_key(f"https://rops.torun.pl{page}") != url_key(f"https://ropstorun.home.pl{page}")


def test_ignored_parameters_of_the_registry() -> None:
    kielce = get_source("rops-kielce").identity
    item = "http://www.es.umws.pl/aktualnosci/item/418-spotkanie"
    assert (
        kielce.key(item + "?start=8")
        == kielce.key(item)
        == kielce.key("http://es.umws.pl/aktualnosci/item/418-spotkanie")
    )
    assert url_key(item + "?start=8") != url_key(item)


def test_the_stored_address_drops_the_parameters_the_site_ignores_and_keeps_the_rest() -> None:
    kielce = get_source("rops-kielce").identity
    item = "http://www.es.umws.pl/aktualnosci/item/204-wokol-ekonomii-spolecznej-w-sandomierzu"
    assert kielce.address(f"{item}?start=20") == item
    assert kielce.address(f"{item}?start=20&utm_source=fb#galeria") == item
    assert kielce.address(f"{item}?print=1&start=20") == f"{item}?print=1"
    assert kielce.address("https://WWW.es.umws.pl/aktualnosci?start=2") == "https://www.es.umws.pl/aktualnosci"
    assert (
        get_source("mcps").identity.address("https://mcps.com.pl/?p=12&start=3") == "https://mcps.com.pl/?p=12&start=3"
    )


def test_every_alias_is_documented() -> None:
    for source in load_sources():
        for alias in source.aliases:
            assert alias.note, f"{source.id}: alias {alias.host} says where it was seen or why it is inferred"
            assert alias.host != source.host, f"{source.id}: an alias names another host"


def test_wordpress_post_id_is_the_key_of_its_id_url() -> None:
    mcps = get_source("mcps").identity
    assert mcps.home == "https://mcps.com.pl/"
    assert mcps.wordpress_post_key(51466) == url_key("https://mcps.com.pl/?p=51466") == "mcps.com.pl/?p=51466"
    assert mcps.wordpress_post_key("51466") == mcps.key("http://www.mcps.com.pl/?p=51466&utm_campaign=x")
    assert mcps.wordpress_post_key("") is None and mcps.wordpress_post_key("abc") is None
    assert UrlIdentity().wordpress_post_key(1) is None, "no home, no id key"


def test_multisite_posts_are_numbered_per_sub_site() -> None:
    bialystok = get_source("rops-bialystok").identity
    assert bialystok.home == "https://www.rops-bialystok.pl/andrzej3/"
    assert bialystok.wordpress_post_key(6488) == url_key("http://rops-bialystok.pl/andrzej3/?p=6488")
    assert bialystok.under_home("https://rops-bialystok.pl/andrzej3/?p=6488")
    assert bialystok.under_home("https://www.rops-bialystok.pl/andrzej3/2021/05/spotkanie/")
    assert not bialystok.under_home("https://www.rops-bialystok.pl/rops/?p=14470")
    assert not bialystok.under_home("https://www.rops-bialystok.pl/andrzej30/?p=1")


def test_id_urls_name_their_cms_item() -> None:
    mcps, bialystok, es = (get_source(s).identity for s in ("mcps", "rops-bialystok", "mcps-es"))
    assert mcps.external_id_of("https://www.mcps.com.pl/?p=51466&utm_source=fb") == "wp:51466"
    assert mcps.external_id_of("https://mcps.com.pl/aktualnosci/?p=51466") is None, "not the site root"
    assert mcps.external_id_of("https://mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci/") is None
    assert mcps.external_id_of("https://rops-katowice.pl/?p=51466") is None, "another site"
    assert bialystok.external_id_of("http://rops-bialystok.pl/andrzej3/?p=6488") == "wp:6488"
    assert bialystok.external_id_of("https://www.rops-bialystok.pl/rops/?p=6488") is None, "another sub-site"
    assert es.external_id_of("http://www.es.mcps-efs.pl/node/62005") == "node:62005"
    assert es.external_id_of("http://es.mcps-efs.pl/node/62005/edit") is None
    assert mcps.external_id_of("https://mcps.com.pl/node/1") is None, "/node/ID means a node on Drupal sites only"


def test_keys_of_the_urls_a_page_was_met_under() -> None:
    mcps = get_source("mcps").identity
    permalink = "https://mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci/"
    assert mcps.keys(permalink, "http://www.mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci") == (
        "mcps.com.pl/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci",
    )


def test_gallery_pages_of_a_post_are_the_post() -> None:
    lublin = get_source("rops-lublin").identity
    post = "http://rops.lubelskie.pl/2019/05/konkurs-8/"
    assert lublin.key(post + "nggallery/page/2/") == lublin.key(post) == "rops.lubelskie.pl/2019/05/konkurs-8"
    assert lublin.key(post + "nggallery/page/2/x") != lublin.key(post), "only at the end of the path"
    assert url_key(post + "nggallery/page/2/") != url_key(post), "a rule of that source only"


def test_a_bad_suffix_rule_is_refused_with_the_source_named(tmp_path: Path) -> None:
    from scrapers.registry import load_sources

    registry = tmp_path / "sources.toml"
    registry.write_text(
        '[[source]]\nid = "x"\ninstitution = "X"\nvoivodeship = "lubelskie"\nplatform = "html"\n'
        'base_url = "https://x.pl/"\nidentity_strip_suffix = "(unclosed"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="source x: identity_strip_suffix is not a regular expression"):
        load_sources(registry)


def test_the_memoised_key_follows_each_identitys_own_rules() -> None:
    """`UrlIdentity.key` remembers its answers by URL and rules: identities with other rules get
    their own answers for the same URL, equal rules the same, and a pickled identity (sent to a
    worker with a REST API page) keys as the original does."""
    url = "https://www.old.rops-katowice.pl/aktualnosci/?start=10&id=5"
    plain = UrlIdentity()
    aliased = UrlIdentity(hosts={"old.rops-katowice.pl": "rops-katowice.pl"}, ignore_params=("start",))
    assert plain.key(url) == url_key(url) == "old.rops-katowice.pl/aktualnosci?id=5&start=10"
    assert aliased.key(url) == "rops-katowice.pl/aktualnosci?id=5", "asked after the plain identity"
    assert plain.key(url) == "old.rops-katowice.pl/aktualnosci?id=5&start=10", "the aliased answer stays its own"
    twin = UrlIdentity(hosts={"old.rops-katowice.pl": "rops-katowice.pl"}, ignore_params=("start",), home="x")
    assert twin.key(url) == aliased.key(url)
    assert pickle.loads(pickle.dumps(aliased)).key(url) == aliased.key(url)
    assert pickle.loads(pickle.dumps(aliased)) == aliased

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.annotate import annotate
from db.search import search_fields
from scrapers.annotation_pool import Annotator

TEXT = "Regionalny Ośrodek Polityki Społecznej w Białymstoku ogłasza nabór do 31 marca 2024 r."
PUBLISHED = datetime(2024, 3, 1, 9, tzinfo=UTC)
SEEN = datetime(2024, 3, 2, tzinfo=UTC)


def test_worker_process_gives_what_inline_annotation_gives() -> None:
    annotator = Annotator(workers=1)
    annotator.start(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    assert ("rops-bialystok", "u") in annotator.pending
    from_worker = annotator.result(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    assert from_worker == annotate("Nabór", TEXT, PUBLISHED, SEEN)
    assert [m.entity.key for m in from_worker.mentions] == ["rops-bialystok"]
    assert not annotator.pending


def test_without_workers_or_a_started_job_it_annotates_inline() -> None:
    annotator = Annotator(workers=0)
    annotator.start(("s", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    assert not annotator.pending
    assert annotator.result(("s", "u"), "Nabór", TEXT, PUBLISHED, SEEN) == annotate("Nabór", TEXT, PUBLISHED, SEEN)


def test_worker_computes_the_search_columns_inline_storage_would() -> None:
    annotator = Annotator(workers=1)
    annotator.start(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN, lead="Spółdzielnie socjalne")
    from_worker = annotator.search(("rops-bialystok", "u"), "Nabór", "Spółdzielnie socjalne", TEXT)
    assert from_worker == search_fields("Nabór", "Spółdzielnie socjalne", TEXT)
    assert from_worker[0].startswith("nabor spoldzielnie socjalne regionalny osrodek")
    assert "spoldzielnia" in from_worker[1].split(), "lemmas are indexed"
    assert ("rops-bialystok", "u") in annotator.pending, "the annotations are still to be handed over"
    annotator.result(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    assert not annotator.pending
    assert Annotator(workers=0).search(("s", "u"), "Nabór", None, TEXT) == search_fields("Nabór", None, TEXT)

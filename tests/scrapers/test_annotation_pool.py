from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from aggregator.annotate import annotate
from aggregator.dedup import Doc
from aggregator.dedup.ahead import FeaturesAhead
from aggregator.dedup.index import NUM_PERM, SEED, compute_ahead
from db.search import search_fields
from scrapers.annotation_pool import CHUNK, Annotator, prepare

TEXT = "Regionalny Ośrodek Polityki Społecznej w Białymstoku ogłasza nabór do 31 marca 2024 r."
PUBLISHED = datetime(2024, 3, 1, 9, tzinfo=UTC)
SEEN = datetime(2024, 3, 2, tzinfo=UTC)


def test_worker_process_gives_what_inline_annotation_gives() -> None:
    annotator = Annotator(workers=1)
    annotator.start(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    assert ("rops-bialystok", "u") in annotator.queued, "waits for a full chunk, or for its result to be asked"
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


def test_jobs_go_to_the_worker_in_chunks_and_come_back_each_to_its_page() -> None:
    annotator = Annotator(workers=1)
    texts = [
        f"Miejski Ośrodek Pomocy Społecznej ogłasza nabór nr {n} do {n % 28 + 1} kwietnia 2024 r."
        for n in range(CHUNK + 3)
    ]
    for n, text in enumerate(texts):
        annotator.start(("s", str(n)), f"Nabór {n}", text, PUBLISHED, SEEN)
    assert len(annotator.pending) == CHUNK and len(annotator.queued) == 3
    assert len({future for future, _ in annotator.pending.values()}) == 1, "one job for the whole chunk"
    annotator.forget([("s", "0"), ("s", str(CHUNK))])
    for n, text in reversed(list(enumerate(texts))):
        assert annotator.result(("s", str(n)), f"Nabór {n}", text, PUBLISHED, SEEN) == annotate(
            f"Nabór {n}", text, PUBLISHED, SEEN
        )
    assert not annotator.pending and not annotator.queued


def test_worker_computes_the_story_features_and_hands_them_over_with_the_annotations() -> None:
    ahead = FeaturesAhead(NUM_PERM, SEED)
    annotator = Annotator(workers=1, ahead=ahead)
    annotator.start(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    annotator.search(("rops-bialystok", "u"), "Nabór", None, TEXT)
    assert len(ahead) == 0, "handed over with the annotations, when the page is written"
    annotator.result(("rops-bialystok", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    found = ahead.get(Doc(url="https://rops.wrotapodlasia.pl/x", title="Nabór", text=TEXT, published=PUBLISHED))
    assert found is not None
    feats, sig = found
    own_feats, own_sig = compute_ahead("Nabór", TEXT, PUBLISHED)
    assert np.array_equal(sig, own_sig) and np.array_equal(feats.shingles, own_feats.shingles)
    assert feats.dates == own_feats.dates and feats.dates.days, "the date features come computed"


def test_without_a_story_step_to_feed_no_features_are_computed() -> None:
    assert prepare("Nabór", None, TEXT, PUBLISHED, SEEN)[2] is None
    annotator = Annotator(workers=1)
    annotator.start(("s", "u"), "Nabór", TEXT, PUBLISHED, SEEN)
    assert annotator.queued[("s", "u")][-1] is False
    assert annotator.result(("s", "u"), "Nabór", TEXT, PUBLISHED, SEEN) == annotate("Nabór", TEXT, PUBLISHED, SEEN)

"""The incremental story index: which story does a new announcement join?

Why this shape (DESIGN.md §4: cost must grow about linearly, never all-pairs):

* Every announcement gets two MinHash signatures (datasketch's ``MinHash`` values, ``num_perm``
  each, see :mod:`aggregator.dedup.features` for their input): one of the **whole body**, numbers
  left out (finds re-posts and edited copies), and one of its **lead**, the first shingles (finds
  teasers and truncated re-posts, whose whole-text Jaccard with the original is low but whose
  opening is the same). Each goes into its own LSH band tables, those of a datasketch
  ``MinHashLSH`` (:mod:`aggregator.dedup.bands` says why they are built there).
* A new announcement queries both LSH indexes and an exact-fingerprint dictionary. Band buckets
  holding more than :data:`MAX_BUCKET` announcements are skipped: such a bucket is boilerplate
  shared by thousands of posts (a funding formula, a stock opening), and reading it would make
  every query slower as the corpus grows. The *candidates* are ranked by the agreement of their
  signatures with the newcomer's; at most ``max_judged`` of them (and at most two per story) are
  confirmed with :func:`~aggregator.dedup.judge.judge`. So the judge calls per announcement are
  bounded by a constant and the LSH work per announcement does not depend on the size of the
  index: ingesting *n* announcements costs O(n).
* The newcomer joins the story of the best confirmed candidate, unless another member of that
  story *conflicts* with it (different event dates, years or editions) – an undated teaser would
  otherwise chain the 2023 and the 2024 edition of a call into one story. Else it opens a new
  story whose id is its own ``doc_id``. Stories are never split or merged afterwards: the database
  can store the story id right away (incremental maintenance, no recompute per crawl).

Persistence. :func:`signature` gives the stored form of the two signatures (``2 * num_perm``
integers). The index can be rebuilt from stored rows with :meth:`StoryIndex.from_records`
(doc id, doc, story id, signature) without judging anything again, or saved whole with
:meth:`StoryIndex.to_state` / :meth:`StoryIndex.from_state` (zlib-compressed JSON, no pickle, so a
state blob from the database cannot execute code). Comparison features are recomputed lazily for
the old announcements that become candidates, and kept in a bounded LRU cache (about 2.5 kB each).
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import zlib
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future
from contextlib import suppress
from datetime import date, datetime
from functools import partial
from itertools import islice
from typing import Any

import numpy as np

from aggregator.dedup.ahead import FeaturesAhead, story_doc
from aggregator.dedup.bands import BandTables, permutations
from aggregator.dedup.features import Features, date_features_of_content, features, features_and_content
from aggregator.dedup.judge import decide
from aggregator.dedup.model import Doc, Judgement

__all__ = ["StoryIndex", "compute_ahead", "signature"]

NUM_PERM = 64
SEED = 1
BODY_THRESHOLD = 0.3
LEAD_THRESHOLD = 0.6
MAX_JUDGED = 8
PER_STORY_JUDGED = 2
# A band bucket holding more announcements than this is usually boilerplate (a funding formula, a
# stock opening shared by thousands of posts), not a near-duplicate signal: it is skipped at query
# time. Without this cap such buckets grow with the corpus and so would the cost of every query.
MAX_BUCKET = 16
# An over-full bucket whose sampled members all belong to one or two stories is a story re-posted
# many times (a press release on every OWES site), not boilerplate: its sample stays a candidate.
BUCKET_SAMPLE = 8
# Candidates whose signatures agree less than this (whole body and lead alike) are not judged:
# LSH lets some through, and no re-post, teaser or truncation is that far from its original.
MIN_ESTIMATE = 0.2
FEATURE_CACHE = 400_000
# add_many on an executor: documents per job (one pickling round trip), and jobs queued ahead
JOB_SIZE = 32
JOBS_AHEAD = 32
_STATE_FORMAT = "ropsfeed-storyindex"
_STATE_VERSION = 1


_SHIFT16, _SHIFT13 = np.uint32(16), np.uint32(13)
_FMIX_1, _FMIX_2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, the pre-mix datasketch applies to every hashed value."""
    h = h ^ (h >> _SHIFT16)  # a new array: the steps below work in it, in place
    h *= _FMIX_1
    h ^= h >> _SHIFT13
    h *= _FMIX_2
    h ^= h >> _SHIFT16
    return h


def _minhash_values(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """The values ``MinHash(num_perm, seed, hashfunc=int).update_batch(hashes)`` would hold.

    Vectorised here because it runs for every announcement (datasketch calls ``hashfunc`` in a
    Python loop); a test checks that both give the same values.
    """
    if hashes.size == 0:
        return np.full(num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
    a, b = permutations(num_perm, seed)
    mixed = _fmix32(hashes.astype(np.uint32))[:, None]
    return (mixed * a + b).min(axis=0).astype(np.uint32)


def _signature_of(feats: Features, num_perm: int, seed: int) -> np.ndarray:
    """The body values (of the sketch), then the lead values: `_minhash_values` of both, computed
    together (one pass of numpy's steps over both hash sets, each minimum taken over its own part)."""
    sketch, lead = feats.sketch, feats.lead
    if not sketch.size or not lead.size:  # an empty part's values are the fill value, not a minimum
        return np.concatenate([_minhash_values(sketch, num_perm, seed), _minhash_values(lead, num_perm, seed)])
    a, b = permutations(num_perm, seed)
    # one row per permutation, so each minimum runs along a row
    mixed = a[:, None] * _fmix32(np.concatenate([sketch, lead]).astype(np.uint32, copy=False))
    mixed += b[:, None]
    return np.minimum.reduceat(mixed, [0, sketch.size], axis=1).T.ravel()


def _compute(doc: Doc, num_perm: int, seed: int, dates: bool = False) -> tuple[Features, np.ndarray]:
    """Worker-process half of :meth:`StoryIndex.add_many`: features (text left out) and signature;
    with ``dates`` also the date features, which a judged pair needs and which cost the most."""
    feats, title_content, text_content = features_and_content(doc)
    if dates:
        # computed now, in the worker, and kept with the features; from the content lines found
        # along with the words (`Features.dates` would find them again)
        feats._dates = date_features_of_content(title_content, text_content, feats.published)
    feats.text = ""
    return feats, _signature_of(feats, num_perm, seed)


def _compute_many(docs: list[Doc], num_perm: int, seed: int) -> list[tuple[Features, np.ndarray]]:
    return [_compute(doc, num_perm, seed, dates=True) for doc in docs]


def compute_ahead(
    title: str, text: str, published: datetime | date | None, num_perm: int = NUM_PERM, seed: int = SEED
) -> tuple[Features, np.ndarray]:
    """Features (date features included, text left out) and signature of a new announcement, as the
    story step will need them: for a crawl worker to compute ahead (:mod:`aggregator.dedup.ahead`)."""
    return _compute(story_doc(title, text, published), num_perm, seed, dates=True)


def signature(doc: Doc, num_perm: int = NUM_PERM, seed: int = SEED) -> list[int]:
    """The stored form of ``doc``'s MinHash signatures: body values, then lead values (``2*num_perm``).

    The values are those of datasketch ``MinHash(num_perm, seed, scheme="affine32")`` fed with the
    stable shingle hashes, so they stay valid across processes and can be stored with the row.
    """
    return [int(v) for v in _signature_of(features(doc), num_perm, seed)]


def _published_to_json(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    return ("t:" if isinstance(value, datetime) else "d:") + value.isoformat()


def _published_from_json(raw: str | None) -> date | datetime | None:
    if not raw:
        return None
    kind, _, value = raw.partition(":")
    return datetime.fromisoformat(value) if kind == "t" else date.fromisoformat(value)


class _Job:
    """A chunk of :meth:`StoryIndex.add_many`'s input and its features: a worker's future, or
    computed here (taken back from the queue, or because the executor could not run it)."""

    def __init__(
        self,
        chunk: list[tuple[str, Doc]],
        future: Future[list[tuple[Features, np.ndarray]]] | None,
        computed: list[tuple[Features, np.ndarray]] | None = None,
    ) -> None:
        self.chunk = chunk
        self.future = future
        self.computed = computed

    def take(self, num_perm: int, seed: int) -> list[tuple[Features, np.ndarray]]:
        if self.computed is None and self.future is not None:
            with suppress(BrokenExecutor, CancelledError):  # a broken pool: computed below
                self.computed = self.future.result()
        if self.computed is None:
            self.computed = [_compute(doc, num_perm, seed) for _, doc in self.chunk]
        return self.computed


def _grouped(
    items: Iterable[tuple[str, Doc]], ahead: FeaturesAhead | None
) -> Iterator[tuple[list[tuple[str, Doc]], list[tuple[Features, np.ndarray]] | None]]:
    """``items`` in runs of at most :data:`JOB_SIZE`, each either wholly found in ``ahead`` (with
    what was found) or wholly not (None: to be computed), in input order."""
    chunk: list[tuple[str, Doc]] = []
    found: list[tuple[Features, np.ndarray]] = []
    for doc_id, doc in items:
        hit = ahead.get(doc) if ahead is not None else None
        if chunk and ((hit is not None) != bool(found) or len(chunk) >= JOB_SIZE):
            yield chunk, (found or None)
            chunk, found = [], []
        chunk.append((doc_id, doc))
        if hit is not None:
            found.append(hit)
    if chunk:
        yield chunk, (found or None)


class StoryIndex:
    """Incremental near-duplicate index: ``add`` an announcement, get the id of its story.

    ``judge_calls`` counts every pair decision made so far (``last_judged`` those of the last
    ``add``); tests use them to check that the work per announcement stays bounded.
    """

    def __init__(
        self,
        *,
        num_perm: int = NUM_PERM,
        seed: int = SEED,
        body_threshold: float = BODY_THRESHOLD,
        lead_threshold: float = LEAD_THRESHOLD,
        max_judged: int = MAX_JUDGED,
        feature_cache: int = FEATURE_CACHE,
    ) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.body_threshold = body_threshold
        self.lead_threshold = lead_threshold
        self.max_judged = max_judged
        self.feature_cache = feature_cache
        self._lsh_body = BandTables(body_threshold, num_perm)
        self._lsh_lead = BandTables(lead_threshold, num_perm)
        self._slot_of: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._docs: list[Doc | None] = []
        self._sigs: list[np.ndarray | None] = []
        self._fps: list[str | None] = []
        self._story: list[str | None] = []
        self._by_fp: dict[str, int] = {}
        self._members: dict[str, set[int]] = {}
        self._cache: OrderedDict[int, Features] = OrderedDict()
        self.judge_calls = 0
        self.last_judged = 0

    # ------------------------------------------------------------------ public API

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._slot_of

    def add(self, doc_id: str, doc: Doc) -> str:
        """Index ``doc`` under ``doc_id`` and return the id of the story it joins.

        Adding a known ``doc_id`` again with the same text is a no-op; with a changed text (an
        edited page) the announcement is re-indexed and stays in its story when the judge still
        confirms a member of it.
        """
        feats = features(doc)
        return self._add(doc_id, doc, feats, _signature_of(feats, self.num_perm, self.seed))

    def add_many(
        self,
        items: Iterable[tuple[str, Doc]],
        workers: int = 0,
        executor: Executor | None = None,
        ahead: FeaturesAhead | None = None,
    ) -> Iterator[tuple[str, str]]:
        """:meth:`add` for a stream of ``(doc_id, doc)``; yields ``(doc_id, story_id)`` in order.

        With ``workers > 0`` the features and signatures (about a third of the work) are computed
        in that many worker processes while this process does the index work, which shortens a
        backfill on two cores by about 30%. An ``executor`` (a process pool the caller already
        runs, e.g. the crawl's worker processes) does the same with the date features too, and
        no process is forked here. Decisions are the same as with :meth:`add`, because the index
        itself is only ever touched here, in input order.

        ``ahead``: features the crawl's workers already computed (:mod:`aggregator.dedup.ahead`);
        the documents found there are not computed again.
        """
        if ahead is not None and (ahead.num_perm, ahead.seed) != (self.num_perm, self.seed):
            ahead = None  # computed for other signatures
        if executor is not None:
            yield from self._add_with(items, executor, ahead)
            return
        if workers <= 0:
            for doc_id, doc in items:
                found = ahead.get(doc) if ahead is not None else None
                yield doc_id, self.add(doc_id, doc) if found is None else self._add(doc_id, doc, *found)
            return
        pending: deque[tuple[str, Doc]] = deque()

        def feed() -> Iterator[Doc]:
            for doc_id, doc in items:
                pending.append((doc_id, doc))
                yield doc

        job = partial(_compute, num_perm=self.num_perm, seed=self.seed)
        context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with context.Pool(workers) as pool:
            for feats, sig in pool.imap(job, feed(), chunksize=32):
                doc_id, doc = pending.popleft()
                feats.text = doc.text  # the worker leaves the text out to save copying it back
                yield doc_id, self._add(doc_id, doc, feats, sig)

    def _add_with(
        self, items: Iterable[tuple[str, Doc]], executor: Executor, ahead: FeaturesAhead | None = None
    ) -> Iterator[tuple[str, str]]:
        """:meth:`add_many` on a caller's executor: jobs of :data:`JOB_SIZE` documents, at most
        :data:`JOBS_AHEAD` of them sent ahead of the one being indexed (memory stays bounded on a
        backfill). A job the executor cannot do (a broken or closed pool) is computed here.

        While the job it needs next is not done, this process takes the *last* queued job back
        (cancels it before a worker starts it) and computes it itself, instead of waiting: with
        one worker, the features of a crawl's new announcements cost the worker more than the
        index work costs this process, and both cores are free once the crawl has ended. The
        jobs taken back skip the date features, which this process computes only for the pairs
        that need them. Nothing depends on who computed what, so the decisions stay the same.
        """
        groups = _grouped(items, ahead)
        queue: deque[_Job] = deque()

        def refill() -> None:
            while len(queue) < JOBS_AHEAD:
                chunk, found = next(groups, ([], None))
                if not chunk:
                    return
                if found is not None:  # computed during the crawl
                    queue.append(_Job(chunk, None, found))
                    continue
                try:
                    docs = [doc for _, doc in chunk]
                    future = executor.submit(_compute_many, docs, self.num_perm, self.seed)
                except (BrokenExecutor, RuntimeError):
                    future = None
                queue.append(_Job(chunk, future))

        refill()
        while queue:
            head = queue[0]
            self._help_while_waiting(head, queue)
            queue.popleft()
            computed = head.take(self.num_perm, self.seed)
            refill()
            for (doc_id, doc), (feats, sig) in zip(head.chunk, computed, strict=True):
                feats.text = doc.text  # the worker leaves the text out to save copying it back
                yield doc_id, self._add(doc_id, doc, feats, sig)

    def _help_while_waiting(self, head: _Job, queue: deque[_Job]) -> None:
        """Compute queued jobs here, the last first, until ``head`` is done or none is left that a
        worker has not started."""
        while head.future is not None and not head.future.done():
            for job in reversed(queue):
                if job is not head and job.computed is None and job.future is not None and job.future.cancel():
                    job.computed = [_compute(doc, self.num_perm, self.seed) for _, doc in job.chunk]
                    break
            else:
                return

    def story_of(self, doc_id: str) -> str:
        """The story id of an indexed announcement (``KeyError`` when unknown)."""
        return str(self._story[self._slot_of[doc_id]])

    def signature_of(self, doc_id: str) -> list[int]:
        """The stored form (see :func:`signature`) of an indexed announcement, without recomputing it."""
        sig = self._sigs[self._slot_of[doc_id]]
        assert sig is not None
        return [int(v) for v in sig]

    def signature_array(self, doc_id: str) -> np.ndarray:
        """:meth:`signature_of` as the index holds it (uint32 values, not to be modified): the
        caller that stores it as bytes need not go through a list of Python ints and back."""
        sig = self._sigs[self._slot_of[doc_id]]
        assert sig is not None
        return sig

    def members(self, story_id: str) -> list[str]:
        """The doc ids of a story, in the order they were added."""
        return [str(self._ids[s]) for s in sorted(self._members.get(story_id, ()))]

    def stories(self) -> Iterator[tuple[str, list[str]]]:
        """Every story with its members."""
        for story_id in list(self._members):
            yield story_id, self.members(story_id)

    def remove(self, doc_id: str) -> None:
        """Forget an announcement (a deleted page); its story keeps its other members and its id."""
        slot = self._slot_of.pop(doc_id)
        self._lsh_body.remove(slot)
        self._lsh_lead.remove(slot)
        fp = self._fps[slot]
        if fp is not None and self._by_fp.get(fp) == slot:
            del self._by_fp[fp]
        story = self._story[slot]
        if story is not None:
            self._members[story].discard(slot)
            if not self._members[story]:
                del self._members[story]
        self._cache.pop(slot, None)
        self._ids[slot] = self._docs[slot] = self._sigs[slot] = self._fps[slot] = self._story[slot] = None

    # ------------------------------------------------------------------ persistence

    def to_state(self) -> bytes:
        """The whole index as bytes (zlib-compressed JSON): docs, story ids and signatures."""
        entries = []
        for slot, doc_id in enumerate(self._ids):
            doc, sig = self._docs[slot], self._sigs[slot]
            if doc_id is None or doc is None or sig is None:
                continue
            entries.append(
                [
                    doc_id,
                    self._story[slot],
                    doc.url,
                    doc.title,
                    doc.text,
                    _published_to_json(doc.published),
                    doc.source_id,
                    base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii"),
                ]
            )
        state = {"format": _STATE_FORMAT, "version": _STATE_VERSION, "params": self._params(), "entries": entries}
        return zlib.compress(json.dumps(state, ensure_ascii=False).encode("utf-8"), 6)

    @classmethod
    def from_state(cls, state: bytes) -> StoryIndex:
        """Restore an index saved with :meth:`to_state` (no judging: stored story ids are kept)."""
        data = json.loads(zlib.decompress(state).decode("utf-8"))
        if data.get("format") != _STATE_FORMAT or data.get("version") != _STATE_VERSION:
            raise ValueError("not a StoryIndex state of a supported version")
        index = cls(**data["params"])
        for doc_id, story, url, title, text, published, source_id, sig in data["entries"]:
            doc = Doc(url, title, text, _published_from_json(published), source_id)
            values = np.frombuffer(base64.b64decode(sig), dtype="<u4").astype(np.uint32)
            index._restore(doc_id, doc, story, values)
        return index

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, Doc, str, Sequence[int] | None]], **params: Any) -> StoryIndex:
        """Rebuild from stored rows ``(doc_id, doc, story_id, signature or None)``, in insertion order.

        This is how the database restores the index: it keeps each announcement's story id and
        the :func:`signature` computed when it was added (recomputed here when missing).
        """
        index = cls(**params)
        for doc_id, doc, story, sig in records:
            if sig is None:
                values = _signature_of(features(doc), index.num_perm, index.seed)
            else:
                values = np.asarray(sig, dtype=np.uint32)
            index._restore(doc_id, doc, story, values)
        return index

    # ------------------------------------------------------------------ internals

    def _params(self) -> dict[str, Any]:
        return {
            "num_perm": self.num_perm,
            "seed": self.seed,
            "body_threshold": self.body_threshold,
            "lead_threshold": self.lead_threshold,
            "max_judged": self.max_judged,
            "feature_cache": self.feature_cache,
        }

    def _add(self, doc_id: str, doc: Doc, feats: Features, sig: np.ndarray) -> str:
        previous_story: str | None = None
        if doc_id in self._slot_of:
            slot = self._slot_of[doc_id]
            if self._features_of(slot).fingerprint == feats.fingerprint:
                return str(self._story[slot])
            previous_story = self._story[slot]
            self.remove(doc_id)
        best = self._best_match(feats, sig, previous_story)
        story = best if best is not None else self._new_story_id(doc_id)
        slot = self._insert(doc_id, doc, story, sig, feats.fingerprint)
        self._remember(slot, feats)
        return story

    def _restore(self, doc_id: str, doc: Doc, story: str, sig: np.ndarray) -> None:
        if len(sig) != 2 * self.num_perm:
            raise ValueError(f"signature of {doc_id!r} has {len(sig)} values, expected {2 * self.num_perm}")
        if doc_id in self._slot_of:
            self.remove(doc_id)
        self._insert(doc_id, doc, story, sig, None)

    def _insert(self, doc_id: str, doc: Doc, story: str, sig: np.ndarray, fp: str | None) -> int:
        slot = len(self._ids)
        self._ids.append(doc_id)
        self._docs.append(doc)
        self._sigs.append(sig)
        self._fps.append(fp)
        self._story.append(story)
        self._slot_of[doc_id] = slot
        self._members.setdefault(story, set()).add(slot)
        if fp is not None:
            self._by_fp.setdefault(fp, slot)
        p = self.num_perm
        self._lsh_body.insert(slot, sig[:p])
        self._lsh_lead.insert(slot, sig[p:])
        return slot

    def _new_story_id(self, doc_id: str) -> str:
        if doc_id not in self._members:
            return doc_id
        n = 2
        while f"{doc_id}~{n}" in self._members:
            n += 1
        return f"{doc_id}~{n}"

    def _remember(self, slot: int, feats: Features) -> None:
        self._cache[slot] = feats
        self._cache.move_to_end(slot)
        while len(self._cache) > self.feature_cache:
            self._cache.popitem(last=False)

    def _features_of(self, slot: int) -> Features:
        feats = self._cache.get(slot)
        if feats is None:
            doc = self._docs[slot]
            assert doc is not None
            feats = features(doc)
            if self._fps[slot] is None:  # restored entries learn their fingerprint on first use
                self._fps[slot] = feats.fingerprint
                self._by_fp.setdefault(feats.fingerprint, slot)
        self._remember(slot, feats)
        return feats

    def _query(self, lsh: BandTables, values: np.ndarray) -> set[int]:
        """``lsh.query`` that does not read over-full buckets (see :data:`MAX_BUCKET`).

        It reads the band tables (:class:`~aggregator.dedup.bands.BandTables`, laid out as a
        ``MinHashLSH``'s) with the band key ``MinHashLSH`` itself uses (the byte-swapped band
        values); a test checks that it gives exactly ``MinHashLSH.query``'s answer when no bucket
        is over-full. Of an over-full bucket
        only a sample of :data:`BUCKET_SAMPLE` members is looked at, and kept as candidates when
        they belong to at most two stories (a much re-posted story rather than boilerplate).
        """
        found: set[int] = set()
        for band, table in zip(lsh.band_keys(values), lsh.hashtables, strict=True):
            bucket = table.get(band)
            if not bucket:
                continue
            if len(bucket) <= MAX_BUCKET:
                found.update(bucket)
                continue
            sample = list(islice(bucket, BUCKET_SAMPLE))
            if len({self._story[slot] for slot in sample}) <= 2:
                found.update(sample)
        return found

    def _candidates(self, feats: Features, sig: np.ndarray) -> list[int]:
        """Candidate slots, most similar first (estimated from the signatures)."""
        p = self.num_perm
        found = self._query(self._lsh_body, sig[:p]) | self._query(self._lsh_lead, sig[p:])
        exact = self._by_fp.get(feats.fingerprint)
        if exact is not None:
            found.add(exact)
        if not found:
            return []
        found_slots = list(found)
        slots = np.array(found_slots, dtype=np.int64)
        agree = np.array([self._sigs[s] for s in found_slots]) == sig
        # the share of agreeing values, body and lead alike (counts of at most p: k / p is exact)
        est = np.maximum(np.count_nonzero(agree[:, :p], axis=1), np.count_nonzero(agree[:, p:], axis=1)) / p
        if exact is not None:
            est[slots == exact] = 2.0
        keep = est >= MIN_ESTIMATE
        slots, est = slots[keep], est[keep]
        order = np.lexsort((slots, -est))  # most similar first, then oldest first
        return [int(s) for s in slots[order]]

    def _best_match(self, feats: Features, sig: np.ndarray, previous_story: str | None) -> str | None:
        """The story of the best confirmed candidate, skipping stories with a conflicting member.

        A member with the same fingerprint is always the first candidate (`_candidates`), and when
        it is judged identical nothing can beat it: it is judged before the other candidates are
        looked up and ranked, which for a cross-post copied word for word (the commonest kind) was
        most of the work (the same candidates, judged in the same order, otherwise).
        """
        self.last_judged = 0
        judged_per_story: dict[str, int] = {}
        vetoed: set[str] = set()
        accepted: dict[str, float] = {}

        def judged(slot: int) -> bool:
            """Judge one candidate (as ranked); True when nothing can beat it."""
            story = self._story[slot]
            if story is None or story in vetoed or judged_per_story.get(story, 0) >= PER_STORY_JUDGED:
                return False
            judged_per_story[story] = judged_per_story.get(story, 0) + 1
            verdict, conflict = self._judge(feats, slot)
            if conflict:
                vetoed.add(story)
                accepted.pop(story, None)
            elif verdict.same:
                score = verdict.score + (0.001 if story == previous_story else 0.0)
                accepted[story] = max(score, accepted.get(story, 0.0))
                return verdict.score >= 1.0  # identical to a member
            return False

        exact = self._by_fp.get(feats.fingerprint)
        first = exact if exact is not None and self.max_judged > 0 else None
        if first is None or not judged(first):
            for slot in self._candidates(feats, sig):
                if slot == first:
                    continue  # judged above
                if self.last_judged >= self.max_judged or judged(slot):
                    break
        if not accepted:
            return None
        return max(accepted, key=lambda story: (accepted[story], -min(self._members[story])))

    def _judge(self, feats: Features, slot: int) -> tuple[Judgement, bool]:
        self.judge_calls += 1
        self.last_judged += 1
        return decide(feats, self._features_of(slot))

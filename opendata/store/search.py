"""Search over the datasets: one query function for the API and the web catalog, on both stores.

The store keeps one search document per served dataset (``search_document``, written by
:func:`index_dataset` in the harvest's transaction): its titles (Indonesian and English), tags,
indicator names, descriptions and indicator definitions, each *folded* by :func:`fold` (case
folded, accents dropped, words split on anything that is not a letter or a digit), so
``Kemiskinan``, ``KEMISKINAN`` and ``kemiskínan`` are one word, and both stores see the same
plain words whatever their own tokenizer would have made of the punctuation.

:func:`search` splits the question the same way and asks the store's full-text index which
documents have every word, each word as a prefix (``miskin`` finds ``miskinnya``) once it has
:data:`PREFIX_MIN` letters: SQLite's FTS5 table ``search_fts`` or PostgreSQL's GIN index on
``to_tsvector('simple', words)`` (the ``simple`` configuration: no stemming, as SQLite has no
Indonesian stemmer and the two stores must agree). That is the only dialect-specific step: the
ranking, the filters and the facet counts are computed here, in Python, from the documents the
index found, so both stores give the same answer, in the same order, with the same scores.

A word that matches nothing (a typo: ``kemiskinnan``) is corrected to the closest word of the
index's vocabulary (``search_term``, with the number of documents that have each word) by
``difflib``'s ratio, when one is close enough; the result says what it searched for instead.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from opendata.regions import LEVELS
from opendata.store import schema as t

#: a word of at least this many letters matches the words it begins (``kemis`` -> ``kemiskinan``)
PREFIX_MIN = 3
#: the longest word the vocabulary keeps for corrections (longer ones are still indexed)
MAX_TERM = 64
#: a word of fewer letters is never corrected: too many words are that close to it
CORRECT_MIN = 4
#: how close (difflib's ratio, 0..1) a vocabulary word must be to stand for a word found nowhere
CORRECT_CUTOFF = 0.75
#: the facets of a search, and the filter parameter of each
FACETS = ("source", "tag", "level", "frequency")

#: words that say nothing about a dataset (Indonesian and English): left out of a question that
#: has other words, so "kemiskinan di kalsel" does not require each dataset to contain "di"
STOPWORDS = frozenset(
    "a an and by dan dari dengan di for in ke menurut of on or pada per the to untuk yang".split()
)

#: field of the document -> its weight in a score: a title match outranks a description match
WEIGHTS = (("title", 8.0), ("tags", 5.0), ("indicators", 3.0), ("body", 1.0))
#: a word found only as the beginning of a longer word counts this much of a whole-word match
PREFIX_WEIGHT = 0.6


def fold(value: str | None) -> str:
    """``"Indeks Pembangunan Manusia (IPM) — Kab. Tanah Laut"`` -> ``"indeks pembangunan ..."``.

    Case folded, accents and other combining marks dropped (NFKD), anything but a letter or a
    digit a space. Casefold comes first: it may itself produce combining marks (``İ``).
    """
    decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
    kept = "".join(
        char if char.isalnum() else " " for char in decomposed if not unicodedata.combining(char)
    )
    return " ".join(kept.split())


def query_terms(question: str) -> list[str]:
    """The words searched for: folded, each once, stopwords left out unless there is no other."""
    words = list(dict.fromkeys(fold(question).split()))
    kept = [word for word in words if word not in STOPWORDS]
    return kept or words


# -- the index ----------------------------------------------------------------------------------


def _texts(*values: str | None) -> str:
    """Folded texts, one a line (a line is one title, one description...)."""
    return "\n".join(folded for folded in map(fold, values) if folded)


def _levels(conn: Connection, dataset_id: str) -> list[str]:
    """The region levels of the dataset's served series, from the country down."""
    s, r = t.series, t.region
    found = set(
        conn.execute(
            select(r.c.level)
            .join(s, s.c.region_code == r.c.code)
            .where(s.c.dataset_id == dataset_id, s.c.retired_run_id.is_(None))
            .distinct()
        ).scalars()
    )
    return [level for level in LEVELS if level in found] + sorted(found - set(LEVELS))


def _document(conn: Connection, dataset_id: str) -> dict[str, Any] | None:
    """The search document of a served dataset; None if it has none (unknown, all retired)."""
    d, i = t.dataset, t.indicator
    row = conn.execute(
        select(d.c.title_id, d.c.title_en, d.c.description_id, d.c.description_en, d.c.tags).where(
            d.c.id == dataset_id
        )
    ).first()
    indicators = conn.execute(
        select(i.c.name, i.c.definition, i.c.subject)
        .where(i.c.dataset_id == dataset_id, i.c.retired_run_id.is_(None))
        .order_by(i.c.id)
    ).all()
    if row is None or not indicators:
        return None
    tags = json.loads(row.tags or "[]")
    names = list(dict.fromkeys(ind.name for ind in indicators))
    document = {
        "title": _texts(row.title_id, row.title_en),
        "tags": _texts(*tags),
        "indicators": json.dumps(names, ensure_ascii=False),
        "body": _texts(
            row.description_id,
            row.description_en,
            *dict.fromkeys(text for ind in indicators for text in (ind.definition, ind.subject)),
        ),
        "tag_values": "\n".join(tags),
        "levels": "\n".join(_levels(conn, dataset_id)),
    }
    document["indicator_words"] = "\n".join(fold(name) for name in names)  # a line each
    words = [document["title"], document["tags"], document["indicator_words"], document["body"]]
    document["words"] = " ".join(" ".join(words).split())
    return document


def _vocabulary(words: str) -> set[str]:
    return {word for word in words.split() if len(word) <= MAX_TERM}


def _count_terms(conn: Connection, old: set[str], new: set[str]) -> None:
    """Move the vocabulary's document counts from a document's ``old`` words to its ``new`` ones.

    Harvests write under one lock (``opendata.harvest``), so two never count the same word at
    once.
    """
    st = t.search_term
    changes = {word: 1 for word in new - old} | {word: -1 for word in old - new}
    if not changes:
        return
    counts = dict(
        conn.execute(select(st.c.term, st.c.documents).where(st.c.term.in_(list(changes)))).all()
    )
    added = [
        {"term": word, "length": len(word), "documents": 1}
        for word, step in changes.items()
        if step > 0 and word not in counts
    ]
    moved = [
        {"b_term": word, "documents": counts[word] + step}
        for word, step in changes.items()
        if word in counts and counts[word] + step > 0
    ]
    gone = [word for word, step in changes.items() if word in counts and counts[word] + step <= 0]
    if added:
        conn.execute(insert(st), added)
    if moved:
        conn.execute(
            update(st)
            .where(st.c.term == bindparam("b_term"))
            .values(documents=bindparam("documents")),
            moved,
        )
    if gone:
        conn.execute(delete(st).where(st.c.term.in_(gone)))


def index_dataset(conn: Connection, dataset_id: str) -> None:
    """Write (or remove) a dataset's search document, in the caller's transaction.

    Called by the store's writer after each harvest that changed a dataset. A dataset that
    serves no indicator leaves the index.
    """
    _index(conn, dataset_id, count_terms=True)


def _index(conn: Connection, dataset_id: str, count_terms: bool) -> None:
    document = _document(conn, dataset_id)
    if document is None:
        remove_dataset(conn, dataset_id)
        return
    sd = t.search_document
    old = conn.execute(select(sd.c.id, sd.c.words).where(sd.c.dataset_id == dataset_id)).first()
    if old is None:
        doc_id = conn.execute(
            insert(sd).values(dataset_id=dataset_id, **document)
        ).inserted_primary_key[0]
    else:
        doc_id = old.id
        conn.execute(update(sd).where(sd.c.id == doc_id).values(**document))
    if conn.dialect.name == "sqlite":  # PostgreSQL's index is on the column itself
        conn.execute(text(f"DELETE FROM {t.SEARCH_FTS} WHERE rowid = :id"), {"id": doc_id})
        conn.execute(
            text(f"INSERT INTO {t.SEARCH_FTS} (rowid, words) VALUES (:id, :words)"),
            {"id": doc_id, "words": document["words"]},
        )
    if count_terms:
        old_words = _vocabulary(old.words) if old else set()
        _count_terms(conn, old_words, _vocabulary(document["words"]))


def remove_dataset(conn: Connection, dataset_id: str) -> None:
    """Take a dataset out of the index (it is no longer served)."""
    sd = t.search_document
    old = conn.execute(select(sd.c.id, sd.c.words).where(sd.c.dataset_id == dataset_id)).first()
    if old is None:
        return
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"DELETE FROM {t.SEARCH_FTS} WHERE rowid = :id"), {"id": old.id})
    conn.execute(delete(sd).where(sd.c.id == old.id))
    _count_terms(conn, _vocabulary(old.words), set())


def is_indexed(conn: Connection, dataset_id: str) -> bool:
    """Whether the dataset has a search document."""
    sd = t.search_document
    return conn.execute(select(sd.c.id).where(sd.c.dataset_id == dataset_id)).first() is not None


def reindex(conn: Connection) -> int:
    """Rebuild every dataset's search document, then the vocabulary; return the documents.

    Migration 0006 backfills with it. The vocabulary is counted once at the end, not document
    by document: thousands of updates of the same few rows in one transaction leave PostgreSQL
    a chain of dead row versions to walk at each one.
    """
    for dataset_id in conn.execute(select(t.dataset.c.id).order_by(t.dataset.c.id)).scalars():
        _index(conn, dataset_id, count_terms=False)
    counts = Counter(
        word
        for words in conn.execute(select(t.search_document.c.words)).scalars()
        for word in _vocabulary(words)
    )
    conn.execute(delete(t.search_term))
    if counts:
        conn.execute(
            insert(t.search_term),
            [{"term": w, "length": len(w), "documents": n} for w, n in sorted(counts.items())],
        )
    return conn.execute(select(func.count()).select_from(t.search_document)).scalar_one()


# -- the query ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A question, the facet values it is narrowed to (OR within a facet, AND across), a page."""

    text: str
    #: facet (one of FACETS) -> the values kept; a facet not given keeps every dataset
    filters: Mapping[str, frozenset[str]] = field(default_factory=dict)
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class SearchHit:
    """A dataset found, with what a result list shows of it."""

    id: str
    title: dict[str, str]  #: {"id": ..., "en": ...} (a language it lacks is left out)
    description: dict[str, str]
    source: str
    source_title: str
    tags: tuple[str, ...]
    frequency: str | None
    levels: tuple[str, ...]
    score: float
    #: the names of its indicators that have a word searched for
    matched: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    """A page of hits, best first, with the facets of all the hits and what was searched."""

    terms: tuple[str, ...]  #: the words searched for (after any correction)
    corrected: str | None  #: the words searched for, if a word was corrected; else None
    total: int  #: hits after the filters, on every page
    hits: list[SearchHit]
    #: facet -> [(value, datasets)], most datasets first: counted over the hits of the question
    #: narrowed by every filter but the facet's own
    facets: dict[str, list[tuple[str, int]]]


def _match_clause(conn: Connection, terms: Sequence[str]):
    """The store's full-text condition on ``search_document``: it has every term."""
    prefix = [len(term) >= PREFIX_MIN for term in terms]
    if conn.dialect.name == "sqlite":
        match = " AND ".join(
            f'"{term}"' + ("*" if p else "") for term, p in zip(terms, prefix, strict=True)
        )
        fts = t.SEARCH_FTS
        clause = f"search_document.id IN (SELECT rowid FROM {fts} WHERE {fts} MATCH :m)"
    else:
        match = " & ".join(
            term + (":*" if p else "") for term, p in zip(terms, prefix, strict=True)
        )
        clause = "to_tsvector('simple', search_document.words) @@ to_tsquery('simple', :m)"
    return text(clause).bindparams(m=match)


def _matches_any(conn: Connection, term: str) -> bool:
    """Whether any document has the term.

    A count, not ``LIMIT 1``: for a word found nowhere PostgreSQL would pick a sequential scan
    that expects to stop at the first match and instead computes every document's tsvector.
    """
    sd = t.search_document
    found = conn.execute(select(func.count(sd.c.id)).where(_match_clause(conn, [term])))
    return bool(found.scalar_one())


def _closest(conn: Connection, term: str) -> str | None:
    """The vocabulary's word closest to ``term`` (ratio, then more documents, then A-Z)."""
    if len(term) < CORRECT_MIN:
        return None
    st = t.search_term
    rows = conn.execute(
        select(st.c.term, st.c.documents).where(st.c.length.between(len(term) - 2, len(term) + 2))
    )
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(term)
    best: tuple[float, int, str] | None = None
    for word, documents in rows:
        matcher.set_seq1(word)
        if matcher.real_quick_ratio() < CORRECT_CUTOFF or matcher.quick_ratio() < CORRECT_CUTOFF:
            continue
        ratio = matcher.ratio()
        if ratio >= CORRECT_CUTOFF:
            key = (-ratio, -documents, word)
            best = key if best is None or key < best else best
    return None if best is None else best[2]


def _corrected(conn: Connection, terms: list[str]) -> list[str] | None:
    """The terms with each one that matches nothing replaced by its closest word, if any is."""
    corrected, changed = [], False
    for term in terms:
        if _matches_any(conn, term):
            corrected.append(term)
            continue
        closest = _closest(conn, term)
        if closest is None:
            return None
        corrected.append(closest)
        changed = True
    return list(dict.fromkeys(corrected)) if changed else None


def _candidates(conn: Connection, terms: Sequence[str]) -> list:
    """What ranking and facets need of every document that has all the terms."""
    sd, d = t.search_document, t.dataset
    return conn.execute(
        select(
            d.c.id,
            d.c.source_id,
            d.c.frequency,
            sd.c.tag_values,
            sd.c.levels,
            sd.c.title,
            sd.c.tags,
            sd.c.indicator_words,
            sd.c.body,
        )
        .join(d, d.c.id == sd.c.dataset_id)
        .where(_match_clause(conn, terms))
    ).all()


class _Terms:
    """The terms searched for, as the scoring looks for them in a field's padded text."""

    def __init__(self, terms: Sequence[str]):
        self.terms = tuple(terms)
        self.exact = frozenset(terms)
        #: the terms that also match as the beginning of a word
        self.prefixes = tuple(term for term in terms if len(term) >= PREFIX_MIN)

    def found(self, term: str, padded: str) -> float:
        """1 for the whole word in `` text ``, PREFIX_WEIGHT for the beginning of one, else 0.

        Substring tests on the space-padded text: the whole word is `` term ``, a beginning
        `` term``; no split, no loop in Python.
        """
        if f" {term} " in padded:
            return 1.0
        if len(term) >= PREFIX_MIN and f" {term}" in padded:
            return PREFIX_WEIGHT
        return 0.0

    def covers(self, word: str) -> bool:
        return word in self.exact or word.startswith(self.prefixes)


def _padded(text: str) -> str:
    return f" {text.replace(chr(10), ' ')} "


def _score(terms: _Terms, row) -> float:
    """Each term's best field weight, plus the share of a title's words the terms cover.

    The share (at most 1) puts "Poverty rate" before "Poverty rate targets of ... (RKPD 2022)".
    The hot loop of a search (once per document found): plain loops, no generators.
    """
    fields = (
        _padded(row.title),
        _padded(row.tags),
        _padded(row.indicator_words),
        _padded(row.body),
    )
    score = 0.0
    for term in terms.terms:
        best = 0.0
        for (_name, weight), padded in zip(WEIGHTS, fields, strict=True):
            if weight <= best:
                break  # the weights go down: no later field can do better
            best = max(best, weight * terms.found(term, padded))
        score += best
    cover = 0.0
    for line in row.title.split("\n"):
        words = line.split()
        if words:
            cover = max(cover, sum(map(terms.covers, words)) / len(words))
    return round(score + cover, 4)


class _Found(NamedTuple):
    """A document the index found: its score and facet values (enough to rank and count)."""

    id: str
    score: float
    values: dict[str, tuple[str, ...]]  #: facet -> its values


def _values(text: str) -> tuple[str, ...]:
    return tuple(text.split("\n")) if text else ()


def _facet_values(row) -> dict[str, tuple[str, ...]]:
    return {
        "source": (row.source_id,),
        "tag": _values(row.tag_values),
        "level": _values(row.levels),
        "frequency": (row.frequency,) if row.frequency else (),
    }


def _hits(conn: Connection, page: Sequence[_Found], terms: _Terms) -> list[SearchHit]:
    """The page's hits with their texts and matched indicators (one query for the page)."""
    if not page:
        return []
    sd, d, s = t.search_document, t.dataset, t.source
    rows = {
        row.id: row
        for row in conn.execute(
            select(
                d.c.id,
                d.c.title_id,
                d.c.title_en,
                d.c.description_id,
                d.c.description_en,
                s.c.title.label("source_title"),
                sd.c.indicators,
                sd.c.indicator_words,
            )
            .join(sd, sd.c.dataset_id == d.c.id)
            .join(s, s.c.id == d.c.source_id)
            .where(d.c.id.in_([found.id for found in page]))
        )
    }
    hits = []
    for found in page:
        row = rows[found.id]
        names = json.loads(row.indicators)
        matched = tuple(
            name
            for name, folded in zip(names, row.indicator_words.split("\n"), strict=True)
            if any(terms.covers(word) for word in folded.split())
        )
        hits.append(
            SearchHit(
                id=found.id,
                title=_languages(row.title_id, row.title_en),
                description=_languages(row.description_id, row.description_en),
                source=found.values["source"][0],
                source_title=row.source_title,
                tags=found.values["tag"],
                frequency=found.values["frequency"][0] if found.values["frequency"] else None,
                levels=found.values["level"],
                score=found.score,
                matched=matched,
            )
        )
    return hits


def _languages(indonesian: str | None, english: str | None) -> dict[str, str]:
    return {lang: value for lang, value in (("id", indonesian), ("en", english)) if value}


def _kept(values: dict, filters: Mapping[str, frozenset[str]], but: str | None = None) -> bool:
    """Whether facet ``values`` pass the filters (all of them, or all but the facet ``but``)."""
    return all(
        not wanted or not wanted.isdisjoint(values[facet])
        for facet, wanted in filters.items()
        if facet != but
    )


def _facets(found: Sequence[dict], filters) -> dict[str, list[tuple[str, int]]]:
    """Each facet's values and counts among the ``found`` values that pass the other filters."""
    facets = {}
    for facet in FACETS:
        counts = Counter(
            value
            for values in found
            if _kept(values, filters, but=facet)
            for value in values[facet]
        )
        facets[facet] = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return facets


def search(conn: Connection, query: SearchQuery) -> SearchResult:
    """Search the datasets: see the module's docstring. A question with no word finds nothing.

    Every document found is counted in the facets, and scored if it passes the filters (a few
    microseconds each, on what the index query returned); only the page's hits are read whole.
    """
    terms = query_terms(query.text)
    corrected = None
    rows = _candidates(conn, terms) if terms else []
    if terms and not rows:
        corrected = _corrected(conn, terms)
        if corrected is not None:
            terms = corrected
            rows = _candidates(conn, terms)
    scoring = _Terms(terms)
    values = [_facet_values(row) for row in rows]
    kept = sorted(
        (
            _Found(row.id, _score(scoring, row), these)
            for row, these in zip(rows, values, strict=True)
            if _kept(these, query.filters)
        ),
        key=lambda found: (-found.score, found.id),
    )
    return SearchResult(
        terms=tuple(terms),
        corrected=" ".join(corrected) if corrected is not None else None,
        total=len(kept),
        hits=_hits(conn, kept[query.offset : query.offset + query.limit], scoring),
        facets=_facets(values, query.filters),
    )

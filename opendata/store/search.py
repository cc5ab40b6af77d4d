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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text, update

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
        "levels": json.dumps(_levels(conn, dataset_id)),
    }
    words = [document["title"], document["tags"], _texts(*names), document["body"]]
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
    if added:
        conn.execute(insert(st), added)
    for word, step in changes.items():
        if word not in counts:
            continue
        if counts[word] + step > 0:
            conn.execute(update(st).where(st.c.term == word).values(documents=counts[word] + step))
        else:
            conn.execute(delete(st).where(st.c.term == word))


def index_dataset(conn: Connection, dataset_id: str) -> None:
    """Write (or remove) a dataset's search document, in the caller's transaction.

    Called by the store's writer after each harvest that changed a dataset, and by migration
    0005 for the datasets it finds. A dataset that serves no indicator leaves the index.
    """
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
    _count_terms(conn, _vocabulary(old.words) if old else set(), _vocabulary(document["words"]))


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
    """Rebuild every dataset's search document; return how many the index holds."""
    for dataset_id in conn.execute(select(t.dataset.c.id).order_by(t.dataset.c.id)).scalars():
        index_dataset(conn, dataset_id)
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

    def facet_values(self, facet: str) -> tuple[str, ...]:
        """Its values of a facet (a dataset has several tags and levels, one source)."""
        if facet == "source":
            return (self.source,)
        if facet == "frequency":
            return (self.frequency,) if self.frequency else ()
        return self.tags if facet == "tag" else self.levels


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
    sd = t.search_document
    return (
        conn.execute(select(sd.c.id).where(_match_clause(conn, [term])).limit(1)).first()
        is not None
    )


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
    sd, d, s = t.search_document, t.dataset, t.source
    return conn.execute(
        select(
            d.c.id,
            d.c.title_id,
            d.c.title_en,
            d.c.description_id,
            d.c.description_en,
            d.c.source_id,
            s.c.title.label("source_title"),
            d.c.frequency,
            d.c.tags.label("raw_tags"),
            sd.c.title,
            sd.c.tags,
            sd.c.indicators,
            sd.c.body,
            sd.c.levels,
        )
        .join(d, d.c.id == sd.c.dataset_id)
        .join(s, s.c.id == d.c.source_id)
        .where(_match_clause(conn, terms))
    ).all()


def _has(words: set[str], term: str, prefixes: Iterable[str]) -> float:
    """1 for the whole word, PREFIX_WEIGHT for the beginning of one, else 0."""
    if term in words:
        return 1.0
    if len(term) >= PREFIX_MIN and any(word.startswith(term) for word in prefixes):
        return PREFIX_WEIGHT
    return 0.0


def _score(terms: Sequence[str], fields: Mapping[str, list[str]]) -> float:
    """Each term's best field weight, plus the share of a title's words the terms cover.

    The share (at most 1) puts "Poverty rate" before "Poverty rate targets of ... (RKPD 2022)".
    """
    sets = {name: set(" ".join(lines).split()) for name, lines in fields.items()}
    score = sum(
        max(weight * _has(sets[name], term, sets[name]) for name, weight in WEIGHTS)
        for term in terms
    )
    cover = 0.0
    for line in fields["title"]:
        words = line.split()
        found = sum(1 for word in words if any(_has({word}, term, (word,)) for term in terms))
        cover = max(cover, found / len(words))
    return round(score + cover, 4)


def _hit(row, terms: Sequence[str]) -> SearchHit:
    names = json.loads(row.indicators)
    folded_names = [fold(name) for name in names]
    fields = {
        "title": row.title.splitlines(),
        "tags": row.tags.splitlines(),
        "indicators": folded_names,
        "body": row.body.splitlines(),
    }
    matched = tuple(
        name
        for name, folded in zip(names, folded_names, strict=True)
        if any(_has(set(folded.split()), term, folded.split()) for term in terms)
    )
    return SearchHit(
        id=row.id,
        title={k: v for k, v in (("id", row.title_id), ("en", row.title_en)) if v},
        description={
            k: v for k, v in (("id", row.description_id), ("en", row.description_en)) if v
        },
        source=row.source_id,
        source_title=row.source_title,
        tags=tuple(json.loads(row.raw_tags or "[]")),
        frequency=row.frequency,
        levels=tuple(json.loads(row.levels)),
        score=_score(terms, fields),
        matched=matched,
    )


def _kept(hit: SearchHit, filters: Mapping[str, frozenset[str]], but: str | None = None) -> bool:
    return all(
        not wanted or not wanted.isdisjoint(hit.facet_values(facet))
        for facet, wanted in filters.items()
        if facet != but
    )


def _facets(hits: Sequence[SearchHit], filters) -> dict[str, list[tuple[str, int]]]:
    facets = {}
    for facet in FACETS:
        counts = Counter(
            value
            for hit in hits
            if _kept(hit, filters, but=facet)
            for value in hit.facet_values(facet)
        )
        facets[facet] = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return facets


def search(conn: Connection, query: SearchQuery) -> SearchResult:
    """Search the datasets: see the module's docstring. A question with no word finds nothing."""
    terms = query_terms(query.text)
    corrected = None
    rows = _candidates(conn, terms) if terms else []
    if terms and not rows:
        corrected = _corrected(conn, terms)
        if corrected is not None:
            terms = corrected
            rows = _candidates(conn, terms)
    found = sorted((_hit(row, terms) for row in rows), key=lambda hit: (-hit.score, hit.id))
    kept = [hit for hit in found if _kept(hit, query.filters)]
    return SearchResult(
        terms=tuple(terms),
        corrected=" ".join(corrected) if corrected is not None else None,
        total=len(kept),
        hits=kept[query.offset : query.offset + query.limit],
        facets=_facets(found, query.filters),
    )

"""Search: the datasets whose titles, tags, indicators or descriptions have the words asked for.

The view parses the question and the filters and hands them to the store's one search function
(``opendata.store.search.search``, which the web catalog's search page calls too); ranking,
typo correction and facet counts are the store's, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from opendata.api import lang as languages
from opendata.api.base import Blueprint, QueryArgs
from opendata.api.context import connection
from opendata.api.cursor import MAX_ID, checked, pack, unpack
from opendata.api.fields import Choices, Codes, Count, Text
from opendata.api.links import LINK_HEADER, link, next_link
from opendata.regions import LEVELS
from opendata.store import search as store_search

blp = Blueprint(
    "search",
    __name__,
    description="Search the datasets by words, in Indonesian or English, with facets",
)

PAGE_SIZE = 20  #: hits per page by default
MAX_PAGE_SIZE = 100
MAX_QUESTION = 200  #: characters of ``q``: more than any title, and a bound on the work
#: a letter or a digit (any script): a question needs one
_A_WORD = re.compile(r"[^\W_]")


class Question(ma.fields.String):
    """``q``: at least one letter or digit, at most MAX_QUESTION characters.

    The spec's pattern says the same (``[^\\W_]``: a letter or a digit, found anywhere), so a
    request the spec allows is never refused for its words.
    """

    GIVE = "words to search for, e.g. q=kemiskinan"

    def __init__(self, **kwargs):
        metadata = {"minLength": 1, "maxLength": MAX_QUESTION, "pattern": _A_WORD.pattern}
        super().__init__(metadata={**metadata, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        question = super()._deserialize(value, attr, data, **kwargs)
        if not question.strip():
            raise ma.ValidationError(f"empty; give {self.GIVE}")
        if len(question) > MAX_QUESTION:
            raise ma.ValidationError(
                f"{len(question)} characters; give at most {MAX_QUESTION}: a few words"
            )
        if not _A_WORD.search(question):
            raise ma.ValidationError(f"no letter or digit; give {self.GIVE}")
        return question


def _facet_filter(name: str, example: str, what: str) -> Codes:
    return Codes(
        give=f"{what}, e.g. {name}={example}",
        metadata={
            "description": f"Only datasets with one of these {what} (comma-separated or "
            f"repeated: `{name}=a,b` is `{name}=a&{name}=b`), as the `{name}` facet lists "
            "them. Narrows the hits and the other facets' counts, not this facet's own."
        },
    )


class SearchQueryArgs(QueryArgs):
    """The question, its filters, the language of the texts and the page."""

    q = Question(
        required=True,
        error_messages={"required": f"missing; give {Question.GIVE}"},
        metadata={
            "description": "Words to search for, in Indonesian or English (`kemiskinan`, "
            "`poverty rate`), at most 200 characters. Case and accents do not matter; a "
            "dataset must have every word (in a title, a tag, an indicator's name or a "
            "description), each word of 3 letters or more as the beginning of one of its "
            "words (`miskin` finds `miskinnya`). Common words (`di`, `dan`, `menurut`, `the`, "
            "`of`) are left out. A word found nowhere is corrected to the closest word of the "
            "index, if one is close (`kemiskinnan`: `kemiskinan`), and `corrected` says so.",
            "example": "kemiskinan",
        },
    )
    source = _facet_filter("source", "bps", "sources")
    tag = _facet_filter("tag", "kemiskinan", "tags")
    level = Choices(
        choices=LEVELS,
        what="level",
        give=f"region levels, e.g. level=regency ({', '.join(LEVELS)})",
        metadata={
            "description": "Only datasets with figures for regions of one of these levels "
            f"({', '.join(f'`{level}`' for level in LEVELS)}). Narrows the hits and the other "
            "facets' counts, not this facet's own."
        },
    )
    frequency = _facet_filter("frequency", "annual", "frequencies")
    lang = languages.lang_field()
    cursor = Text(
        give="the cursor of a page's next link",
        metadata={"description": "Where the page starts: from the `next` link of a page."},
    )
    limit = Count(
        give="a number of datasets, e.g. limit=10",
        metadata={
            "description": f"Datasets per page: {PAGE_SIZE} by default, at most "
            f"{MAX_PAGE_SIZE}, in ASCII digits (`0`-`9`) only.",
            "default": PAGE_SIZE,
            "maximum": MAX_PAGE_SIZE,
        },
    )

    @ma.validates("limit")
    def _at_most_max(self, value: int, data_key: str) -> None:
        if value > MAX_PAGE_SIZE:
            raise ma.ValidationError(f"at most {MAX_PAGE_SIZE} datasets per page")


class SearchSourceSchema(ma.Schema):
    """Where a dataset comes from."""

    id = ma.fields.String(required=True, metadata={"description": "The harvester, e.g. `bps`."})
    title = ma.fields.String(required=True)


class SearchLinksSchema(ma.Schema):
    """The dataset's metadata and its observations."""

    self = ma.fields.String(required=True)
    observations = ma.fields.String(required=True)


class SearchHitSchema(ma.Schema):
    """A dataset found."""

    id = ma.fields.String(required=True)
    title = ma.fields.String(
        required=True, metadata={"description": "In the language asked for (`lang`)."}
    )
    description = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "In the language asked for (`lang`); null if it has none."},
    )
    source = ma.fields.Nested(SearchSourceSchema, required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    frequency = ma.fields.String(required=True, allow_none=True)
    levels = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The levels of the regions it has figures for."},
    )
    score = ma.fields.Float(
        required=True,
        metadata={
            "description": "How well it matches, higher first: per word, 8 for a title, 5 for "
            "a tag, 3 for an indicator's name, 1 for a description (0.6 of that for the "
            "beginning of a word), plus the share of a title's words that were asked for."
        },
    )
    matched = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The names of its indicators that have a word asked for."},
    )
    links = ma.fields.Nested(SearchLinksSchema, required=True)


class FacetValueSchema(ma.Schema):
    """A value of a facet and how many datasets found have it."""

    value = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)


class FacetsSchema(ma.Schema):
    """Each facet's values, most datasets first.

    A facet's counts are over the datasets the question found narrowed by every filter but the
    facet's own: picking another value of a facet shows how many datasets that would add.
    """

    source = ma.fields.List(ma.fields.Nested(FacetValueSchema), required=True)
    tag = ma.fields.List(ma.fields.Nested(FacetValueSchema), required=True)
    level = ma.fields.List(ma.fields.Nested(FacetValueSchema), required=True)
    frequency = ma.fields.List(ma.fields.Nested(FacetValueSchema), required=True)


class SearchPageSchema(ma.Schema):
    """A page of the datasets found, best first."""

    query = ma.fields.String(required=True, metadata={"description": "`q` as given."})
    corrected = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The words searched for instead, when a word of `q` was found "
            'nowhere and was corrected ("showing results for ..."); else null.'
        },
    )
    total = ma.fields.Integer(required=True, metadata={"description": "Datasets found, in all."})
    data = ma.fields.List(ma.fields.Nested(SearchHitSchema), required=True)
    facets = ma.fields.Nested(FacetsSchema, required=True)
    next = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The next page, or null on the last one."},
    )


def _digest(question: str, filters: dict[str, frozenset[str]]) -> str:
    canonical = json.dumps(
        [store_search.query_terms(question), sorted((k, sorted(v)) for k, v in filters.items())]
    )
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def _position(cursor: str) -> tuple[int, object]:
    """The offset and digest of a search cursor; ValueError if it is none."""
    offset, digest = unpack(cursor)
    if type(offset) is not int or not 1 <= offset <= MAX_ID:
        raise ValueError("not an offset")
    return offset, digest


def _item(hit: store_search.SearchHit, lang: str) -> dict:
    return {
        "id": hit.id,
        "title": languages.text(hit.title, lang),
        "description": languages.text(hit.description, lang) or None,
        "source": {"id": hit.source, "title": hit.source_title},
        "tags": list(hit.tags),
        "frequency": hit.frequency,
        "levels": list(hit.levels),
        "score": hit.score,
        "matched": list(hit.matched),
        "links": {
            "self": link("datasets.DatasetDetail", dataset_id=hit.id),
            "observations": link("observations.ObservationList", dataset_id=hit.id),
        },
    }


@blp.route("/search")
class Search(MethodView):
    @blp.versioned(lang=True)
    @blp.arguments(SearchQueryArgs, location="query")
    @blp.response(
        200,
        SearchPageSchema,
        headers={"Link": LINK_HEADER},
    )
    def get(self, args):
        """Search the datasets

        Over dataset titles (Indonesian and English), tags, descriptions and the names and
        definitions of their indicators; best matches first, with facet counts (`source`,
        `tag`, `level`, `frequency`) and filters of the same names. Follow `next` (or the
        `Link` header) for more; the cursor is bound to `q` and the filters.
        """
        filters = {facet: frozenset(args[facet]) for facet in store_search.FACETS if facet in args}
        digest = _digest(args["q"], filters)
        offset = checked(_position, args["cursor"], digest) if args.get("cursor") else 0
        limit = args.get("limit") or PAGE_SIZE
        query = store_search.SearchQuery(args["q"], filters, limit=limit, offset=offset)
        result = store_search.search(connection(), query)
        next_url = None
        if offset + limit < result.total:
            next_url = next_link(pack([offset + limit, digest]))
        lang = languages.language()
        page = {
            "query": args["q"],
            "corrected": result.corrected,
            "total": result.total,
            "data": [_item(hit, lang) for hit in result.hits],
            "facets": {
                facet: [{"value": value, "count": count} for value, count in values]
                for facet, values in result.facets.items()
            },
            "next": next_url,
        }
        return page, {"Link": f'<{next_url}>; rel="next"'} if next_url else {}

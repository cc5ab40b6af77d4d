"""The language of titles and descriptions: ``lang=id|en``, else ``Accept-Language``, else ``id``.

The catalog gives a dataset's title and description in Indonesian and, where there is one, in
English (``{"id": ..., "en": ...}``). Formats that hold one text (a workbook's metadata sheet,
a JSON-stat label, a Data Package title, a dataset's ``label``) take it in the language asked
for, and the other one where it lacks that language. Region names, dimension and indicator
labels are the sources' own, in Indonesian only: ``lang`` leaves them as they are.

``lang=`` wins over ``Accept-Language`` (a link is the same for everyone it is passed to); a
response whose text the header chose says so with ``Content-Language`` and ``Vary:
Accept-Language``, and its ETag and cache entry are those of that language.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Response, request

from opendata.api.fields import Text

#: the languages of the catalog's texts, the first the default
LANGUAGES = ("id", "en")

LANG_DESCRIPTION = (
    "The language of titles and descriptions: `id` (Indonesian, the default) or `en` "
    "(English), each falling back to the other where a text lacks it. Without it, "
    "`Accept-Language` chooses (`en-US,en;q=0.9` is English). Region names and the sources' "
    "labels are in Indonesian only."
)


def lang_field() -> Text:
    """The ``lang`` query parameter (a field of each schema that serves titles)."""
    return Text(
        give="id or en",
        pattern="id|en",
        error="use id (Indonesian) or en (English)",
        metadata={"description": LANG_DESCRIPTION, "enum": list(LANGUAGES)},
    )


def language() -> str:
    """The language of this request: its ``lang``, else the best of ``Accept-Language``."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=LANGUAGES[0])


def variant() -> str:
    """What the language adds to a cache key and ETag beyond the URL: the language that
    ``Accept-Language`` chose, when no ``lang=`` did and it is not the default ("" when the
    URL says it all)."""
    if "lang" in request.args or "Accept-Language" not in request.headers:
        return ""
    chosen = language()
    return "" if chosen == LANGUAGES[0] else chosen


def text(texts: Mapping[str, str] | None, lang: str | None = None) -> str:
    """``texts`` in ``lang`` (this request's by default), else in the other language, else ""."""
    if not texts:
        return ""
    lang = lang or language()
    return texts.get(lang) or next((texts[other] for other in LANGUAGES if texts.get(other)), "")


def stamp(response: Response) -> Response:
    """Say which language the response is in, and that ``Accept-Language`` may change it."""
    response.headers["Content-Language"] = language()
    if "lang" not in request.args:
        response.vary.add("Accept-Language")
    return response

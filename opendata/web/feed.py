"""A dataset's Atom feed: one entry a harvest that changed its figures (new periods, revised or
withdrawn figures), newest first, each naming the first figures it changed. Written with
feedgen, so that a newsroom's feed reader gets a valid Atom 1.0 document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from sqlalchemy import Connection

from opendata.api import lang as languages
from opendata.store import queries
from opendata.store.run_log import RunQuery, list_runs
from opendata.web.i18n import number, word

#: the harvests a feed lists, and the changed figures an entry names
ENTRIES = 20
FIGURES = 12
#: the positions of a change row (ObservationRow's, then change and updated_at)
_CHANGE = 11


def _aware(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _changes(conn: Connection, dataset_id: str, run_id: int) -> list[tuple]:
    """The first figures run ``run_id`` changed (added, revised, withdrawn), and maybe one more."""
    query = queries.ObservationQuery(
        dataset_id, changed_after_run=run_id - 1, changed_until_run=run_id, limit=FIGURES + 1
    )
    return queries.page_of_observations(conn, query)


def dataset_feed(
    conn: Connection, info: queries.DatasetInfo, page: str, self_url: str, lang: str
) -> bytes:
    """The feed's XML: ``page`` the dataset page's URL, ``self_url`` the feed's own."""
    from feedgen.feed import FeedGenerator  # it brings lxml: not at a web worker's start

    title = languages.text(info.title, lang)
    runs = [
        run
        for run in list_runs(conn, RunQuery(info.id, ("ok",), limit=ENTRIES * 5))
        if run.added or run.changed or run.withdrawn
    ][:ENTRIES]
    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(word("feed_title", lang, title=title))
    feed.subtitle(languages.text(info.description, lang) or title)
    feed.link(href=page, rel="alternate", type="text/html")
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.language(lang)
    feed.author({"name": info.attribution or info.source.title})
    if info.license:
        feed.rights(info.license)
    feed.updated(_aware(runs[0].finished_at if runs else info.data_changed_at))
    for run in runs:
        entry = feed.add_entry(order="append")
        entry.id(f"{self_url}#run-{run.id}")
        counts = word(
            "feed_entry", lang, added=run.added, changed=run.changed, withdrawn=run.withdrawn
        )
        entry.title(f"{title}: {counts}")
        entry.link(href=page, rel="alternate", type="text/html")
        entry.updated(_aware(run.finished_at))
        entry.published(_aware(run.finished_at))
        rows = _changes(conn, info.id, run.id)
        items = [
            f"<li>{escape(row[1])}, {escape(row[2])}: {escape(number(row[6], lang) or '–')}"
            f"{' ' + escape(row[7]) if row[7] and row[6] else ''} ({escape(row[_CHANGE])})</li>"
            for row in rows[:FIGURES]
        ]
        total = run.added + run.changed + run.withdrawn
        if total > len(items):
            items.append(f"<li>{escape(word('more', lang, count=total - len(items)))}</li>")
        entry.content(f"<p>{escape(counts)}</p><ul>{''.join(items)}</ul>", type="html")
    return feed.atom_str(pretty=True)

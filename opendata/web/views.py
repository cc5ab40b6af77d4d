"""The web catalog's pages: home, search, a dataset, its embed and feed, a region.

Server-rendered (Jinja), readable and downloadable without JavaScript; cached and tagged as the
API is (``versioned``: an ETag from the data version, the run log, the freshness clock and the
language). Views read the store through the same functions as the API, and never write.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, render_template, request
from flask.views import MethodView

from opendata import downloads
from opendata.api import lang as languages
from opendata.api.base import Blueprint
from opendata.api.context import connection, dataset_meta, freshness, region_index
from opendata.api.datapackage import absolute
from opendata.api.links import link
from opendata.exceptions import UnknownRegion
from opendata.filters import (
    FilterError,
    UnknownDataset,
    check_dimensions,
    resolve_regions,
    split_codes,
)
from opendata.regions import LEVELS
from opendata.store import queries
from opendata.web import feed, figures
from opendata.web.charts import bar_chart, line_chart, sparkline
from opendata.web.i18n import WORDS, moment, number, word

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

#: what a page may load: its own origin only (no CDN, no font service, no inline script)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
#: the embed is meant for other sites' pages
EMBED_CSP = CSP.replace("frame-ancestors 'self'", "frame-ancestors *")


def _lang() -> str:
    return languages.language()


def page_url(endpoint: str, params=(), **values) -> str:
    """A page's URL keeping the reader's ``lang=`` choice (a link as the API's: relative, or
    on OPENDATA_PUBLIC_URL, never on a forged forwarded prefix)."""
    query = list(params)
    if "lang" in request.args:
        query.append(("lang", request.args["lang"]))
    return link(endpoint, urlencode(query, safe=","), **values)


def switch_language_url() -> str:
    """This page in the other language."""
    other = "id" if _lang() == "en" else "en"
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    query.append(("lang", other))
    if request.endpoint is None or request.endpoint == "static":  # an error page of no page
        return link("web.Home", urlencode([("lang", other)]))
    return link(request.endpoint, urlencode(query, safe=","), **(request.view_args or {}))


@blp.app_context_processor
def _helpers():
    lang = _lang()
    return {
        "lang": lang,
        "w": lambda key, **values: word(key, lang, **values),
        "num": lambda text: number(text, lang),
        "when": lambda value: moment(value, lang),
        "page_url": page_url,
        "link": link,
        "switch_language_url": switch_language_url,
        "text": languages.text,
    }


@blp.after_app_request
def _page_headers(response: Response) -> Response:
    if request.blueprint == "web" and response.mimetype == "text/html":
        embed = request.endpoint == "web.DatasetEmbed"
        response.headers["Content-Security-Policy"] = EMBED_CSP if embed else CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def page_error(status: int, detail: str) -> Response | None:
    """The error page of a page's request (None for the API's, which get problems)."""
    path = request.path
    api = path.startswith(("/api/", "/openapi", "/docs", "/healthz", "/readyz"))
    if api or (request.blueprint != "web" and not request.accept_mimetypes.accept_html):
        return None
    if request.blueprint == "web" and path.endswith(".atom"):
        return None
    key = {404: "not_found", 400: "bad_request"}.get(status)
    title = word(key, _lang()) if key else str(status)
    html = render_template("error.html", status=status, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html")


def _html(template: str, **context) -> Response:
    return Response(render_template(template, **context), mimetype="text/html")


# -- home ---------------------------------------------------------------------------------------


@blp.route("/")
class Home(MethodView):
    @blp.versioned(runs=True, fresh=True, lang=True)
    def get(self):
        """The search box, the datasets by topic with their freshness, Kalsel's regions."""
        lang = _lang()
        datasets = queries.list_datasets(connection())
        states = freshness()
        topics: dict[str, list] = {}
        for info in sorted(datasets, key=lambda d: languages.text(d.title, lang).lower()):
            name = figures.topic(info.tags, lang) or word("other", lang)
            state = states.get(info.id)
            topics.setdefault(name, []).append((info, state.state if state else "never"))
        index = region_index()
        kalsel = index.get(figures.KALSEL)
        regions = [r for r in index.children(figures.KALSEL) if r.level == "regency"]
        return _html(
            "home.html",
            topics=sorted(topics.items()),
            kalsel=kalsel,
            regions=regions,
            count=len(datasets),
        )


# -- a dataset ----------------------------------------------------------------------------------


def _selection(dataset_id: str, info: queries.DatasetInfo) -> figures.Selection:
    """The reader's choice from the query string, or the defaults; FilterError if bad."""
    meta = dataset_meta(dataset_id)
    args = request.args
    if args.get("region"):
        codes = split_codes(args.getlist("region"))
        regions = resolve_regions(region_index(), codes)
    else:
        regions = figures.default_regions(region_index(), meta.regions)
    chosen = figures.default_dimensions(meta.dimensions)
    wanted = {key[len("dim.") :]: [value] for key, value in args.items() if key.startswith("dim.")}
    check_dimensions(meta.dimensions, wanted, dataset_id)
    chosen.update({slug: codes[0] for slug, codes in wanted.items()})
    selection = figures.Selection(list(dict.fromkeys(regions)), chosen)
    codes = [i.code for i in info.indicators]
    indicator = args.get("indicator")
    if indicator is not None and indicator not in codes:
        raise FilterError("indicator", f"the dataset's indicators are {', '.join(codes)}")
    if len(codes) > 1:
        selection.indicator = indicator or codes[0]
    for name, choices in (("kind", figures.KINDS), ("chart", ("line", "bar"))):
        value = args.get(name)
        if value is not None and value not in choices:
            raise FilterError(name, f"use one of {', '.join(choices)}")
        setattr(selection, name, value)
    selection.period = args.get("period")
    return selection


def _dataset_context(dataset_id: str) -> dict:
    conn = connection()
    info = queries.get_dataset(conn, dataset_id)
    if info is None:
        raise UnknownDataset(f"no dataset {dataset_id} has been harvested")
    lang = _lang()
    selection = _selection(dataset_id, info)
    indicator_of = queries.series_indicators(conn, dataset_id)
    shown = figures.chosen_figures(
        conn, dataset_id, selection, lambda t: number(t, lang), indicator_of
    )
    chart_type = selection.chart or ("line" if len(shown.periods) > 1 else "bar")
    title = languages.text(info.title, lang)
    units = ", ".join(shown.units)
    label = f"{title} ({units})" if units else title
    if chart_type == "line":
        svg = line_chart(shown.lines, shown.periods, label, lambda t: number(t, lang))
    else:
        label = f"{label}, {shown.bar_period}"
        svg = bar_chart(shown.bars, label, lambda t: number(t, lang))
    return {
        "info": info,
        "title": title,
        "description": languages.text(info.description, lang),
        "selection": selection,
        "shown": shown,
        "chart_type": chart_type,
        "chart": svg,
        "meta": dataset_meta(dataset_id),
        "index": region_index(),
    }


def _api_links(
    dataset_id: str, selection: figures.Selection, shown: figures.Figures
) -> dict[str, str]:
    """The API's URL of each format, for exactly the regions, breakdowns and periods shown."""
    params = selection.api_params()
    if len(shown.kinds) > 1:  # the chart shows one frequency of several
        params.append(("frequency", shown.kind))

    def api(endpoint: str, extra=()) -> str:
        return link(endpoint, urlencode([*params, *extra], safe=","), dataset_id=dataset_id)

    observations = "observations.ObservationList"
    return {
        "csv": api("observations.ObservationCsv"),
        "excel_csv": api("observations.ObservationCsv", [("profile", "excel-id")]),
        "xlsx": api("xlsx.ObservationXlsx"),
        "wide": api("observations.ObservationCsv", [("layout", "wide")]),
        "jsonstat": api("jsonstat.ObservationJsonStat"),
        "sdmx": api(observations, [("format", "sdmx-ml")]),
        "sdmx_csv": api(observations, [("format", "sdmx-csv")]),
        "datapackage": api("datapackage.DataPackage"),
        "json": api(observations),
    }


@blp.route("/datasets/<dataset_id>")
class DatasetPage(MethodView):
    # not kept in the response cache, which is keyed by path: its snippets' absolute URLs are
    # on the Host the request came to (unless OPENDATA_PUBLIC_URL is set), as the Data Package's
    @blp.versioned(keep=False, runs=True, fresh=True, lang=True)
    def get(self, dataset_id):
        """A dataset: what it is, a chart and table of the chosen figures, their downloads."""
        context = _dataset_context(dataset_id)
        selection = context["selection"]
        links = _api_links(dataset_id, selection, context["shown"])
        api_url = absolute(links["json"])
        embed_url = absolute(
            page_url("web.DatasetEmbed", selection.page_params(), dataset_id=dataset_id)
        )
        state = freshness().get(dataset_id)
        regions = sorted(
            (context["index"].get(code) for code in context["meta"].regions),
            key=lambda r: (r.code != figures.KALSEL, r.code),
        )
        return _html(
            "dataset.html",
            **context,
            links=links,
            api_url=api_url,
            embed_url=embed_url,
            freshness=state,
            regions=[r for r in regions if r is not None],
            checksum=downloads.current_csv(connection(), dataset_id),
            achievement=_achievement(context["info"], selection),
        )


def _achievement(info: queries.DatasetInfo, selection: figures.Selection) -> list[tuple]:
    """The achievement of the regions shown: of this dataset's targets for a set of plan
    targets, else of each set of targets of its figures: ``[(target set, rows)]``."""
    from opendata.api import achievement
    from opendata.store import targets

    sets = [(info.id, info.title)] if info.target is not None else []
    sets += [(of.dataset_id, of.title) for of in info.targets]
    found = []
    for dataset_id, title in sets:
        try:
            plan = achievement.plan(dataset_id)
        except UnknownDataset:  # a target set not harvested yet, or whose actual is not
            continue
        query = queries.ObservationQuery(dataset_id, selection.regions, limit=figures.MAX_ROWS)
        rows = achievement.assess_rows(
            connection(), plan, targets.page_of_targets(connection(), query)
        )
        if rows:
            series = queries.series_dimensions(connection(), dataset_id)
            labels = {
                row.series_id: " · ".join(
                    label for _code, label in series.get(row.series_id, {}).values()
                )
                for row in rows
            }
            found.append((dataset_id, title, [(row, labels[row.series_id]) for row in rows]))
    return found


@blp.route("/datasets/<dataset_id>/embed")
class DatasetEmbed(MethodView):
    @blp.versioned(runs=True, lang=True)
    def get(self, dataset_id):
        """The chart alone, with its title and source: for an ``<iframe>`` on another site."""
        context = _dataset_context(dataset_id)
        page = page_url(
            "web.DatasetPage", context["selection"].page_params(), dataset_id=dataset_id
        )
        return _html("embed.html", **context, page=page)


@blp.route("/datasets/<dataset_id>/feed.atom")
class DatasetFeed(MethodView):
    @blp.versioned(keep=False, runs=True, lang=True)  # absolute URLs, as the dataset page
    def get(self, dataset_id):
        """New periods and revised figures, one entry a harvest that changed the data."""
        conn = connection()
        info = queries.get_dataset(conn, dataset_id)
        if info is None:
            raise UnknownDataset(f"no dataset {dataset_id} has been harvested")
        page = absolute(page_url("web.DatasetPage", dataset_id=dataset_id))
        body = feed.dataset_feed(conn, info, page, absolute(request.full_path.rstrip("?")), _lang())
        return Response(body, mimetype="application/atom+xml")


# -- a region -----------------------------------------------------------------------------------


@blp.route("/regions/<code>")
class RegionPage(MethodView):
    @blp.versioned(runs=True, fresh=True, lang=True)
    def get(self, code):
        """A region in figures: each dataset's latest figure, its trend, its parent and children."""
        index = region_index()
        region = index.resolve(code)
        if region is None:
            raise UnknownRegion(f"no region has the code {code}")
        lang = _lang()
        conn = connection()
        latest = []
        for info in queries.list_datasets(conn):
            if region.code not in dataset_meta(info.id).regions:
                continue
            found = figures.latest_for_region(conn, info, region.code, lambda t: number(t, lang))
            if found is not None:
                spark = sparkline(
                    found.recent, f"{languages.text(info.title, lang)}: {found.label}"
                )
                latest.append((info, found, spark))
        latest.sort(key=lambda item: languages.text(item[0].title, lang).lower())
        return _html(
            "region.html",
            region=region,
            parent=index.get(region.parent) if region.parent else None,
            children=index.children(region.code),
            latest=latest,
        )


# -- search -------------------------------------------------------------------------------------


@blp.route("/search")
class SearchPage(MethodView):
    @blp.versioned(lang=True)
    def get(self):
        """The API's search (typos tolerated), with its facets, as a page."""
        from opendata.store import search as store_search

        q = (request.args.get("q") or "").strip()
        if len(q) > MAX_QUESTION:
            raise FilterError("q", f"at most {MAX_QUESTION} characters")
        filters = {
            facet: frozenset(split_codes(request.args.getlist(facet), facet, "a value"))
            for facet in store_search.FACETS
            if request.args.get(facet)
        }
        unknown = filters.get("level", frozenset()) - set(LEVELS)
        if unknown:
            raise FilterError("level", f"use one of {', '.join(LEVELS)}")
        page = request.args.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= MAX_PAGE:
            raise FilterError("page", f"a page number from 1 to {MAX_PAGE}")
        offset = (int(page) - 1) * RESULTS
        query = store_search.SearchQuery(q, filters, limit=RESULTS, offset=offset)
        found = store_search.search(connection(), query) if q else None
        return _html(
            "search.html",
            q=q,
            found=found,
            filters=filters,
            page=int(page),
            pages=0 if found is None else -(-found.total // RESULTS),
            facet_url=_facet_url,
            facet_label=_facet_label,
            page_of=_page_url,
        )


#: results a search page shows, the pages it goes to, and the longest question
RESULTS = 20
MAX_PAGE = 50
MAX_QUESTION = 200


def _facet_url(facet: str, value: str) -> str:
    """This search with ``facet=value`` added, or taken away if it is there (page one)."""
    current = request.args.getlist(facet)
    chosen = {v for item in current for v in item.split(",") if v}
    chosen ^= {value}
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in (facet, "page")]
    query += [(facet, v) for v in sorted(chosen)]
    return link("web.SearchPage", urlencode(query, safe=","))


def _facet_label(facet: str, value: str) -> str:
    """A facet value in the reader's words where the pages have some (levels, frequencies)."""
    key = {"level": f"level_{value}", "frequency": value}.get(facet)
    return word(key, _lang()) if key in WORDS else value


def _page_url(number: int) -> str:
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return link("web.SearchPage", urlencode([*query, ("page", str(number))], safe=","))

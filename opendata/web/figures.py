"""What the pages show, read from the store: a dataset's chosen figures as chart lines and a
table, each region's latest figures, the datasets by topic. Nothing here writes, and nothing
here knows HTML: the templates lay it out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection

from opendata.regions import RegionIndex
from opendata.store import queries
from opendata.web.charts import Line, Mark

#: the most observations a page reads for its chart and table (a chart of more is unreadable;
#: the downloads have them all)
MAX_ROWS = 5000
#: the periods a region's sparkline shows
SPARK_PERIODS = 12
KALSEL = "6300"

#: a period's kind by its form: 2024, 2024-S1, 2024-Q3, 2024-08
KINDS = ("annual", "semiannual", "quarterly", "monthly")

#: the topic a tag names, in both languages; tags that name a source or a document are no topic
TOPICS: dict[str, tuple[str, str]] = {
    "kemiskinan": ("Kemiskinan", "Poverty"),
    "ketenagakerjaan": ("Ketenagakerjaan", "Labour"),
    "ekonomi": ("Ekonomi", "Economy"),
    "makro": ("Ekonomi", "Economy"),
    "kesejahteraan": ("Kesejahteraan", "Welfare"),
    "ipm": ("Kesejahteraan", "Welfare"),
    "ketimpangan": ("Kesejahteraan", "Welfare"),
    "tata-kelola": ("Tata kelola", "Governance"),
    "telekomunikasi": ("Tata kelola", "Governance"),
}
NOT_TOPICS = {"bappeda", "target", "lkjip", "susenas", "sakernas", "bps"}


def period_kind(period: str) -> str:
    if len(period) == 4:
        return "annual"
    return {"S": "semiannual", "Q": "quarterly"}.get(period[5], "monthly")


def decimal(text: str | None) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def topic(tags: Sequence[str], lang: str) -> str:
    """The dataset's topic: the first of its tags that names one."""
    for tag in tags:
        if tag in TOPICS:
            return TOPICS[tag][1 if lang == "en" else 0]
    for tag in tags:
        if tag not in NOT_TOPICS:
            return tag.replace("-", " ").capitalize()
    return ""


@dataclass
class Selection:
    """What the reader chose on a dataset page (or its defaults)."""

    regions: list[str]
    dimensions: dict[str, str]  #: dimension id -> one value code
    indicator: str | None = None  #: for a dataset of several indicators
    kind: str | None = None  #: the periods' kind: annual, semiannual, quarterly, monthly
    chart: str | None = None  #: line or bar
    period: str | None = None  #: the bar chart's period

    def api_params(self) -> list[tuple[str, str]]:
        """The API's filters for exactly these regions and breakdowns."""
        params = [("region", ",".join(self.regions))] if self.regions else []
        params.extend((f"dim.{slug}", code) for slug, code in self.dimensions.items())
        return params

    def page_params(self) -> list[tuple[str, str]]:
        """The page's own parameters for this choice (the embed and its links keep them)."""
        params = self.api_params()
        for name in ("indicator", "kind", "chart", "period"):
            value = getattr(self, name)
            if value:
                params.append((name, value))
        return params


def default_regions(index: RegionIndex, with_data: frozenset[str]) -> list[str]:
    """Kalimantan Selatan and its regencies where the dataset has them; else its first
    regions (a national table without Kalsel's: the first ten it has)."""
    kalsel = [KALSEL, *(r.code for r in index.children(KALSEL) if r.level == "regency")]
    chosen = [code for code in kalsel if code in with_data]
    if KALSEL in with_data and "0000" in with_data and len(chosen) == 1:
        chosen.insert(0, "0000")  # a table by province: Kalsel beside Indonesia
    return chosen or sorted(with_data)[:10]


def default_dimensions(dimensions: Sequence[queries.DimensionInfo]) -> dict[str, str]:
    """Each dimension's total where it has one, else its first value."""
    chosen = {}
    for dim in dimensions:
        totals = [code for code, _label, is_total in dim.values if is_total]
        if dim.values:
            chosen[dim.slug] = totals[0] if totals else dim.values[0][0]
    return chosen


@dataclass
class Figures:
    """The chosen figures of a dataset, as the chart and the table show them."""

    lines: list[Line]
    periods: list[str]  #: the chart's periods, in order
    kinds: list[str]  #: the kinds of period the choice has (the reader may switch)
    kind: str | None
    rows: int  #: observations read
    total: int | None  #: how many the choice has, when more than were read
    flags: dict[str, set[str]] = field(default_factory=dict)  #: period+line -> flags
    units: list[str] = field(default_factory=list)
    table: list[tuple[str, list[tuple[str, str | None]]]] = field(default_factory=list)
    bar_period: str | None = None
    bars: list[tuple[str, Mark]] = field(default_factory=list)


def chosen_figures(
    conn: Connection,
    dataset_id: str,
    selection: Selection,
    number,
    indicator_of: Mapping[int, str],
) -> Figures:
    """Read the observations of ``selection`` (at most MAX_ROWS) and lay them out."""
    query = queries.ObservationQuery(
        dataset_id,
        selection.regions,
        dimensions={slug: [code] for slug, code in selection.dimensions.items()},
        limit=MAX_ROWS + 1,
    )
    rows = [
        row
        for row in queries.page_of_observations(conn, query)
        if selection.indicator is None or indicator_of.get(row[3]) == selection.indicator
    ]
    more = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    kinds_seen = Counter(period_kind(row[2]) for row in rows)
    kinds = [k for k in KINDS if k in kinds_seen]
    kind = selection.kind if selection.kind in kinds_seen else None
    if kind is None and kinds_seen:
        kind = kinds_seen.most_common(1)[0][0]
    rows = [row for row in rows if period_kind(row[2]) == kind]
    # in the stable order (region, series, period): periods sorted by their start and end
    spans = {row[2]: (str(row[4]), str(row[5])) for row in rows}
    periods = sorted(spans, key=spans.get)
    series: dict[int, dict[str, tuple]] = defaultdict(dict)
    names: dict[int, str] = {}
    for row in rows:
        series[row[3]][row[2]] = row
        names[row[3]] = row[1]
    order = {code: i for i, code in enumerate(selection.regions)}
    ordered = sorted(series, key=lambda sid: order.get(next(iter(series[sid].values()))[0], 0))
    lines, table = [], []
    units = sorted({row[7] for row in rows if row[7]})
    for sid in ordered:
        cells = series[sid]
        marks = []
        for period in periods:
            row = cells.get(period)
            text = number(row[6]) if row is not None else ""
            if row is not None and row[8]:
                text = f"{text} ({row[8]})" if text else f"({row[8]})"
            marks.append(Mark(decimal(row[6]) if row is not None else None, text))
        lines.append(Line(names[sid], marks))
        table.append((names[sid], [(m.text, None) for m in marks]))
    figures = Figures(
        lines, periods, kinds, kind, len(rows), None if not more else -1, units=units, table=table
    )
    if periods:
        bar_period = selection.period if selection.period in spans else _fullest(series, periods)
        figures.bar_period = bar_period
        index = periods.index(bar_period)
        figures.bars = [(line.label, line.marks[index]) for line in lines]
    return figures


def _fullest(series: Mapping[int, Mapping[str, tuple]], periods: Sequence[str]) -> str:
    """The latest period that the most lines have a figure for (the bar chart's default)."""
    counts = Counter(p for cells in series.values() for p, row in cells.items() if row[6])
    return max(reversed(periods), key=lambda p: counts.get(p, 0))


@dataclass(frozen=True)
class Latest:
    """A dataset's latest figure for a region, the one before it and its last few."""

    dataset_id: str
    title: str
    label: str  #: the indicator and breakdown the figure is of
    period: str
    text: str
    unit: str | None
    trend: str | None  #: up, down, same, or None with no earlier figure
    recent: tuple[Decimal | None, ...]
    params: tuple[tuple[str, str], ...]  #: the dataset page's filters for this region


def latest_for_region(
    conn: Connection, info: queries.DatasetInfo, region: str, number
) -> Latest | None:
    """The latest figure of the dataset's headline series (first indicator, each dimension's
    total) for ``region``, or None if the dataset has none."""
    dimensions = queries.dataset_dimensions(conn, info.id)
    chosen = default_dimensions(dimensions)
    selection = Selection([region], chosen)
    indicator_of = queries.series_indicators(conn, info.id)
    first = next(iter(sorted(set(indicator_of.values()))), None) if indicator_of else None
    if len(set(indicator_of.values())) > 1:
        selection.indicator = first
    figures = chosen_figures(conn, info.id, selection, number, indicator_of)
    if not figures.lines:
        return None
    line = figures.lines[0]
    present = [(p, m) for p, m in zip(figures.periods, line.marks, strict=True) if m.value]
    if not present:
        return None
    period, mark = present[-1]
    trend = None
    if len(present) > 1:
        before = present[-2][1].value
        trend = "up" if mark.value > before else "down" if mark.value < before else "same"
    labels = [
        label
        for dim in dimensions
        for code, label, _total in dim.values
        if chosen.get(dim.slug) == code and len(dim.values) > 1
    ]
    indicator = next((i.name for i in info.indicators if i.code == selection.indicator), None)
    return Latest(
        info.id,
        "",
        " · ".join([*(x for x in [indicator] if x), *labels]),
        period,
        mark.text,
        figures.units[0] if figures.units else None,
        trend,
        tuple(m.value for m in line.marks[-SPARK_PERIODS:]),
        tuple(selection.page_params()),
    )

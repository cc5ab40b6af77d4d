"""Plan targets against actual figures: which actual a target is compared with, and the capaian.

Pure: no web app, no SQL. The store hands in series and observations, the API hands out what
comes back here.

- A target cell is a figure or a range (``6,0-6,9``: stored as both ends in the published
  order); ``low``/``high`` are its smaller and larger end, multiplied by ``target.scale`` when
  the catalog declares one (the target is then in the actual's unit).
- ``better`` (lower | higher) says which way is good. A range is met at its easier end, the
  *threshold*: ``low`` where higher is better, ``high`` where lower is better.
- ``achievement`` is what Indonesian performance reports (LKjIP, LPPD) print as "% capaian":
  actual / threshold x 100 where higher is better, threshold / actual x 100 where lower is
  better, exact, rounded half up to 2 decimals; None where that divides by zero.
- ``achieved``: actual >= threshold (higher) or actual <= threshold (lower).
- Units are compared, never ignored: normalized (case, spaces, ``%`` = ``persen`` =
  ``percent``, ``rp`` = ``rupiah``), a missing unit agreeing with any; a declared ``scale``
  says the target is converted, and units are then not compared. Units that differ without a
  scale leave ``achieved`` and ``achievement`` None, and say so in a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

from opendata.model import HIGHER, LOWER, TargetSpec

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
#: significant digits of a quotient beyond its integer part (truncated, then rounded half up)
_EXTRA_DIGITS = 40

#: unit words that mean the same, by their normalized form
UNIT_EQUIVALENTS = {"persen": "%", "percent": "%", "rp": "rupiah"}
_UNIT_TOKEN = re.compile(r"[^\W_]+|[^\w\s]")


# -- the computation ----------------------------------------------------------------------------


def ends(value: Decimal, value_to: Decimal | None) -> tuple[Decimal, Decimal]:
    """(low, high) of a target figure or range, whatever order it was published in."""
    if value_to is None:
        return value, value
    return (value, value_to) if value <= value_to else (value_to, value)


def threshold(low: Decimal, high: Decimal, better: str) -> Decimal:
    """The easier end of a range: ``low`` where higher is better, ``high`` where lower is."""
    if better == HIGHER:
        return low
    if better == LOWER:
        return high
    raise ValueError(f"better must be {LOWER!r} or {HIGHER!r}, not {better!r}")


def achieved(actual: Decimal, target: Decimal, better: str) -> bool:
    """Whether ``actual`` meets the ``target`` threshold."""
    return actual >= target if better == HIGHER else actual <= target


def product(a: Decimal, b: Decimal) -> Decimal:
    """a x b exactly (the default context would round it to 28 digits)."""
    digits = len(a.as_tuple().digits) + len(b.as_tuple().digits)
    return Context(prec=digits).multiply(a, b)


def _quotient(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator, truncated far beyond 2 decimals.

    Truncated, not rounded: rounding the quotient first could carry a ...4999 up to ...5000
    before the half-up rounding to cents (double rounding); truncation never crosses a half.
    """
    digits = max(numerator.adjusted() - denominator.adjusted() + 2, 1) + _EXTRA_DIGITS
    context = Context(prec=digits, rounding=ROUND_DOWN)
    return context.divide(numerator, denominator)


def achievement(actual: Decimal, target: Decimal, better: str) -> Decimal | None:
    """The capaian in percent, 2 decimals rounded half up; None where it divides by zero."""
    numerator, denominator = (actual, target) if better == HIGHER else (target, actual)
    if denominator == 0:
        return None
    percent = _quotient(product(numerator, HUNDRED), denominator)
    context = Context(prec=max(percent.adjusted() + 3, 1) + 2, rounding=ROUND_HALF_UP)
    rounded = percent.quantize(CENT, context=context)
    return rounded.copy_abs() if rounded.is_zero() else rounded  # -0.004 is 0.00, not -0.00


def normalize_unit(unit: str) -> str:
    """``" Persen "`` -> ``"%"``, ``"Rp / kapita"`` -> ``"rupiah / kapita"``: for comparing."""
    tokens = _UNIT_TOKEN.findall(unit.casefold())
    return " ".join(UNIT_EQUIVALENTS.get(token, token) for token in tokens)


def units_agree(target_unit: str | None, actual_unit: str | None) -> bool:
    """Whether figures in these units can be compared as they are (a missing unit agrees)."""
    if not target_unit or not actual_unit:
        return True
    return normalize_unit(target_unit) == normalize_unit(actual_unit)


def text(value: Decimal | None) -> str | None:
    """A decimal as positional text, every digit kept (``7.10``; ``9.2E+6`` -> ``9200000``)."""
    return None if value is None else format(value, "f")


@dataclass(frozen=True)
class Outcome:
    """A target cell against its actual figure: the figures as texts, for writing as they are."""

    low: str | None
    high: str | None
    achieved: bool | None
    achievement: str | None  #: 2 decimals, ``80.00``


def assess(
    value: str | None,
    value_to: str | None,
    actual: str | None,
    better: str | None,
    scale: Decimal | None = None,
    comparable: bool = True,
) -> Outcome:
    """One target cell (stored texts) against ``actual``; None where nothing can be said."""
    if value is None:  # a target cell without a figure (flagged)
        return Outcome(None, None, None, None)
    low, high = ends(Decimal(value), None if value_to is None else Decimal(value_to))
    if scale is not None:
        low, high = product(low, scale), product(high, scale)
    low_text, high_text = text(low), text(high)
    if actual is None or better not in (LOWER, HIGHER) or not comparable:
        return Outcome(low_text, high_text, None, None)
    figure, goal = Decimal(actual), threshold(low, high, better)
    return Outcome(
        low_text, high_text, achieved(figure, goal, better), text(achievement(figure, goal, better))
    )


# -- which actual -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """What matching needs of a served series, of the target or the actual dataset."""

    id: int
    region: str
    indicator: str  #: its indicator's code
    unit: str | None  #: its indicator's unit
    dimensions: Mapping[str, str] = field(default_factory=dict)  #: slug -> value code


@dataclass(frozen=True)
class Match:
    """How one target series is compared: with which actual series, which way, in which unit."""

    actual: int | None  #: the actual series' id; None if there is none
    better: str | None
    comparable: bool  #: units agree, or a scale converts the target
    unit: str | None  #: what ``low``, ``high`` and the actual are in
    target_unit: str | None
    warnings: tuple[str, ...] = ()


class Matcher:
    """Match the series of a target dataset with those of its actual dataset (design: issue 8).

    - indicator: ``target.of.indicator``; else the actual dataset's only indicator; else the one
      with the target series' indicator code; else none (a warning);
    - each dimension of the actual dataset: the code ``target.of.dimensions`` names; else the
      target series' own code for a dimension of the same id; else the dimension's total
      value; else none (a warning: pick one with ``target.of.dimensions``);
    - the same region.
    ``actual_series`` is None while the actual dataset has not been harvested.
    """

    def __init__(
        self,
        target_id: str,
        spec: TargetSpec,
        actual_series: Sequence[Series] | None,
        actual_units: Mapping[str, str | None],
        actual_totals: Mapping[str, str | None],
    ):
        self.target_id, self.spec = target_id, spec
        self.harvested = actual_series is not None
        self.units = dict(actual_units)  #: indicator code -> unit, in the dataset's order
        self.totals = dict(actual_totals)  #: dimension slug -> its total value's code (or None)
        self.by_place: dict[tuple[str, str], list[Series]] = {}
        #: dimension slug -> the value codes its series have (to refuse a code it lacks)
        self.codes: dict[str, set[str]] = {slug: set() for slug in self.totals}
        for series in actual_series or ():
            self.by_place.setdefault((series.region, series.indicator), []).append(series)
            for slug, code in series.dimensions.items():
                self.codes.setdefault(slug, set()).add(code)

    def indicator(self, target_indicator: str) -> tuple[str | None, str | None]:
        """The actual indicator's code, or None and a warning saying why."""
        spec, actual = self.spec, self.spec.dataset
        if spec.indicator is not None:
            if spec.indicator in self.units:
                return spec.indicator, None
            known = ", ".join(self.units) or "none"
            return None, (
                f"{actual} has no indicator '{spec.indicator}' (target.of.indicator of "
                f"{self.target_id}; it has: {known})"
            )
        if len(self.units) == 1:
            return next(iter(self.units)), None
        if target_indicator in self.units:
            return target_indicator, None
        return None, (
            f"cannot tell which indicator of {actual} the targets of indicator "
            f"'{target_indicator}' are for (it has: {', '.join(self.units)}); name one with "
            f"target.of.indicator in the catalog entry of {self.target_id}"
        )

    def _code(self, slug: str, target: Series) -> str | None:
        """The value of the actual dimension ``slug`` to compare ``target`` with."""
        if slug in self.spec.dimensions:
            return self.spec.dimensions[slug]
        if slug in target.dimensions:
            return target.dimensions[slug]
        return self.totals.get(slug)

    def _unknown_codes(self, target: Series) -> list[str]:
        """Why ``target`` cannot be matched: a dimension or value the actual dataset lacks.

        Never compared with another figure instead (a misspelt ``target.of.dimensions`` key
        would otherwise leave the total in its place).
        """
        actual, where = self.spec.dataset, f"target.of.dimensions of {self.target_id}"
        problems = [
            f"{actual} has no dimension '{slug}' ({where}; it has: "
            f"{', '.join(self.codes) or 'none'})"
            for slug in self.spec.dimensions
            if slug not in self.codes
        ]
        for slug, codes in self.codes.items():
            code = self._code(slug, target)
            if code is not None and code not in codes:
                named = "named in " + where if slug in self.spec.dimensions else "of the target"
                problems.append(
                    f"{actual} has no value '{code}' of its dimension '{slug}' ({named}; it "
                    f"has: {', '.join(sorted(codes))}); map it with target.of.dimensions"
                )
        return problems

    def _series(self, target: Series, indicator: str) -> tuple[Series | None, list[str]]:
        warnings = self._unknown_codes(target)
        if warnings:
            return None, warnings
        for candidate in self.by_place.get((target.region, indicator), ()):
            unresolved = [s for s in candidate.dimensions if self._code(s, target) is None]
            for slug in unresolved:
                warnings.append(
                    f"cannot tell which value of the dimension '{slug}' of {self.spec.dataset} "
                    f"to compare the targets of {self.target_id} with (it has no total); pick "
                    f"one with target.of.dimensions ({{{slug}: <code>}})"
                )
            if not unresolved and all(
                self._code(slug, target) == code for slug, code in candidate.dimensions.items()
            ):
                return candidate, warnings
        return None, warnings

    def _better(self, target: Series) -> tuple[str | None, str | None]:
        better = self.spec.better_for(target.dimensions)
        if better is not None:
            return better, None
        by = self.spec.better_by
        code = target.dimensions.get(by or "")
        return None, (
            f"{self.target_id} declares no better for {by} = {code or '(none)'}: list the code "
            f"under target.better.lower or target.better.higher in its catalog entry"
        )

    def match(self, target: Series) -> Match:
        """How ``target`` (a series of the target dataset) is compared."""
        warnings: list[str] = []
        better, problem = self._better(target)
        if problem:
            warnings.append(problem)
        scale = self.spec.scale
        own = target.unit if scale is None else None  # a scaled target is in the actual's unit
        if not self.harvested:
            return Match(None, better, True, own, target.unit, tuple(warnings))
        indicator, problem = self.indicator(target.indicator)
        if indicator is None:
            warnings.append(problem or "")
            return Match(None, better, True, own, target.unit, tuple(warnings))
        actual_unit = self.units.get(indicator)
        comparable = scale is not None or units_agree(target.unit, actual_unit)
        if not comparable:
            warnings.append(
                f"the targets of {self.target_id} are in '{target.unit}' and the figures of "
                f"{self.spec.dataset} in '{actual_unit}': achievement is not computed; declare "
                f"target.scale (what a target is multiplied by to be in '{actual_unit}', 1 if "
                "the units are the same)"
            )
        series, problems = self._series(target, indicator)
        warnings += problems
        unit = actual_unit or own
        return Match(
            None if series is None else series.id,
            better,
            comparable,
            unit,
            target.unit,
            tuple(warnings),
        )


def pick_actual(
    period: str,
    start: date,
    end: date,
    candidates: Iterable[tuple],
) -> tuple | None:
    """The actual observation for a target period: the same period, else the latest within.

    ``candidates`` are an actual series' observations, ``(period, start, end, value text, ...)``
    (more positions, such as the flag and note, come back as they are); those without a figure
    do not count. "Latest" is the period that ends last, and of those the longest (a semester
    before its last month).
    """
    best, best_key = None, None
    for candidate in candidates:
        name, first, last, value = candidate[:4]
        if value is None or first < start or last > end:
            continue
        if name == period:
            return candidate
        key = (last, -first.toordinal())
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best

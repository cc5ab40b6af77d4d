"""The per-worker caches and the series lookup that survives a harvest committing mid-request."""

from __future__ import annotations

from opendata.api.context import SeriesDimensions, VersionedCache


def test_a_missing_series_is_read_again_once():
    loads = []

    def load():
        loads.append(1)
        return {1: {"sex": ("1", "Laki-laki")}, 2: {"sex": ("2", "Perempuan")}}

    series = SeriesDimensions({1: {"sex": ("1", "Laki-laki")}}, load)
    assert series.get(1) == {"sex": ("1", "Laki-laki")} and loads == []
    assert series.get(2) == {"sex": ("2", "Perempuan")} and loads == [1]
    assert series.get(3) is None and loads == [1]


def test_another_version_empties_the_cache_whatever_its_order():
    cache = VersionedCache(maxsize=10)
    cache.put("1.a", "a", "v1")
    assert cache.get("1.a", "a") == "v1"
    cache.put("2.b", "b", "v2")
    assert cache.get("1.a", "a") is None and cache.get("2.b", "b") == "v2"
    # a store restored to version 1 and harvested again reaches version 2 with another token
    cache.put("2.c", "b", "restored")
    assert cache.get("2.b", "b") is None and cache.get("2.c", "b") == "restored"
    assert len(cache) == 1


def test_the_cache_is_bounded_and_can_be_off():
    cache = VersionedCache(maxsize=2)
    for key in "abc":
        cache.put(1, key, key)
    assert len(cache) == 2 and cache.get(1, "a") is None
    off = VersionedCache(maxsize=0)
    off.put(1, "a", "a")
    assert off.get(1, "a") is None and off.get_or_make(1, "a", lambda: "made") == "made"

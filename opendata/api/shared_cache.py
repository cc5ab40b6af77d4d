"""Whole responses shared by every worker and node through Redis (``OPENDATA_REDIS_URL``).

Each worker keeps its own small cache (:class:`~opendata.api.context.VersionedCache`) in front;
behind it, Redis holds what any worker of any node has made, so a page made on one node is
served by the others without touching the store beyond reading its data state.

Keys are the request's cache key under the store's data state (``queries.data_state``: the data
version and the random token renewed with it). A harvest on any machine changes that state, so
every node reads new keys on its next request; a store restored from a backup reaches a state
it never had before (a new token), so an entry of the old one is never revived. Old entries are
never read again and expire (``OPENDATA_REDIS_TTL``; give Redis a ``maxmemory`` with an LRU
policy as well).

Redis down or slow is not an error: the worker serves from its own cache and the store, warns
once, and tries Redis again after :data:`RETRY_AFTER` seconds. Values are bytes in a format of
our own (never pickle: whoever can write to Redis must not run code in the workers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from opendata.api.context import VersionedCache

log = logging.getLogger(__name__)

#: seconds without Redis after an error, before trying again
RETRY_AFTER = 30.0
#: seconds one Redis call may take: a slow cache is worse than none
TIMEOUT = 0.25
PREFIX = "opendata:responses:"
_MAGIC = b"ODR1"


def encode(value: tuple[bytes, list[tuple[str, str]]]) -> bytes:
    """A cached response (body, headers) as bytes: magic, header JSON's length, JSON, body."""
    body, headers = value
    head = json.dumps([list(pair) for pair in headers], separators=(",", ":")).encode()
    return _MAGIC + len(head).to_bytes(4, "big") + head + body


def decode(raw: bytes) -> tuple[bytes, list[tuple[str, str]]] | None:
    """What :func:`encode` made, or None for anything else (another version's format)."""
    if not raw.startswith(_MAGIC) or len(raw) < 8:
        return None
    size = int.from_bytes(raw[4:8], "big")
    try:
        headers = [(str(k), str(v)) for k, v in json.loads(raw[8 : 8 + size])]
    except (ValueError, TypeError):
        return None
    return raw[8 + size :], headers


class SharedResponses:
    """The response cache of a worker: its own :class:`VersionedCache`, then Redis."""

    def __init__(
        self,
        local: VersionedCache,
        url: str,
        ttl: int,
        max_body: int,
        clock: Callable[[], float] = time.monotonic,
    ):
        import redis  # only where a shared cache is configured

        self.local = local
        self.ttl = ttl
        self.max_body = max_body
        self.client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
        self._errors = (redis.RedisError, OSError)
        self._clock = clock
        self._down_until = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def redis_key(version: str, key: Hashable) -> str:
        """The Redis key of ``key`` at ``version``: a digest (keys hold URLs of any length)."""
        digest = hashlib.blake2b(f"{version} {key}".encode(), digest_size=20).hexdigest()
        return PREFIX + digest

    def _usable(self) -> bool:
        return self._clock() >= self._down_until

    def _failed(self, error: Exception) -> None:
        with self._lock:
            if self._usable():
                log.warning(
                    "the shared response cache (Redis) failed: %s; serving from this worker's "
                    "cache for %.0f s",
                    error,
                    RETRY_AFTER,
                )
            self._down_until = self._clock() + RETRY_AFTER

    def get(self, version: str, key: Hashable) -> Any:
        """The response kept for ``key`` at ``version`` by this worker or any other, or None."""
        value = self.local.get(version, key)
        if value is not None or not self._usable():
            return value
        try:
            raw = self.client.get(self.redis_key(version, key))
        except self._errors as error:
            self._failed(error)
            return None
        value = decode(raw) if raw is not None else None
        if value is not None:
            self.local.put(version, key, value)
        return value

    def put(self, version: str, key: Hashable, value: Any) -> None:
        """Keep ``value`` here and, for every other worker and node, in Redis."""
        self.local.put(version, key, value)
        if not self._usable() or len(value[0]) > self.max_body:
            return
        try:
            self.client.set(self.redis_key(version, key), encode(value), ex=self.ttl)
        except self._errors as error:
            self._failed(error)

    get_or_make = VersionedCache.get_or_make  # the same: get, else make and put

    def __len__(self) -> int:
        return len(self.local)

"""Rate limiting per client (flask-limiter): a 429 problem with Retry-After past the limit.

The limit (``OPENDATA_RATE_LIMIT``, generous by default) counts requests per client address:
the socket's, or the one ``OPENDATA_PROXY_COUNT`` trusted proxies forwarded (ProxyFix runs
first). Counters live in each worker's memory, or in Redis (``OPENDATA_RATE_LIMIT_STORAGE_URL``)
so that every worker and node shares them. Loopback clients are never limited: ``make run`` on a
desktop, health checks, and a local proxy whose clients' addresses are not trusted (then nobody
is limited: set ``OPENDATA_PROXY_COUNT``).
"""

from __future__ import annotations

import ipaddress

from flask import Flask, request

from opendata.config import Settings


def _exempt() -> bool:
    """Loopback clients, the health and readiness probes and the metrics scrape are never
    limited (the probes of a load balancer come often, and from one address)."""
    if request.path in ("/healthz", "/readyz", "/metrics"):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def init_rate_limit(app: Flask, settings: Settings) -> None:
    """Limit each client to ``OPENDATA_RATE_LIMIT`` requests (none if it is empty)."""
    if not settings.RATE_LIMIT:
        return
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    Limiter(
        key_func=get_remote_address,
        app=app,
        # one budget per client across every endpoint (default_limits would count per route)
        application_limits=[settings.RATE_LIMIT],
        application_limits_exempt_when=_exempt,
        storage_uri=settings.RATE_LIMIT_STORAGE_URL or settings.REDIS_URL or "memory://",
        headers_enabled=True,  # X-RateLimit-Limit, -Remaining, -Reset, and Retry-After on a 429
        strategy="moving-window",
        # Redis down: count in memory meanwhile rather than refuse every request
        in_memory_fallback_enabled=True,
        key_prefix="opendata",
    )

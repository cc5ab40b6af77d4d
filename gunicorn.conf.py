"""Gunicorn settings of the web API (``make run``: ``gunicorn --config gunicorn.conf.py wsgi:app``).

- gthread workers: a CSV download streams for as long as it takes without the worker missing
  its heartbeat (a sync worker is killed when one request outlives ``timeout``).
- The app is loaded once before forking (fail fast, shared memory); each worker then drops the
  store connections it inherited and opens its own (``post_fork``).
- No control socket (gunicorn 27 opens one under ``~/.gunicorn/`` by default).
- Request limits above the reverse proxy's and the app's own: what gunicorn refuses it answers
  with an HTML page, what the app refuses is a problem+json (``opendata/api/limits.py``,
  ``OPENDATA_MAX_URL_LENGTH``). gunicorn caps the request line at 8190 bytes or not at all, and
  a 2,000-code ``region=`` is 10 KB: so no cap here; the proxy in front bounds the line (nginx:
  ``large_client_header_buffers``, see docs/api.md "Serving"). Never expose gunicorn directly.

``HOST`` (127.0.0.1: the proxy in front reaches it there; ``HOST=0.0.0.0`` for a container
whose proxy is outside), ``PORT`` (8000), ``WEB_CONCURRENCY`` (workers: 2 per CPU + 1) and
``GUNICORN_THREADS`` (4) tune it.
Each worker keeps its own cache of hot responses (``OPENDATA_CACHE_MB``).

- ``/metrics`` adds up every worker's counts: prometheus_client's multiprocess mode, whose
  files live in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder when it is not set; a
  given folder is emptied at start, since counts of a previous server would be added up too).
  It must be set before prometheus_client is imported, so here, before the app is loaded.
- ``OPENDATA_ACCESS_LOG_FORMAT=json``: the access log as JSON lines (``opendata/accesslog.py``).
"""

import glob
import os
import shutil
import tempfile


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers)
    except AttributeError:
        return os.cpu_count() or 1


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
timeout = 60
graceful_timeout = 30
keepalive = 5
preload_app = True
control_socket_disable = True
accesslog = "-"
limit_request_line = 0  # no cap: the proxy's applies, and the app answers over its own limit
limit_request_field_size = 16384  # one header line; nginx with the documented config sends <= 16k
limit_request_fields = 200
if os.environ.get("OPENDATA_ACCESS_LOG_FORMAT", "").strip().lower() == "json":
    logger_class = "opendata.accesslog.JsonAccessLogger"


def _metrics_dir() -> tuple[str, bool]:
    """The folder of the workers' metric files, and whether it was made here (then removed)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        return folder, False
    folder = tempfile.mkdtemp(prefix="opendata-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder  # the workers inherit it
    return folder, True


METRICS_DIR, _METRICS_DIR_MADE = _metrics_dir()


def on_starting(server):
    """Start counting from zero: drop the metric files a previous server left."""
    os.makedirs(METRICS_DIR, exist_ok=True)
    for path in glob.glob(os.path.join(METRICS_DIR, "*.db")):
        os.remove(path)


def child_exit(server, worker):
    """Tell prometheus_client a worker is gone (its counts stay in the totals)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, METRICS_DIR)


def on_exit(server):
    """Remove the metrics folder if it was made for this server."""
    if _METRICS_DIR_MADE:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)


def post_fork(server, worker):
    """Give the worker a connection pool of its own: the forked one belongs to the arbiter."""
    server.app.wsgi().extensions["opendata"].engine.dispose(close=False)

"""Gunicorn settings of the naive reference app: the project's ``gunicorn.conf.py`` as it is.

The same worker class, workers, threads, timeouts, keep-alive and access log, read from the
project's file, so that the two apps always run under the same settings; only its ``post_fork``
hook is left out (it disposes our app's store engine, which the naive app does not have).
"""

import runpy
from pathlib import Path

_OURS = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
# gunicorn reads the settings as this module's names (and ignores names that are no setting)
globals().update({k: v for k, v in _OURS.items() if not k.startswith("_") and k != "post_fork"})

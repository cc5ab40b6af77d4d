"""The store: the only writer of the normalized data, and the read queries the API uses."""

from opendata.store.engine import make_engine, upgrade

__all__ = ["make_engine", "upgrade"]

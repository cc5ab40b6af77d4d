"""Errors of the application package, each saying what to change.

An error quotes what it was given (``no region has the code '6399'``) through :func:`echo`, which
cuts long input short: a 100 KB parameter must not come back whole in an error, a log line or
an API problem.
"""

#: the most characters of someone's input an error message quotes
ECHO_LIMIT = 200


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with an ellipsis."""
    return clip(repr(value), limit)


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis if it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OpendataError(Exception):
    """Base class of the errors this package raises on purpose."""


class ConfigurationError(OpendataError):
    """A setting or a catalog file is wrong; the message names it and what to change."""


class CatalogError(ConfigurationError):
    """A dataset file of the catalog does not follow the contract."""


class PeriodError(OpendataError, ValueError):
    """A period text is not one of ``YYYY``, ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-Sn``."""


class LockHeld(OpendataError):
    """Another harvest run holds the store's harvest lock."""


class UnknownRegion(OpendataError, LookupError):
    """No region has this code in any code system."""

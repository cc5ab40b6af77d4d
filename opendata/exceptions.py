"""Errors of the application package, each saying what to change."""


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

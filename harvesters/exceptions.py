"""Errors of harvesters. Each fails that dataset's harvest run loudly; its message says why."""


class HarvestError(Exception):
    """A harvest of one dataset failed; the served data stays as it was."""


class UpstreamError(HarvestError):
    """The source answered with an error (bad key, firewall block, 5xx after retries, ...)."""


class HarvestTimeout(UpstreamError):
    """A dataset's fetch passed its deadline (``OPENDATA_HARVEST_DATASET_TIMEOUT``)."""


class ParseError(HarvestError):
    """A payload does not have the shape the harvester knows (or is ambiguous)."""


class SourceConfigurationError(HarvestError):
    """A setting the source needs is missing or wrong (no API key, ...): fix the configuration."""

"""A dataset as a Frictionless Data Package (``datapackage.json``) over its long CSV.

The descriptor: :mod:`opendata.formats.datapackage`. Its resource is the CSV by **absolute**
URL, the one place the API writes one without ``OPENDATA_PUBLIC_URL``: a Data Package is a file
people save and pass on, and a relative path in it would be read against wherever it was saved
(Frictionless reads relative paths as files next to the descriptor). So the URL starts with
``OPENDATA_PUBLIC_URL`` when it is set; else with the scheme and host the request came to
(behind a proxy, those it forwarded, if ``OPENDATA_PROXY_COUNT`` trusts it). A ``Host`` that
is no host name, IP address or port is refused (400), and the response is never kept in the
response cache (which is keyed by path, not host), so a forged ``Host`` only ever reaches the
client that sent it.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort

from opendata import downloads
from opendata.api import lang as languages
from opendata.api.base import Blueprint
from opendata.api.context import connection, dataset_meta
from opendata.api.links import link
from opendata.api.observations import ObservationFilterArgs, filter_query, whole_dataset
from opendata.formats.datapackage import data_package
from opendata.store import queries

blp = Blueprint(
    "datapackage",
    __name__,
    description="A dataset as a Frictionless Data Package over its CSV",
)

#: a Host header that is a host name, IPv4 or [IPv6] address, with an optional port
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)

DESCRIPTION = (
    "A Frictionless Data Package (v1, `tabular-data-package`): one resource, the dataset's "
    "CSV (`observations.csv` with the same filters) by absolute URL, with a Table Schema: "
    "field types, `missingValues`, the codes of each dimension, units, the primary key "
    "(`region_code`, `period`, each dimension's code; none for a dataset of several "
    "indicators), license, sources, title and description."
)


def absolute(path: str) -> str:
    """``path`` (a link) as an absolute URL: already one with OPENDATA_PUBLIC_URL, else on the
    scheme and host the request came to; a 400 if the Host header is no host."""
    if not path.startswith("/"):
        return path
    if not _HOST.fullmatch(request.host):
        abort(
            400,
            message="the Host header is no host name or address: send the server's host "
            "(the Data Package's URLs are built on it), or ask the operator to set "
            "OPENDATA_PUBLIC_URL",
        )
    return f"{request.scheme}://{request.host}{path}"


@blp.route("/datasets/<dataset_id>/datapackage.json")
class DataPackage(MethodView):
    @blp.versioned(keep=False, lang=True)
    @blp.arguments(ObservationFilterArgs, location="query")
    @blp.response(200, {"type": "object"}, content_type="application/json", description=DESCRIPTION)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, args, dataset_id):
        """A dataset as a Data Package

        The dataset's CSV described for Frictionless tools (`frictionless validate`, pandas
        via frictionless, Data Package readers in R and JavaScript). The observations' filters
        (`region`, `from`, `to`, `dim.<dimension id>`) are passed on to the CSV's URL.
        """
        filter_query(dataset_id, args)  # a bad filter is a 400 here, not in the CSV later
        meta = dataset_meta(dataset_id)
        info = queries.get_dataset(connection(), dataset_id)
        assert info is not None  # dataset_meta raised UnknownDataset otherwise
        query = urlencode(list(request.args.items(multi=True)), safe=",:")
        csv_url = absolute(link("observations.ObservationCsv", query, dataset_id=dataset_id))
        dataset_url = absolute(link("datasets.DatasetDetail", dataset_id=dataset_id))
        made = downloads.current_csv(connection(), dataset_id) if whole_dataset() else None
        checksum = None if made is None else (made.sha256, made.bytes)
        package = data_package(info, meta.ranges, csv_url, dataset_url, languages.text, checksum)
        body = json.dumps(package, ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json")

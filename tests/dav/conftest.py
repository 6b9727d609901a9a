"""The DAV contract suites: the same tests run on every real server fixture (Radicale,
Xandikos), in the manner of vdirsyncer's StorageTests.

What a fixture cannot do is stated in LACKS, with why; a test that needs it is marked
`@pytest.mark.needs("feature")` and is reported as skipped with that reason, never silently.
tests/dav/test_server_lacks.py checks that each stated lack is real.
"""

import xml.etree.ElementTree as ET

import duckdb
import pytest
import requests

SERVERS = ("radicale", "xandikos")

LACKS = {
    "radicale": {
        "unservable-resource": "Radicale skips a stored item it cannot read: it is neither "
                               "listed nor served, so no client can see it fail",
    },
    "xandikos": {
        "auth": "Xandikos does no authentication of its own: any password is let in",
    },
}

PASSWORD_ENV = "KITH_TEST_DAV_PASSWORD"


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(feature): the test needs a server feature that "
                                       "some fixtures lack (see tests/dav/conftest.py LACKS)")


@pytest.fixture(params=SERVERS)
def server_name(request) -> str:
    return request.param


@pytest.fixture
def server(request, server_name):
    """The server, started, with every collection removed. Skips, saying why, when the test
    needs a feature this server lacks."""
    marker = request.node.get_closest_marker("needs")
    if marker and marker.args[0] in LACKS[server_name]:
        pytest.skip(f"{server_name} lacks {marker.args[0]}: {LACKS[server_name][marker.args[0]]}")
    srv = request.getfixturevalue(f"{server_name}_server")
    srv.start()
    srv.clear()
    return srv


@pytest.fixture
def reports(monkeypatch) -> dict[str, list]:
    """What kith asked the server: the hrefs of each multiget REPORT (one list per REPORT) and
    the paths of each GET. A spy: every request still goes to the real server."""
    seen = {"multiget": [], "get": []}
    original = requests.Session.request

    def recording(self, method, url, *args, **kwargs):
        data = kwargs.get("data")
        if method == "REPORT" and data and b"multiget" in data:
            seen["multiget"].append([h.text for h in ET.fromstring(data).iter("{DAV:}href")])
        if method == "GET":
            seen["get"].append(requests.utils.urlparse(url).path)
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", recording)
    return seen


def query(db_path, sql, params=()):
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def spoil(token: str) -> str:
    """A sync-token of the server's own form that it never gave out: the token's trailing
    hex digits (Radicale, Xandikos) set to zeros."""
    head = token.rstrip("0123456789abcdef")
    return head + "0" * (len(token) - len(head))

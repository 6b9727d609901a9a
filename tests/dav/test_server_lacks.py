"""Each lack stated in conftest.LACKS is real, so the contract suites' skips stay honest."""

import requests

from tests.dav.conftest import LACKS


def test_xandikos_lets_a_wrong_password_in(xandikos_server):
    xandikos_server.start()
    answer = requests.request("PROPFIND", xandikos_server.url + "/user/", headers={"Depth": "0"},
                              auth=("user", "not the password"), timeout=10)
    assert ("auth" in LACKS["xandikos"], answer.status_code) == (True, 207)


def test_radicale_refuses_a_wrong_password(radicale_server):
    radicale_server.start()
    answer = requests.request("PROPFIND", radicale_server.home_url, headers={"Depth": "0"},
                              auth=(radicale_server.user, "not the password"), timeout=10)
    assert ("auth" in LACKS["radicale"], answer.status_code) == (False, 401)

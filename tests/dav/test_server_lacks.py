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


def test_radicale_hides_a_stored_item_it_cannot_read(radicale_server):
    radicale_server.start()
    radicale_server.clear()
    url = radicale_server.create_addressbook("hidden")
    radicale_server.put_card("hidden", "good.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:good\r\n"
                             "FN:Good\r\nN:;Good;;;\r\nEND:VCARD\r\n")
    folder = radicale_server.root / "collections" / "collection-root" / radicale_server.user
    (folder / "hidden" / "bad.vcf").write_bytes("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\n"
                                                "FN:Zoë\r\nEND:VCARD\r\n".encode("latin-1"))
    with radicale_server.session() as s:
        listing = s.request("PROPFIND", url, headers={"Depth": "1"})
        get = s.get(url + "bad.vcf")
    assert ("unservable-resource" in LACKS["radicale"], "good.vcf" in listing.text,
            "bad.vcf" in listing.text, get.status_code) == (True, True, False, 404)

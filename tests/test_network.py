"""Where phones reach the app: base URL checks and the address `beraad serve` announces."""

from __future__ import annotations

import pytest

from beraad import network


@pytest.mark.parametrize(
    ("value", "loopback"),
    [("127.0.0.1", True), ("http://127.0.0.1:5000/j/X", True), ("localhost", True), ("::1", True),
     ("http://[::1]:8000", True), ("app.localhost", True), ("192.168.1.20", False),
     ("https://beraad.example.nl", False), ("10.0.0.5", False)],
)  # fmt: skip
def test_loopback_addresses_are_recognised(value, loopback):
    assert network.is_loopback(value) is loopback


def test_a_base_url_is_normalised_or_refused_with_an_example():
    assert network.normalise_base_url(" https://beraad.example.nl/ ") == "https://beraad.example.nl"
    assert network.normalise_base_url("http://192.168.1.20:8000/") == "http://192.168.1.20:8000"
    for bad in ("beraad.example.nl", "ftp://x", "https://", "https://x/?a=1", "https://x/beraad", ""):
        with pytest.raises(ValueError, match="BERAAD_BASE_URL must look like"):
            network.normalise_base_url(bad)


def test_the_announced_phone_address(monkeypatch):
    monkeypatch.setattr(network, "network_address", lambda: "192.168.1.20")
    assert network.phone_url("0.0.0.0", 8000, None) == ("http://192.168.1.20:8000", None)
    url, warning = network.phone_url("127.0.0.1", 8000, None)
    assert url == "http://127.0.0.1:8000" and "phones cannot reach it" in warning
    behind_proxy = network.phone_url("0.0.0.0", 8000, "https://beraad.example.nl")
    assert behind_proxy == ("https://beraad.example.nl", None)
    assert "loopback" in network.phone_url("0.0.0.0", 8000, "http://localhost:8000")[1]
    monkeypatch.setattr(network, "network_address", lambda: None)
    url, warning = network.phone_url("0.0.0.0", 8000, None)
    assert url == "http://127.0.0.1:8000" and "No network found" in warning


def test_the_network_address_is_an_address_or_none(monkeypatch):
    import ipaddress
    import socket

    address = network.network_address()  # a UDP connect sends no packet
    assert address is None or ipaddress.ip_address(address).version == 4

    class Offline:  # no route at all: the machine has no network
        def __init__(self, *args):
            pass

        def connect(self, target):
            raise OSError("Network is unreachable")

        def close(self):
            pass

    monkeypatch.setattr(socket, "socket", Offline)
    assert network.network_address() is None

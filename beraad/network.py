"""Where phones reach the app: its public base URL, and whether an address is loopback only.

Plain Python (no Flask). The QR code and the join link must carry an address a phone on the
room's network can open; the address the facilitator's own browser used may be 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

WILDCARD_HOSTS = ("0.0.0.0", "::", "")  # noqa: S104  (recognised, not bound here)


def is_loopback(url_or_host: str) -> bool:
    """True for 127.0.0.1, ::1 and localhost: a phone cannot open those."""
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host
    host = (host or "").strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(value: str) -> str:
    """`BERAAD_BASE_URL` as scheme://host[:port] without a trailing slash; else ValueError.

    No path: the app's own links carry any prefix it is served under (the proxy's SCRIPT_NAME)."""
    value = (value or "").strip().rstrip("/")
    parts = urlsplit(value)
    extra = parts.path or parts.query or parts.fragment
    if parts.scheme not in ("http", "https") or not parts.hostname or extra:
        example = "https://beraad.example.nl or http://192.168.1.20:8000"
        raise ValueError(f"BERAAD_BASE_URL must look like {example}, got {value!r}")
    return value


def network_address() -> str | None:
    """This machine's address on its network (the one a phone on the same Wi-Fi would use).

    Asks the operating system which local address it would use to reach a private address; a UDP
    socket's connect sends no packet. None when there is no network.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if is_loopback(address) or address in WILDCARD_HOSTS else address


def phone_url(host: str, port: int, base_url: str | None) -> tuple[str, str | None]:
    """The address phones should open for `beraad serve --host HOST --port PORT`, and a warning.

    BERAAD_BASE_URL wins (behind a proxy it is the proxy's address). Otherwise a wildcard bind is
    reached through this machine's network address; a loopback bind cannot be reached at all.
    """
    if base_url:
        warning = None
        if is_loopback(base_url):
            warning = (
                f"BERAAD_BASE_URL is {base_url}: phones cannot open a loopback address. "
                "Set it to the address phones use (the proxy's, or this machine's on the network)."
            )
        return base_url, warning
    if host in WILDCARD_HOSTS:
        address = network_address()
        if address is None:
            return f"http://127.0.0.1:{port}", (
                "No network found: phones cannot reach this machine. Connect it to the room's Wi-Fi."
            )
        return f"http://{address}:{port}", None
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    if is_loopback(host):
        return url, (
            f"Serving on {host} only: phones cannot reach it. Use --host 0.0.0.0 (make run does) "
            "or put a proxy in front and set BERAAD_BASE_URL."
        )
    return url, None

"""Absolute links for people on other devices: the join link in the QR code, the projector link.

With BERAAD_BASE_URL set (the address phones use, e.g. the proxy's), links are built on it;
otherwise on the address of the request, which is right only when the facilitator's browser used
an address the phones can reach too (`beraad serve` sets BERAAD_BASE_URL when it can tell).
"""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    base = current_app.config.get("BERAAD_BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)

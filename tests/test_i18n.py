"""Dutch first, English second: language choice and a complete Dutch catalogue."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "beraad" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"


def test_dutch_is_the_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="nl">' in page and "Inloggen" in page


def test_accept_language_english_gives_english(client):
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_the_language_switch_wins_over_the_browser(client):
    response = client.post("/language", data={"language": "en", "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Sign in" in page
    client.post("/language", data={"language": "nl", "next": "/login"})
    assert "Inloggen" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_an_unknown_language_is_ignored(client):
    client.post("/language", data={"language": "xx", "next": "/login"})
    assert "Inloggen" in client.get("/login").get_data(as_text=True)


def test_every_interface_string_has_a_dutch_translation():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing = [m.id for m in catalogue if m.id and not (all(m.string) if m.pluralizable else m.string)]
    assert not missing, f"untranslated: {missing[:10]}"
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_placeholders_survive_translation():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    pattern = re.compile(r"%\((\w+)\)[sd]")
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if message.pluralizable else (message.id,)
        strings = message.string if message.pluralizable else (message.string,)
        expected = set(pattern.findall(ids[-1]))
        for string in strings:
            assert set(pattern.findall(string)) <= expected | set(pattern.findall(ids[0])), message.id


def test_the_catalogue_knows_every_string_in_the_code(tmp_path):
    """Extract the strings afresh: nothing in templates or code is missing from the catalogue."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--ignore-dirs=.venv", "--ignore-dirs=tests",
         "--ignore-dirs=build", str(ROOT)],
        check=True, capture_output=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    with pot.open("rb") as handle:
        extracted = {m.id if not m.pluralizable else m.id[0] for m in read_po(handle) if m.id}
    with CATALOGUE.open("rb") as handle:
        known = {m.id if not m.pluralizable else m.id[0] for m in read_po(handle) if m.id}
    assert not extracted - known, f"run `make messages` and translate: {sorted(extracted - known)[:10]}"

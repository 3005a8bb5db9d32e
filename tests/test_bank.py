"""Dilemma bank on both databases: import, search, workflow, revisions and pages."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from beraad.bank import search, service
from beraad.bank.loader import DilemmaData, DilemmaOption, load_bank
from beraad.extensions import db
from beraad.models import Dilemma, DilemmaRevision, DilemmaTag

from .conftest import DATA_DIR

CASE = (
    "Een medewerker twijfelt over wat integer is. " * 20
    + "\n\nHet team moet morgen kiezen en iedereen kijkt naar haar.\n\n**Moet zij het melden?**"
)


SHORT = "Een medewerker twijfelt kort over wat integer is. " * 8 + "\n\n**Moet zij het melden?**"


def publishable(slug: str, **changes) -> DilemmaData:
    """Data that passes the quality gate for publishing."""
    values = {"body": CASE, "short": SHORT, "protagonist": f"Persoon {slug}",
              "themes": ("tegenspraak", "loyaliteit")}  # fmt: skip
    return make_data(slug, **{**values, **changes})


def make_data(slug: str, **changes) -> DilemmaData:
    values = {
        "id": slug,
        "title": f"Titel {slug}",
        "body": "Een medewerker twijfelt over wat integer is.",
        "status": "published",
        "themes": ("tegenspraak",),
        "levels": ("rijk",),
        "roles": ("beleidsmedewerker",),
    }
    values.update(changes)
    return DilemmaData(**values)


@pytest.fixture
def imported(app):
    """Import the test bank (tests/data/bank) and return the slugs."""
    with app.app_context():
        report = service.import_dilemmas(load_bank(DATA_DIR / "bank"))
        db.session.commit()
    return sorted(report.created)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- import -------------------------------------------------------------------------------------


def test_import_creates_dilemmas_tags_and_one_revision_each(app, imported):
    assert imported == ["concept-neutraliteit", "geschenk-leverancier", "rapport-bijstellen"]
    with app.app_context():
        dilemma = service.get_by_slug("rapport-bijstellen")
        assert dilemma.options == [
            {"key": "A", "text": "Je past de conclusies aan."},
            {"key": "B", "text": "Je legt je bezwaar vast."},
        ]
        assert {(t.kind, t.value) for t in dilemma.tags} == {
            ("theme", "tegenspraak"),
            ("theme", "onderzoek"),
            ("level", "rijk"),
            ("role", "onderzoeker"),
        }
        assert count(DilemmaRevision) == 3


def test_reimport_is_idempotent(app, imported):
    with app.app_context():
        report = service.import_dilemmas(load_bank(DATA_DIR / "bank"))
        db.session.commit()
        assert report.created == [] and report.updated == []
        assert len(report.unchanged) == 3
        assert count(DilemmaRevision) == 3


def test_reimport_of_a_changed_file_updates_and_records_a_revision(app, imported):
    with app.app_context():
        changed = make_data("rapport-bijstellen", title="Nieuwe titel", themes=("onderzoek",))
        report = service.import_dilemmas([changed])
        db.session.commit()
        assert report.updated == ["rapport-bijstellen"]
        dilemma = service.get_by_slug("rapport-bijstellen")
        assert dilemma.title == "Nieuwe titel"
        assert {t.value for t in dilemma.tags if t.kind == "theme"} == {"onderzoek"}
        assert [r.number for r in service.revisions(dilemma)] == [2, 1]


def test_cli_import_with_one_bad_file_imports_nothing(app, runner, write_dilemma):
    write_dilemma("goed-een")
    write_dilemma("goed-twee")
    write_dilemma("kapot", front="id: kapot\ntitle: [unclosed\n")
    result = runner.invoke(args=["import", str(write_dilemma.folder)])
    assert result.exit_code == 1
    assert "kapot.md:3" in result.output and "Nothing imported" in result.output
    with app.app_context():
        assert count(Dilemma) == 0


def test_cli_import_reports_every_bad_file(runner, write_dilemma):
    write_dilemma("een", front="id: een\ntitle: Een\nstatus: klaar\n")
    write_dilemma("twee", front="id: twee\ntitle: Twee\ncolour: blue\n")
    write_dilemma("drie", front="id: drie\ntitle: Drie\n", name="andere-naam.md")
    result = runner.invoke(args=["import", str(write_dilemma.folder)])
    assert result.exit_code == 1
    assert "een.md:4: unknown status 'klaar'" in result.output
    assert "twee.md:4: unknown key 'colour'" in result.output
    assert "andere-naam.md:2" in result.output


def test_export_then_import_round_trips_to_the_identical_bank(app, runner, tmp_path):
    from dataclasses import replace

    with app.app_context():
        service.import_dilemmas(load_bank(DATA_DIR / "bank-ready"))  # published ones pass the gate
        dilemma = service.get_by_slug("geschenk-leverancier")
        data = service.dilemma_data(dilemma)
        odd = "Tekst met ‘typografische’ aanhalingstekens, één emoji 🎁 en\n\n- een lijst\n\n"
        service.update_dilemma(
            dilemma, replace(data, title='Een "royaal" pakket: mag dat?', body=odd + data.body), author=None
        )
        db.session.commit()
        before = {d.slug: service.dilemma_data(d) for d in service.all_dilemmas()}
    result = runner.invoke(args=["export", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    exported = {d.id: d for d in load_bank(tmp_path / "export")}
    assert exported == before
    result = runner.invoke(args=["import", str(tmp_path / "export")])
    assert "0 created, 0 updated, 3 unchanged" in result.output


# --- search -------------------------------------------------------------------------------------


@pytest.fixture
def bank(app):
    items = [
        make_data("rapport", title="Het rapport", body="De conclusies van het onderzoek afzwakken."),
        make_data(
            "geschenk",
            title="Kerstpakket",
            body="Een leverancier stuurt een geschenk.",
            themes=("geschenken",),
            levels=("gemeente",),
        ),  # fmt: skip
        make_data(
            "neutraal",
            title="Neutraliteit online",
            body="Een bericht op sociale media.",
            themes=("sociale-media", "politieke-neutraliteit"),
            levels=("provincie", "rijk"),
            roles=("medewerker",),
        ),  # fmt: skip
        make_data("concept", title="Concept over het rapport", body="Nog een rapport.", status="draft"),
        make_data("ideeen", title="Ideeën", body="Coördinatie van geïnterviewde collega’s."),
    ]
    with app.app_context():
        service.import_dilemmas(items)
        db.session.commit()
    return app


def slugs(page) -> list[str]:
    return sorted(d.slug for d in page.items)


def test_search_finds_words_in_title_and_body(bank):
    with bank.app_context():
        assert slugs(search.search_dilemmas("rapport")) == ["concept", "rapport"]
        assert slugs(search.search_dilemmas("leverancier")) == ["geschenk"]
        assert slugs(search.search_dilemmas("rapport onderzoek")) == ["rapport"]


def test_search_matches_word_prefixes(bank):
    with bank.app_context():
        assert slugs(search.search_dilemmas("lever")) == ["geschenk"]


def test_search_ignores_operators_and_punctuation(bank):
    with bank.app_context():
        for query in [
            '"rapport',
            "rapport OR geschenk",
            "rapport*",
            "(",
            "' ; DROP TABLE dilemma; --",
            "NEAR(",
        ]:
            page = search.search_dilemmas(query)
            assert page.total == len(page.items) or page.total > 0
        assert count(Dilemma) == 5


def test_search_matches_words_with_diacritics(bank):
    with bank.app_context():
        assert slugs(search.search_dilemmas("ideeën")) == ["ideeen"]
        assert slugs(search.search_dilemmas("geïnterviewde")) == ["ideeen"]


def test_filters_combine_within_and_across_kinds(bank):
    with bank.app_context():
        assert slugs(search.search_dilemmas(levels=["gemeente"])) == ["geschenk"]
        assert slugs(search.search_dilemmas(levels=["gemeente", "provincie"])) == ["geschenk", "neutraal"]
        assert slugs(search.search_dilemmas(levels=["rijk"], roles=["medewerker"])) == ["neutraal"]
        assert slugs(search.search_dilemmas(themes=["geschenken"], levels=["rijk"])) == []
        assert slugs(search.search_dilemmas("rapport", statuses=["published"])) == ["rapport"]


def test_pagination(bank):
    with bank.app_context():
        first = search.search_dilemmas(per_page=2, page=1)
        third = search.search_dilemmas(per_page=2, page=3)
        assert first.total == 5 and first.pages == 3
        assert len(first.items) == 2 and len(third.items) == 1
        all_seen = {d.slug for p in (1, 2, 3) for d in search.search_dilemmas(per_page=2, page=p).items}
        assert len(all_seen) == 5


def test_search_index_follows_edits_and_deletes(bank):
    with bank.app_context():
        dilemma = service.get_by_slug("geschenk")
        service.update_dilemma(dilemma, make_data("geschenk", body="Een fles wijn van de aannemer."), None)
        db.session.commit()
        assert slugs(search.search_dilemmas("leverancier")) == []
        assert slugs(search.search_dilemmas("aannemer")) == ["geschenk"]
        db.session.delete(dilemma)
        db.session.commit()
        assert slugs(search.search_dilemmas("aannemer")) == []
        assert db.session.scalar(select(func.count()).select_from(DilemmaTag).where(
            DilemmaTag.dilemma_id == dilemma.id)) == 0  # fmt: skip


def test_tag_values_count_dilemmas(bank):
    with bank.app_context():
        tags = search.tag_values(["published"])
        assert ("rijk", 3) in tags["level"]
        assert ("gemeente", 1) in tags["level"]


# --- workflow -----------------------------------------------------------------------------------


def test_workflow_moves_draft_to_published_to_retired(app, create_user):
    author_id = create_user("carla", role="coordinator")
    with app.app_context():
        from beraad.models import User

        author = db.session.get(User, author_id)
        dilemma = service.create_dilemma(publishable("nieuw", status="published"), author)
        assert dilemma.status == "draft"  # the editor always starts a draft
        for status in ("review", "published", "retired", "draft"):
            service.transition(dilemma, status, author, four_eyes=False)  # a one-person organisation
        db.session.commit()
        history = service.revisions(dilemma)
        assert [r.change for r in history] == ["status"] * 4 + ["create"]
        assert history[0].author_id == author_id
        assert "retired → draft" in history[0].note


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("draft", "published"),
        ("draft", "retired"),
        ("published", "draft"),
        ("retired", "published"),
        ("review", "retired"),
        ("draft", "bogus"),
    ],  # fmt: skip
)
def test_workflow_refuses_steps_it_does_not_allow(app, start, target):
    with app.app_context():
        service.import_dilemmas([make_data("x", status=start)])
        dilemma = service.get_by_slug("x")
        with pytest.raises(service.WorkflowError):
            service.transition(dilemma, target, None)
        assert dilemma.status == start


def test_revision_diff_shows_what_changed(app):
    with app.app_context():
        service.import_dilemmas([make_data("x")])
        dilemma = service.get_by_slug("x")
        service.update_dilemma(dilemma, make_data("x", title="Andere titel"), None, "titel")
        first, second = service.get_revision(dilemma, 1), service.get_revision(dilemma, 2)
        diff = service.revision_diff(first, second)
        assert "-title: Titel x" in diff and "+title: Andere titel" in diff
        assert not any(line.startswith(("+body", "-body")) for line in diff)


def test_update_without_changes_records_nothing(app):
    with app.app_context():
        service.import_dilemmas([make_data("x")])
        dilemma = service.get_by_slug("x")
        assert service.update_dilemma(dilemma, make_data("x"), None) is False
        assert len(service.revisions(dilemma)) == 1


def test_creating_a_duplicate_id_is_refused(app):
    with app.app_context():
        service.import_dilemmas([make_data("x")])
        with force_locale("en"), pytest.raises(ValueError, match="already exists"):
            service.create_dilemma(make_data("x"), None)
        with force_locale("nl"), pytest.raises(ValueError, match="bestaat al"):
            service.create_dilemma(make_data("x"), None)


def test_an_import_that_fails_halfway_changes_nothing(app, monkeypatch):
    with app.app_context():
        service.import_dilemmas([make_data("bestaand")])
        db.session.commit()
    original = service._record_revision
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "_record_revision", failing)
    runner = app.test_cli_runner()
    from beraad.bank.loader import dump_dilemma

    folder = app.instance_path + "/halfway"
    import pathlib

    pathlib.Path(folder).mkdir(parents=True)
    for slug in ("een", "twee", "drie"):
        pathlib.Path(folder, f"{slug}.md").write_text(dump_dilemma(make_data(slug)), encoding="utf-8")
    result = runner.invoke(args=["import", folder])
    assert result.exit_code != 0
    with app.app_context():
        assert [d.slug for d in service.all_dilemmas()] == ["bestaand"]


# --- pages --------------------------------------------------------------------------------------


def test_bank_page_lists_and_searches(client, auth, imported):
    auth.login("fien", role="facilitator")
    page = client.get("/bank/?q=leverancier").get_data(as_text=True)
    assert "Een kerstpakket van de leverancier" in page
    assert "Het rapport bijstellen" not in page


def test_facilitator_sees_published_only(client, auth, imported):
    auth.login("fien", role="facilitator")
    listing = client.get("/bank/").get_data(as_text=True)
    assert "Een mening op sociale media" not in listing
    assert client.get("/bank/concept-neutraliteit").status_code == 404
    assert client.get("/bank/rapport-bijstellen").status_code == 200
    # A status filter in the URL does not widen what a facilitator sees.
    assert "Een mening op sociale media" not in client.get("/bank/?status=draft").get_data(as_text=True)


def test_coordinator_filters_by_status(client, auth, imported):
    auth.login()
    page = client.get("/bank/?status=draft").get_data(as_text=True)
    assert "Een mening op sociale media" in page and "Het rapport bijstellen" not in page


def test_filter_links_and_pagination_keep_the_query(app, client, auth):
    with app.app_context():
        service.import_dilemmas([make_data(f"d{n:02d}", body="Over een rapport.") for n in range(25)])
        db.session.commit()
    auth.login()
    first = client.get("/bank/?q=rapport&level=rijk").get_data(as_text=True)
    assert "25 dilemma" in first
    assert "page=2" in first and "q=rapport" in first
    second = client.get("/bank/?q=rapport&level=rijk&page=2").get_data(as_text=True)
    assert "d24" not in first or "d24" in second


def test_detail_page_renders_markdown_options_and_workflow(client, auth, imported):
    auth.login()
    page = client.get("/bank/rapport-bijstellen").get_data(as_text=True)
    assert "<strong>Moet ik de conclusies aanpassen?</strong>" in page
    assert "Je legt je bezwaar vast." in page
    assert 'value="retired"' in page


def test_editor_creates_a_draft_and_shows_errors_without_losing_input(app, client, auth):
    auth.login()
    form = {"slug": "nieuw-geval", "title": "Nieuw geval", "language": "nl", "levels": ["rijk"],
            "themes": "tegenspraak, loyaliteit", "roles": "leidinggevende",
            "options": "A: Doen\nB: Laten", "sources": "Eigen praktijk",
            "body": "Een **nieuw** geval."}  # fmt: skip
    response = client.post("/bank/new", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/bank/nieuw-geval")
    with app.app_context():
        dilemma = service.get_by_slug("nieuw-geval")
        assert dilemma.status == "draft" and dilemma.themes == ["tegenspraak", "loyaliteit"]
        assert dilemma.options[1] == {"key": "B", "text": "Laten"}

    bad = dict(form, slug="Ongeldig Id!", body="Mijn lange tekst die niet verloren mag gaan.")
    page = client.post("/bank/new", data=bad).get_data(as_text=True)
    assert "Mijn lange tekst die niet verloren mag gaan." in page
    assert "Niet opgeslagen" in page or "Not saved" in page
    bad_options = dict(form, slug="ander-geval", options="A: Doen\nfoute regel")
    page = client.post("/bank/new", data=bad_options).get_data(as_text=True)
    assert "foute regel" in page
    with app.app_context():
        assert service.get_by_slug("ander-geval") is None


@pytest.mark.parametrize(
    "language, expected",
    [
        ("nl", ["Niet opgeslagen: optieregel 2 moet beginnen met een letter A-F en een dubbele punt",
                "Niet opgeslagen: id &#39;Ongeldig Id!&#39; mag alleen kleine letters a-z, cijfers en "
                "streepjes bevatten"]),
        ("en", ["Not saved: option line 2 must start with a letter A-F and a colon",
                "Not saved: id &#39;Ongeldig Id!&#39; must be lowercase a-z, 0-9, dashes"]),
    ],
)  # fmt: skip
def test_the_editor_says_what_is_wrong_in_the_interface_language(app, client, auth, language, expected):
    auth.login()
    client.set_cookie("beraad_lang", language)
    form = {"slug": "nieuw-geval", "title": "Nieuw geval", "language": "nl", "levels": ["rijk"],
            "themes": "tegenspraak, loyaliteit", "roles": "leidinggevende", "sources": "Eigen praktijk",
            "body": "Een **nieuw** geval."}  # fmt: skip
    bad_option = client.post("/bank/new", data=dict(form, options="A: Doen\nfoute regel")).get_data(
        as_text=True
    )
    bad_id = client.post("/bank/new", data=dict(form, slug="Ongeldig Id!")).get_data(as_text=True)
    assert expected[0] in bad_option
    assert expected[1] in bad_id


def test_edit_records_author_and_note_and_history_shows_diff(app, client, auth, imported):
    auth.login("carla")
    form = {"title": "Het rapport bijstellen (herzien)", "language": "nl", "levels": ["rijk"],
            "themes": "tegenspraak, onderzoek", "roles": "onderzoeker", "sources": "Testbron",
            "options": "A: Je past de conclusies aan.\nB: Je legt je bezwaar vast.",
            "body": "Nieuwe tekst.\n\n**Moet ik de conclusies aanpassen?**",
            "note": "Korter gemaakt"}  # fmt: skip
    assert client.post("/bank/rapport-bijstellen/edit", data=form).status_code == 302
    history = client.get("/bank/rapport-bijstellen/history").get_data(as_text=True)
    assert "Korter gemaakt" in history and "carla" in history
    diff = client.get("/bank/rapport-bijstellen/history/2").get_data(as_text=True)
    assert "+title: Het rapport bijstellen (herzien)" in diff
    assert "+Nieuwe tekst." in diff


def test_workflow_buttons_change_status(app, client, auth, imported):
    app.config["BERAAD_FOUR_EYES"] = False  # one coordinator sends to review and publishes
    auth.login()
    client.post("/bank/concept-neutraliteit/status", data={"status": "review"})
    client.post("/bank/concept-neutraliteit/status", data={"status": "published"})
    response = client.post("/bank/concept-neutraliteit/status", data={"status": "review"})
    assert response.status_code == 302
    with app.app_context():
        assert service.get_by_slug("concept-neutraliteit").status == "published"


def test_preview_sanitises_and_limits_size(client, auth):
    auth.login()
    response = client.post("/bank/preview", data={"body": "**vet** <script>alert(1)</script>"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>vet</strong>" in html and "<script" not in html
    assert client.post("/bank/preview", data={"body": "x" * 50_000}).status_code == 413


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[klik](javascript:alert(1))",
        '<iframe src="https://example.org"></iframe>',
        '<a href="javascript:alert(1)">x</a>',
    ],  # fmt: skip
)
def test_a_hostile_body_renders_inert_on_the_detail_page(app, client, auth, payload):
    with app.app_context():
        service.import_dilemmas([make_data("gevaarlijk", body=f"Tekst.\n\n{payload}")])
        db.session.commit()
    auth.login()
    page = client.get("/bank/gevaarlijk").get_data(as_text=True)
    article = page.split('class="card prose"', 1)[1]
    for bad in ("<script", "onerror", "javascript:", "<iframe"):
        assert bad not in article.lower()


def test_an_import_the_database_refuses_names_the_file_and_shows_no_traceback(
    app, backend, runner, write_dilemma, monkeypatch
):
    """The loader checks what it knows; should the database still refuse a file (here a theme
    longer than its column, let through on purpose), the file is named and nothing is imported."""
    if backend != "postgresql":
        pytest.skip("SQLite does not enforce column lengths")
    from beraad.bank import loader

    monkeypatch.setattr(loader, "MAX_TAG_LENGTH", 500)
    write_dilemma("gewoon")
    path = write_dilemma("te-lang", front="id: te-lang\ntitle: Te lang\nthemes: [" + "a" * 61 + "]\n")
    result = runner.invoke(args=["import", str(write_dilemma.folder)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert f"Nothing imported: the database refused {path}" in result.output
    assert "value too long" in result.output
    with app.app_context():
        assert count(Dilemma) == 0


def test_who_sent_a_dilemma_to_review_does_not_publish_it(app, create_user, client, auth):
    from beraad.models import User

    writer_id, reviewer_id = create_user("carla", role="coordinator"), create_user("daan", role="coordinator")
    with app.app_context():
        writer, reviewer = db.session.get(User, writer_id), db.session.get(User, reviewer_id)
        dilemma = service.create_dilemma(publishable("vier-ogen"), writer)
        service.transition(dilemma, "review", writer)
        with pytest.raises(service.FourEyesError):
            service.transition(dilemma, "published", writer)
        assert dilemma.status == "review"
        service.transition(dilemma, "published", reviewer)  # a second pair of eyes
        assert dilemma.status == "published"
        db.session.commit()
    # In the bank's own page the writer hears why.
    with app.app_context():
        dilemma = service.create_dilemma(publishable("vier-ogen-twee"), db.session.get(User, writer_id))
        service.transition(dilemma, "review", db.session.get(User, writer_id))
        db.session.commit()
    auth.login("carla", role="coordinator")
    response = client.post("/bank/vier-ogen-twee/status", data={"status": "published"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "another coordinator publishes it" in page or "een andere coördinator publiceert" in page
    with app.app_context():
        assert service.get_by_slug("vier-ogen-twee").status == "review"
    app.config["BERAAD_FOUR_EYES"] = False  # lifted by the administrator (BERAAD_FOUR_EYES=0)
    second = client.post("/bank/vier-ogen-twee/status", data={"status": "published"}, follow_redirects=True)
    assert second.status_code == 200
    with app.app_context():
        assert service.get_by_slug("vier-ogen-twee").status == "published"


# --- the quality gate when publishing ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [({"body": "Te kort.\n\n**Moet zij het melden?**"}, "words"),
     ({"body": CASE.replace("**Moet zij het melden?**", "Wat nu.")}, "moral question"),
     ({"options": (DilemmaOption("A", "Ja."), DilemmaOption("B", "Nee."))}, "all four"),
     ({"themes": ("tegenspraak",)}, "two themes")],
)  # fmt: skip
def test_a_dilemma_that_fails_the_gate_stays_in_review_and_says_why(app, create_user, changes, problem):
    from beraad.models import User

    writer_id, reviewer_id = create_user("carla", role="coordinator"), create_user("daan", role="coordinator")
    with app.app_context():
        writer, reviewer = db.session.get(User, writer_id), db.session.get(User, reviewer_id)
        dilemma = service.create_dilemma(publishable("poort", **changes), writer)
        service.transition(dilemma, "review", writer)  # a draft and a review are free
        with pytest.raises(service.QualityError) as refused:
            service.transition(dilemma, "published", reviewer)
        assert problem in str(refused.value) and dilemma.status == "review"


def test_the_gate_lets_a_complete_case_through(app, create_user):
    from beraad.models import User

    writer_id, reviewer_id = create_user("carla", role="coordinator"), create_user("daan", role="coordinator")
    options = tuple(DilemmaOption(key, f"Optie {key}.") for key in "ABCD")
    with app.app_context():
        writer, reviewer = db.session.get(User, writer_id), db.session.get(User, reviewer_id)
        dilemma = service.create_dilemma(publishable("poort", options=options), writer)
        service.transition(dilemma, "review", writer)
        service.transition(dilemma, "published", reviewer)
        assert dilemma.status == "published"


def test_every_shipped_published_case_passes_the_gate():
    from pathlib import Path

    from beraad.bank.quality import publication_problems

    bank = load_bank(Path(__file__).resolve().parent.parent / "dilemma_bank")
    published = [d for d in bank if d.status == "published"]
    failing = {d.id: publication_problems(d) for d in published if publication_problems(d)}  # (code, details)
    assert failing == {}
    assert len(published) >= 45


def test_the_bank_page_says_in_dutch_why_a_case_cannot_be_published(app, client, auth, create_user):
    from beraad.models import User

    writer_id = create_user("carla", role="coordinator")
    with app.app_context():
        writer = db.session.get(User, writer_id)
        dilemma = service.create_dilemma(
            publishable("kort", body="Te kort.\n\n**Moet zij het melden?**"), writer
        )
        service.transition(dilemma, "review", writer)
        db.session.commit()
    auth.login("daan", role="coordinator")
    page = client.post("/bank/kort/status", data={"status": "published"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Nog niet klaar om te publiceren" in page and "150–400" in page


def _publish(app, create_user, data):
    """Create, send to review and publish with two coordinators; return the error or None."""
    from beraad.models import User

    writer_id = create_user(f"w-{data.id}", role="coordinator")
    reviewer_id = create_user(f"r-{data.id}", role="coordinator")
    with app.app_context():
        writer, reviewer = db.session.get(User, writer_id), db.session.get(User, reviewer_id)
        dilemma = service.create_dilemma(data, writer)
        service.transition(dilemma, "review", writer)
        try:
            service.transition(dilemma, "published", reviewer)
        except service.QualityError as error:
            db.session.rollback()
            return error
        db.session.commit()
        return None


def test_the_gate_refuses_tags_outside_the_vocabulary(app, create_user):
    error = _publish(app, create_user, publishable("tagje", themes=("tegenspraak", "tegenspraakk")))
    assert [code for code, _ in error.problems] == ["tags"]
    assert "tegenspraakk" in str(error)


def test_the_gate_refuses_a_missing_or_wrong_sized_short_version(app, create_user):
    missing = _publish(app, create_user, publishable("geen-kort", short=""))
    assert [code for code, _ in missing.problems] == ["short"]
    long = publishable("lang-kort", short="woord " * 121 + "\n\n**Mag dat?**")
    assert "short version has 123 words" in str(_publish(app, create_user, long))


def test_no_two_published_cases_share_a_protagonist(app, create_user):
    assert _publish(app, create_user, publishable("eerste", protagonist="Noor")) is None
    error = _publish(app, create_user, publishable("tweede", protagonist=" noor "))
    assert error.problems == [("protagonist_taken", {"name": "noor", "slug": "eerste"})]
    assert _publish(app, create_user, publishable("derde", protagonist="")).problems == [("protagonist", {})]


def test_an_import_of_published_files_applies_the_gate_and_names_each_file(app, runner, tmp_path):
    from beraad.bank.loader import dump_dilemma

    folder = tmp_path / "bank"
    folder.mkdir()
    for slug in ("zelfde-een", "zelfde-twee"):  # one protagonist in two published files
        text = dump_dilemma(publishable(slug, protagonist="Fenna"))
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    (folder / "ongetagd.md").write_text(dump_dilemma(publishable("ongetagd", levels=())), encoding="utf-8")
    (folder / "ontwerp.md").write_text(dump_dilemma(make_data("ontwerp", status="draft")), encoding="utf-8")
    result = runner.invoke(args=["import", str(folder)])
    assert result.exit_code == 1
    assert "Nothing imported: 3 problem(s) found." in result.output
    taken = "zelfde-een.md:2: not ready to publish: the protagonist Fenna is already in the published case"
    assert taken in result.output
    assert "zelfde-twee.md:2:" in result.output and "ongetagd.md:2:" in result.output
    assert "ontwerp.md" not in result.output  # drafts stay free
    with app.app_context():
        assert count(Dilemma) == 0


def test_an_edit_may_not_take_a_published_case_away_from_the_gate(app, client, auth, create_user):
    assert _publish(app, create_user, publishable("gepubliceerd")) is None
    auth.login("carla", role="coordinator")
    form = {"title": "Titel gepubliceerd", "language": "nl", "levels": ["rijk"],
            "themes": "tegenspraak, loyaliteit", "roles": "beleidsmedewerker", "body": CASE,
            "protagonist": "Persoon gepubliceerd", "short": "", "note": "korte versie weg"}  # fmt: skip
    page = client.post("/bank/gepubliceerd/edit", data=form).get_data(as_text=True)
    assert "Niet opgeslagen: een gepubliceerde casus moet publiceerbaar blijven" in page
    assert "de korte versie heeft 0 woorden" in page
    assert "Persoon gepubliceerd" in page  # what was typed is still in the form
    with app.app_context():
        assert service.get_by_slug("gepubliceerd").short == SHORT.strip()
        assert len(service.revisions(service.get_by_slug("gepubliceerd"))) == 3  # create, review, publish
    form["short"] = SHORT
    form["title"] = "Betere titel"
    assert client.post("/bank/gepubliceerd/edit", data=form).status_code == 302


# --- tags in the English interface ---------------------------------------------------------------


def test_every_tag_of_the_shipped_bank_has_an_english_label():
    from pathlib import Path

    from beraad.labels import TAG_LABELS_EN

    bank = load_bank(Path(__file__).resolve().parent.parent / "dilemma_bank")
    tags = {tag for d in bank for tag in (*d.themes, *d.levels, *d.roles)}
    assert sorted(tags - set(TAG_LABELS_EN)) == []


def test_the_bank_shows_tags_in_the_interface_language(app, client, auth, imported):
    from beraad.i18n import LANGUAGE_COOKIE

    auth.login()
    dutch = client.get("/bank/").get_data(as_text=True)
    assert "belangenverstrengeling" in dutch and "politieke neutraliteit" in dutch
    client.set_cookie(LANGUAGE_COOKIE, "en")
    english = client.get("/bank/").get_data(as_text=True)
    assert "conflict of interest" in english and "central government" in english and "gifts" in english
    detail = client.get("/bank/geschenk-leverancier").get_data(as_text=True)
    assert "municipality" in detail and "conflict of interest" in detail

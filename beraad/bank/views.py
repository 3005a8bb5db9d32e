"""Dilemma bank pages: browse and search, read, write, review, publish, history."""

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.access import curator_required
from ..extensions import db
from ..models import Dilemma, DilemmaStatus
from ..render import render_markdown
from ..urls import external_url
from . import search, service
from .forms import DilemmaForm, TransitionForm
from .loader import SLUG_PATTERN, DilemmaFileError

bp = Blueprint("bank", __name__, url_prefix="/bank")


def visible_statuses() -> list[str] | None:
    """Facilitators see published dilemmas only; curators see every status."""
    return None if current_user.can_curate else [DilemmaStatus.PUBLISHED.value]


def get_dilemma_or_404(slug: str) -> Dilemma:
    dilemma = service.get_by_slug(slug)
    statuses = visible_statuses()
    if dilemma is None or (statuses is not None and dilemma.status not in statuses):
        abort(404)
    return dilemma


def _page_number() -> int:
    page = request.args.get("page", 1, type=int) or 1
    return min(max(page, 1), 100_000)  # a page beyond the last is empty, never a database overflow


@bp.route("/")
@login_required
def index():
    filters = {
        "themes": request.args.getlist("theme"),
        "levels": request.args.getlist("level"),
        "roles": request.args.getlist("role"),
    }
    statuses = visible_statuses()
    chosen_statuses = [s for s in request.args.getlist("status") if s in set(DilemmaStatus)]
    if statuses is None and chosen_statuses:
        statuses = chosen_statuses
    query = request.args.get("q", "").strip()[:200]
    results = search.search_dilemmas(
        query,
        statuses=statuses,
        page=_page_number(),
        per_page=current_app.config["BANK_PAGE_SIZE"],
        **filters,
    )
    return render_template(
        "bank/index.html",
        results=results,
        query=query,
        filters=filters,
        chosen_statuses=chosen_statuses,
        tags=search.tag_values(visible_statuses()),
    )


MAX_CARDS = 48  # twelve A4 pages of four cards


@bp.route("/cards.pdf")
@login_required
def cards():
    """The chosen dilemmas as printable cards, four to an A4 page (ids as repeated `id` parameters)."""
    from .cards import CardContent, render_cards  # reportlab is loaded when a PDF is asked for

    ids = [value.strip() for value in request.args.getlist("id") if value.strip()]
    if not ids:
        return _no_cards(_("Choose one or more dilemmas to print as cards."))
    if len(ids) > MAX_CARDS:
        return _no_cards(_("Choose at most %(max)d dilemmas to print at once.", max=MAX_CARDS))
    dilemmas = []
    for slug in dict.fromkeys(ids):  # each card once, in the order asked
        if len(slug) > 100 or not SLUG_PATTERN.match(slug):
            abort(404)
        dilemmas.append(get_dilemma_or_404(slug))
    content = [
        CardContent(
            title=dilemma.title,
            url=external_url("bank.detail", slug=dilemma.slug),
            short=dilemma.short or "",
            body=dilemma.body or "",
            options=dilemma.options or (),
            language=dilemma.language or "nl",
        )
        for dilemma in dilemmas
    ]
    response = Response(render_cards(content), content_type="application/pdf")
    response.headers["Content-Disposition"] = 'attachment; filename="dilemmakaarten.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _no_cards(message: str):
    """Nothing (or too much) to print: the bank again, with why, as a 400."""
    flash(message, "error")
    return make_response(index(), 400)


@bp.route("/<slug>")
@login_required
def detail(slug: str):
    dilemma = get_dilemma_or_404(slug)
    return render_template(
        "bank/detail.html",
        dilemma=dilemma,
        body_html=render_markdown(dilemma.body),
        transitions=service.allowed_transitions(dilemma) if current_user.can_curate else (),
        transition_form=TransitionForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@curator_required
def new():
    form = DilemmaForm()
    if form.validate_on_submit():
        try:
            data = form.to_data(
                (form.slug.data or "").strip(),
                DilemmaStatus.DRAFT.value,
                current_app.config["MAX_DILEMMA_BYTES"],
            )
            dilemma = service.create_dilemma(data, current_user)
        except DilemmaFileError as error:
            flash(_("Not saved: %(problem)s", problem=error.message), "error")
        else:
            db.session.commit()
            flash(_("Draft saved."), "success")
            return redirect(url_for("bank.detail", slug=dilemma.slug))
    return render_template("bank/edit.html", form=form, dilemma=None)


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@curator_required
def edit(slug: str):
    dilemma = get_dilemma_or_404(slug)
    form = DilemmaForm()
    if request.method == "GET":
        form.fill_from(service.dilemma_data(dilemma))
    elif form.validate_on_submit():
        try:
            data = form.to_data(dilemma.slug, dilemma.status, current_app.config["MAX_DILEMMA_BYTES"])
            changed = service.update_dilemma(dilemma, data, current_user, form.note.data or "")
        except DilemmaFileError as error:
            flash(_("Not saved: %(problem)s", problem=error.message), "error")
        except service.QualityError as error:
            problems = "; ".join(_quality_problem(code, details) for code, details in error.problems)
            flash(_("Not saved: a published case must stay ready to publish: %(problems)s.",
                    problems=problems), "error")  # fmt: skip
        else:
            db.session.commit()
            flash(_("Changes saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("bank.detail", slug=dilemma.slug))
    return render_template("bank/edit.html", form=form, dilemma=dilemma)


def _quality_problem(code: str, details: dict) -> str:
    texts = {
        "words": _(
            "the case has %(words)d words; a published case has 150–400", words=details.get("words", 0)
        ),
        "question": _("the case does not end in one moral question in bold"),
        "options": _("options %(keys)s: give all four (A–D) or none", keys=details.get("keys", "")),
        "themes": _("give at least two themes"),
        "levels": _("give at least one level"),
        "short": _("the short version has %(words)d words; give one of 60–120",
                   words=details.get("words", 0)),
        "tags": _("unknown %(kind)s: %(tags)s (use the bank's vocabulary)",
                  kind=tag_kind_label(details.get("kind", "")), tags=details.get("tags", "")),
        "protagonist": _("name the protagonist, the person whose choice the case is about"),
        "protagonist_taken": _("the protagonist %(name)s is already in the published case %(slug)s",
                               name=details.get("name", ""), slug=details.get("slug", "")),
    }  # fmt: skip
    return texts[code]


def tag_kind_label(kind: str) -> str:
    return {"themes": _("themes"), "levels": _("levels"), "roles": _("roles")}.get(kind, kind)


@bp.route("/<slug>/status", methods=["POST"])
@curator_required
def change_status(slug: str):
    dilemma = get_dilemma_or_404(slug)
    form = TransitionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        four_eyes = current_app.config["BERAAD_FOUR_EYES"]
        service.transition(dilemma, form.status.data, current_user, form.note.data or "", four_eyes)
    except service.FourEyesError:
        flash(_("You sent this dilemma to review, so another coordinator publishes it (four eyes)."), "error")
    except service.QualityError as error:
        problems = "; ".join(_quality_problem(code, details) for code, details in error.problems)
        flash(_("Not ready to publish: %(problems)s.", problems=problems), "error")
    except service.WorkflowError:
        flash(_("This status change is not possible from the current status."), "error")
    else:
        db.session.commit()
        flash(_("Status changed."), "success")
    return redirect(url_for("bank.detail", slug=dilemma.slug))


@bp.route("/<slug>/history")
@curator_required
def history(slug: str):
    dilemma = get_dilemma_or_404(slug)
    return render_template("bank/history.html", dilemma=dilemma, revisions=service.revisions(dilemma))


@bp.route("/<slug>/history/<int:number>")
@curator_required
def revision(slug: str, number: int):
    dilemma = get_dilemma_or_404(slug)
    newer = service.get_revision(dilemma, number) or abort(404)
    older = service.get_revision(dilemma, number - 1) if number > 1 else None
    return render_template(
        "bank/revision.html",
        dilemma=dilemma,
        revision=newer,
        diff=service.revision_diff(older, newer),
    )


@bp.route("/preview", methods=["POST"])
@curator_required
def preview():
    body = request.form.get("body", "")
    if len(body.encode("utf-8")) > current_app.config["MAX_DILEMMA_BYTES"]:
        return _("The text is too long to preview."), 413
    return render_template("bank/_preview.html", body_html=render_markdown(body))

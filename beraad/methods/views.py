"""Method pages: what each method asks of a group, step by step, so a team lead can choose."""

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_login import login_required

from ..render import render_markdown
from ..sessions.plan import expand_steps
from . import service

bp = Blueprint("methods", __name__, url_prefix="/methods")


@bp.route("/")
@login_required
def index():
    return render_template("methods/index.html", methods=service.list_methods())


@bp.route("/<key>")
@login_required
def detail(key: str):
    method = service.get_method(key) or abort(404)
    language = str(get_locale())
    plan = expand_steps(method, method.dilemmas[0])
    return render_template(
        "methods/detail.html",
        method=method,
        language=language,
        plan=plan,
        prompts={step.key: render_markdown(step.prompt.get(language)) for step in method.steps},
        guidance={step.key: render_markdown(step.facilitator.get(language)) for step in method.steps},
    )

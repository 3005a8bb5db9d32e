"""The coordinator's insights page and its CSV and Excel downloads (coordinators and admins only)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import curator_required
from ..i18n import organisation_zone
from . import charts
from .service import Insights, insights

bp = Blueprint("insights", __name__)


def _language() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "nl"


def _current() -> Insights:
    return insights(current_user, language=_language(), zone=organisation_zone())


def _download(body: bytes | str, mimetype: str, ins: Insights, extension: str) -> Response:
    response = Response(body, content_type=mimetype)
    filename = f"beraad-inzichten-{ins.until.isoformat()}.{extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _count(value: float) -> str:
    return format_decimal(value, format="#,##0")


def _mean(value: float) -> str:
    return format_decimal(value, format="0.0")


def _charts(ins: Insights) -> dict:
    month_labels = [format_date(m.first_day, "MMM yy") for m in ins.months]
    return {
        "months": charts.month_bars(
            _("Sessions per month"),
            list(zip(month_labels, (m.sessions for m in ins.months), strict=True)),
            _count,
        ),
        "themes": charts.horizontal_bars(
            _("Themes discussed"), [(t.label, t.sessions) for t in ins.themes], _count
        ),
        "methods": charts.horizontal_bars(
            _("Methods used"), [(m.label, m.sessions) for m in ins.methods], _count
        ),
        "items": charts.dots_with_whiskers(
            _("Evaluation: mean ± standard deviation"),
            [(i.question, i.overall.mean, i.overall.sd, i.scale_min, i.scale_max) for i in ins.items],
            _mean,
        ),
    }


@bp.route("/insights")
@curator_required
def index():
    ins = _current()
    month_labels = {m.month: format_date(m.first_day, "MMM yyyy") for m in ins.months}
    return render_template(
        "insights/index.html", ins=ins, charts=_charts(ins), month_labels=month_labels, percent=format_percent
    )


@bp.route("/insights.csv")
@curator_required
def csv():
    from .exports import to_csv

    ins = _current()
    return _download(to_csv(ins), "text/csv; charset=utf-8", ins, "csv")


@bp.route("/insights.xlsx")
@curator_required
def xlsx():
    from .exports import MIMETYPE, to_xlsx

    ins = _current()
    return _download(to_xlsx(ins), MIMETYPE, ins, "xlsx")

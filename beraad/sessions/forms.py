"""Forms for creating and running a session."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

MAX_DILEMMAS = 6


class NewSessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)],
                        description=_l("Leave empty to use the dilemma's title."))  # fmt: skip
    method = SelectField(_l("Method"), validators=[DataRequired()])
    dilemmas = FieldList(SelectField(_l("Dilemma"), validate_choice=False), min_entries=MAX_DILEMMAS,
                         max_entries=MAX_DILEMMAS)  # fmt: skip
    language = SelectField(_l("Language of the session"))
    k = IntegerField(
        _l("Show results from"),
        validators=[InputRequired(), NumberRange(min=2, max=50)],
        description=_l("Results of a vote stay hidden until at least this many people answered."),
    )
    facilitator_name = StringField(
        _l("Your name in the summary (optional)"), validators=[Optional(), Length(max=120)]
    )
    team = SelectField(
        _l("Team (optional)"),
        validate_choice=False,
        description=_l(
            "A session in a team starts by looking back on the action points of its previous session."
        ),
    )
    scheduled_for = DateField(_l("Planned for (optional)"), validators=[Optional()])


class NotesForm(FlaskForm):
    notes = TextAreaField(_l("Notes"), validators=[Length(max=200_000)])


class ActionPointForm(FlaskForm):
    what = StringField(_l("What"), validators=[DataRequired(), Length(max=500)])
    who = StringField(_l("Who (a role, not a name)"), validators=[Optional(), Length(max=120)])
    due = DateField(_l("By when"), validators=[Optional()])


class AlternativeForm(FlaskForm):
    text = StringField(_l("New option"), validators=[DataRequired(), Length(max=300)])


class ScreenTextForm(FlaskForm):
    text = TextAreaField(_l("Text on screen"), validators=[Length(max=600)])
    action = StringField(validators=[Optional()])  # show | hide | save

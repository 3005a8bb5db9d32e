"""Forms for signing in and managing accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from ..labels import role_label
from ..models import Role


def role_choices() -> list[SelectChoice]:
    return [
        SelectChoice(role.value, role_label(role.value))
        for role in (Role.FACILITATOR, Role.COORDINATOR, Role.ADMIN)
    ]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=500)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new", message=_l("The passwords do not match."))],
    )


class NewUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=80)])
    display_name = StringField(_l("Display name"), validators=[Length(max=120)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10)])
    role = SelectField(_l("Role"), choices=role_choices)


class UserUpdateForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)
    enabled = BooleanField(_l("Account enabled"))

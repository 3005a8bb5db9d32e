"""The dilemma editor form; its content is validated by the same loader as the files."""

import re

import yaml
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .loader import LEVELS, DilemmaData, DilemmaFileError, dump_dilemma, parse_dilemma

OPTION_LINE = re.compile(r"^\s*([A-Fa-f])\s*[:.)]\s*(.+)$")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _split(text: str, separator: str = ",") -> list[str]:
    return [part.strip() for part in (text or "").split(separator) if part.strip()]


class DilemmaForm(FlaskForm):
    slug = StringField(
        _l("Id (used in file names and links)"),
        validators=[Optional(), Length(max=100)],
        description=_l("Lowercase letters, digits and dashes, e.g. rapport-afzwakken."),
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(
        _l("Language"), choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")]
    )
    themes = StringField(
        _l("Themes"), description=_l("Separated by commas, e.g. tegenspraak, politieke-druk.")
    )
    levels = MultiCheckboxField(_l("Levels"), choices=[SelectChoice(level, level) for level in LEVELS])
    roles = StringField(
        _l("Roles"), description=_l("Separated by commas, e.g. beleidsmedewerker, leidinggevende.")
    )
    options = TextAreaField(
        _l("Options"),
        description=_l("One per line, starting with the letter: “A: You adjust the report.”"),
    )
    sources = TextAreaField(_l("Sources"), description=_l("One per line."))
    protagonist = StringField(
        _l("Protagonist"),
        validators=[Length(max=60)],
        description=_l("The first name of the person whose choice the case is about; unique in the bank."),
    )
    short = TextAreaField(
        _l("Short version"),
        description=_l("60–120 words for game cards and the projector, ending in the same question in bold."),
    )
    body = TextAreaField(_l("The case (Markdown)"), validators=[DataRequired()])
    note = StringField(_l("What did you change?"), validators=[Length(max=300)])

    def fill_from(self, data: DilemmaData) -> None:
        """Put a dilemma's values into the form fields."""
        self.slug.data = data.id
        self.title.data = data.title
        self.language.data = data.language
        self.themes.data = ", ".join(data.themes)
        self.levels.data = list(data.levels)
        self.roles.data = ", ".join(data.roles)
        self.options.data = "\n".join(f"{o.key}: {o.text}" for o in data.options)
        self.sources.data = "\n".join(data.sources)
        self.protagonist.data = data.protagonist
        self.short.data = data.short
        self.body.data = data.body

    def to_data(self, slug: str, status: str, max_bytes: int) -> DilemmaData:
        """Validate the form's content with the file loader; raise DilemmaFileError."""
        options = []
        for number, line in enumerate(_split(self.options.data, "\n"), start=1):
            match = OPTION_LINE.match(line)
            if not match:
                raise DilemmaFileError(
                    "editor",
                    None,
                    _l("option line %(number)d must start with a letter A-F and a colon", number=number),
                )
            options.append({"key": match.group(1).upper(), "text": match.group(2).strip()})
        meta = {
            "id": slug,
            "title": (self.title.data or "").strip(),
            "language": self.language.data,
            "themes": _split(self.themes.data),
            "levels": list(self.levels.data or []),
            "roles": _split(self.roles.data),
            "status": status,
            "options": options or None,
            "sources": _split(self.sources.data, "\n"),
            "protagonist": (self.protagonist.data or "").strip() or None,
            "short": (self.short.data or "").strip() or None,
        }
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        data = parse_dilemma(f"---\n{front}---\n{self.body.data or ''}\n", "editor", max_bytes)
        # Round-trip through the file format so the stored data equals what an export writes.
        return parse_dilemma(dump_dilemma(data), "editor", max_bytes)


class TransitionForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Length(max=300)])

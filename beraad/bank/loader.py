"""Dilemma files: parse, validate and write Markdown files with YAML front matter.

Pure Python: no Flask, no database. Every problem is reported with file and line.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l

STATUSES = ("draft", "review", "published", "retired")
LEVELS = ("rijk", "provincie", "gemeente", "waterschap", "uitvoering")
LANGUAGES = ("nl", "en")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
OPTION_KEYS = ("A", "B", "C", "D", "E", "F")
FIELDS = (
    "id", "title", "language", "themes", "levels", "roles", "status", "options", "sources",
    "protagonist", "short",
)  # fmt: skip
REQUIRED = ("id", "title")
DEFAULT_MAX_BYTES = 40_000
MAX_TITLE_LENGTH = 200
MAX_PROTAGONIST_LENGTH = 60
MAX_SHORT_LENGTH = 2_000  # characters; the publishing gate asks for 60–120 words
MAX_TAG_LENGTH = 60  # Tag.value
TAG_KINDS = ("themes", "levels", "roles")


@dataclass(frozen=True)
class DilemmaOption:
    key: str
    text: str


@dataclass(frozen=True)
class DilemmaData:
    """One dilemma as it is written in a file (immutable)."""

    id: str
    title: str
    body: str
    language: str = "nl"
    status: str = "draft"
    themes: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    options: tuple[DilemmaOption, ...] = ()
    sources: tuple[str, ...] = ()
    protagonist: str = ""  # the person whose choice the case asks about (one name per published case)
    short: str = ""  # 60–120 words for game cards and the projector
    path: str = field(default="", compare=False)
    id_line: int = field(default=2, compare=False, repr=False)

    def to_dict(self) -> dict:
        """Return the dilemma as plain data (lists and dicts), without its path."""
        data = asdict(self)
        data.pop("path")
        data.pop("id_line")
        for key in ("themes", "levels", "roles", "sources"):
            data[key] = list(data[key])
        data["options"] = [dict(option) for option in data["options"]]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> DilemmaData:
        return cls(
            id=data["id"],
            title=data["title"],
            body=data.get("body", ""),
            language=data.get("language", "nl"),
            status=data.get("status", "draft"),
            themes=tuple(data.get("themes") or ()),
            levels=tuple(data.get("levels") or ()),
            roles=tuple(data.get("roles") or ()),
            options=tuple(DilemmaOption(o["key"], o["text"]) for o in data.get("options") or ()),
            sources=tuple(data.get("sources") or ()),
            protagonist=data.get("protagonist") or "",
            short=data.get("short") or "",
        )


class DilemmaFileError(ValueError):
    """A problem in a dilemma file, located by file and line."""

    def __init__(self, path: str, line: int | None, message: str):
        # message: a lazy translation, made into text only when shown, in the language of the
        # screen that shows it (the bank editor in Dutch or English; the command line in English).
        self.path, self.line, self.message = str(path), line, message
        super().__init__(path, line, message)

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class BankError(ValueError):
    """One or more dilemma files are invalid; nothing was loaded."""

    def __init__(self, errors: list[DilemmaFileError]):
        self.errors = errors
        super().__init__(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class _Loader(yaml.SafeLoader):
    """Safe YAML loading where a bad value (a date like 2024-02-30) is a YAML error with a line."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as error:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid value ({error})", node.start_mark
            ) from None


def _load_front_matter(front_matter: str, offset: int) -> tuple[object, dict]:
    """Return the front matter's data and a map from each top-level key to its file line."""
    loader = _Loader(front_matter)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        data = loader.construct_document(node)
        lines = {}
        if isinstance(node, yaml.MappingNode):
            for key, _value in node.value:
                try:
                    lines[loader.construct_object(key)] = key.start_mark.line + offset
                except (yaml.YAMLError, TypeError):
                    continue
        return data, lines
    finally:
        loader.dispose()


def _string_list(value, name: str, path: str, line: int, pattern: re.Pattern | None = None):
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DilemmaFileError(path, line, _l("'%(name)s' must be a list of text values", name=name))
    items = tuple(item.strip() for item in value)
    if name in TAG_KINDS:  # stored as tags: as long as the column allows, on every database
        for item in items:
            if len(item) > MAX_TAG_LENGTH:
                raise DilemmaFileError(
                    path,
                    line,
                    _l(
                        "'%(name)s' value %(value)s… is longer than %(limit)d characters",
                        name=name,
                        value=repr(item[:20]),
                        limit=MAX_TAG_LENGTH,
                    ),
                )
    if pattern is not None:
        for item in items:
            if not pattern.match(item):
                raise DilemmaFileError(
                    path,
                    line,
                    _l(
                        "'%(name)s' value %(value)s must be lowercase letters, digits, dashes",
                        name=name,
                        value=repr(item),
                    ),
                )
    if len(set(items)) != len(items):
        raise DilemmaFileError(path, line, _l("'%(name)s' lists a value twice", name=name))
    return items


def _options(value, path: str, line: int) -> tuple[DilemmaOption, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DilemmaFileError(path, line, _l("'options' must be a list of {key, text}"))
    options = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"key", "text"}:
            raise DilemmaFileError(
                path, line, _l("option %(number)d must have exactly key and text", number=index + 1)
            )
        key, text = item["key"], item["text"]
        if key not in OPTION_KEYS:
            raise DilemmaFileError(path, line, _l("option key %(key)s must be one of A-F", key=repr(key)))
        if not isinstance(text, str) or not text.strip():
            raise DilemmaFileError(path, line, _l("option %(key)s needs a text", key=key))
        options.append(DilemmaOption(key, text.strip()))
    keys = [option.key for option in options]
    if keys != list(OPTION_KEYS[: len(keys)]):
        raise DilemmaFileError(path, line, _l("option keys must run A, B, C … in order"))
    if len(options) == 1:
        raise DilemmaFileError(path, line, _l("a dilemma with options needs at least two"))
    return tuple(options)


def parse_dilemma(text: str, path: str = "<text>", max_bytes: int = DEFAULT_MAX_BYTES) -> DilemmaData:
    """Parse one dilemma file's text; raise DilemmaFileError naming file and line."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        raise DilemmaFileError(path, line, _l("text contains an invalid character")) from None
    if size > max_bytes:
        raise DilemmaFileError(
            path, None, _l("file is larger than the limit of %(limit)d bytes", limit=max_bytes)
        )
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise DilemmaFileError(path, 1, _l("file must start with '---' and YAML front matter"))
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() == "---")
    except StopIteration:
        raise DilemmaFileError(path, 1, _l("front matter is not closed with '---'")) from None
    front_matter = "\n".join(lines[1:end])
    body = "\n".join(lines[end + 1 :]).strip("\n")
    try:
        meta, key_lines = _load_front_matter(front_matter, offset=2)
    except yaml.reader.ReaderError as error:
        line = front_matter.count("\n", 0, error.position) + 2
        raise DilemmaFileError(path, line, _l("broken YAML: %(problem)s", problem=error.reason)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise DilemmaFileError(path, line, _l("broken YAML: %(problem)s", problem=problem)) from None
    except RecursionError:
        raise DilemmaFileError(path, 2, _l("broken YAML: nested too deeply")) from None
    if not isinstance(meta, dict):
        raise DilemmaFileError(path, 2, _l("front matter must be a mapping of keys to values"))

    for key in meta:
        if key not in FIELDS:
            raise DilemmaFileError(
                path,
                key_lines.get(key, 2),
                _l("unknown key %(key)s (allowed: %(allowed)s)", key=repr(key), allowed=", ".join(FIELDS)),
            )
    for key in REQUIRED:
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise DilemmaFileError(path, key_lines.get(key, 2), _l("missing or empty '%(key)s'", key=key))

    def line_of(key: str) -> int:
        return key_lines.get(key, 2)

    slug = meta["id"].strip()
    if not SLUG_PATTERN.match(slug) or len(slug) > 100:
        raise DilemmaFileError(
            path, line_of("id"), _l("id %(id)s must be lowercase a-z, 0-9, dashes", id=repr(slug))
        )
    title = meta["title"].strip()
    if len(title) > MAX_TITLE_LENGTH:
        raise DilemmaFileError(
            path, line_of("title"), _l("title is longer than %(limit)d characters", limit=MAX_TITLE_LENGTH)
        )
    status = meta.get("status", "draft")
    if status not in STATUSES:
        raise DilemmaFileError(
            path,
            line_of("status"),
            _l(
                "unknown status %(status)s (one of: %(allowed)s)",
                status=repr(status),
                allowed=", ".join(STATUSES),
            ),
        )
    language = meta.get("language", "nl")
    if language not in LANGUAGES:
        raise DilemmaFileError(
            path, line_of("language"), _l("language must be one of %(allowed)s", allowed=", ".join(LANGUAGES))
        )
    levels = _string_list(meta.get("levels"), "levels", path, line_of("levels"))
    for level in levels:
        if level not in LEVELS:
            raise DilemmaFileError(
                path,
                line_of("levels"),
                _l(
                    "unknown level %(level)s (one of: %(allowed)s)",
                    level=repr(level),
                    allowed=", ".join(LEVELS),
                ),
            )
    if not body.strip():
        raise DilemmaFileError(path, end + 2, _l("the body (the case itself) is empty"))
    protagonist = _plain_text(meta.get("protagonist"), "protagonist", MAX_PROTAGONIST_LENGTH, path, line_of)
    short = _plain_text(meta.get("short"), "short", MAX_SHORT_LENGTH, path, line_of)
    return DilemmaData(
        id=slug,
        title=title,
        body=body,
        language=language,
        status=status,
        themes=_string_list(meta.get("themes"), "themes", path, line_of("themes"), SLUG_PATTERN),
        levels=levels,
        roles=_string_list(meta.get("roles"), "roles", path, line_of("roles"), SLUG_PATTERN),
        options=_options(meta.get("options"), path, line_of("options")),
        sources=_string_list(meta.get("sources"), "sources", path, line_of("sources")),
        protagonist=protagonist,
        short=short,
        path=str(path),
        id_line=line_of("id"),
    )


def _plain_text(value, name: str, limit: int, path, line_of) -> str:
    """An optional single text field: a string of at most `limit` characters, stripped."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DilemmaFileError(path, line_of(name), _l("'%(name)s' must be text", name=name))
    value = value.strip()
    if len(value) > limit:
        raise DilemmaFileError(
            path, line_of(name), _l("'%(name)s' is longer than %(limit)d characters", name=name, limit=limit)
        )
    return value


def read_dilemma_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> DilemmaData:
    """Read and parse one file; a non-UTF-8 file is an error naming its line."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DilemmaFileError(path, line, _l("file is not valid UTF-8 text")) from None
    data = parse_dilemma(text.removeprefix("\ufeff"), str(path), max_bytes)
    if data.id != path.stem:
        raise DilemmaFileError(
            path,
            data.id_line,
            _l("id %(id)s does not match the file name %(file)s", id=repr(data.id), file=repr(path.name)),
        )
    return data


def load_bank(folder: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> list[DilemmaData]:
    """Load every *.md file in folder (or one file); raise BankError listing every problem."""
    folder = Path(folder)
    if not folder.exists():
        raise BankError([DilemmaFileError(folder, None, _l("no such file or folder"))])
    paths = [folder] if folder.is_file() else sorted(folder.glob("*.md"))
    errors: list[DilemmaFileError] = []
    dilemmas: list[DilemmaData] = []
    seen: dict[str, str] = {}
    for path in paths:
        if path.name.lower() == "readme.md":
            continue
        try:
            data = read_dilemma_file(path, max_bytes)
        except DilemmaFileError as error:
            errors.append(error)
            continue
        if data.id in seen:
            errors.append(
                DilemmaFileError(path, data.id_line, f"duplicate id {data.id!r} (also in {seen[data.id]})")
            )
            continue
        seen[data.id] = str(path)
        dilemmas.append(data)
    if errors:
        raise BankError(errors)
    return dilemmas


def dump_dilemma(data: DilemmaData) -> str:
    """Write a dilemma as file text that parses back to the same data."""
    meta: dict = {"id": data.id, "title": data.title, "language": data.language}
    for key in ("themes", "levels", "roles"):
        meta[key] = list(getattr(data, key))
    meta["status"] = data.status
    if data.options:
        meta["options"] = [{"key": o.key, "text": o.text} for o in data.options]
    meta["sources"] = list(data.sources)
    if data.protagonist:
        meta["protagonist"] = data.protagonist
    if data.short:
        meta["short"] = data.short
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100)
    return f"---\n{front}---\n{data.body.strip()}\n"

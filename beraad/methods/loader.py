"""Deliberation methods: load and validate the YAML files in methods/.

Pure Python: no Flask, no database. Every problem names the file and the line.
Files whose name starts with "_" hold shared parts (the default evaluation), not methods.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

LANGUAGES = ("nl", "en")
POLL_TYPES = ("choice", "scale", "ranking", "text")
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
OPTION_KEYS = ("A", "B", "C", "D", "E", "F", "G", "H")
FROM_DILEMMA = "from_dilemma"
FROM_ROOM = "from_room"  # the facilitator types the options in during the step (candidate questions)
EACH_DILEMMA = "each_dilemma"
EVALUATION_FILE = "_evaluation.yaml"
MAX_FILE_BYTES = 200_000


class MethodFileError(ValueError):
    """A problem in a method file, located by file and line."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line, self.message = str(path), line, message
        super().__init__(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")


class MethodsError(ValueError):
    """One or more method files are invalid."""

    def __init__(self, errors: list[MethodFileError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass(frozen=True)
class Text:
    """A text in every interface language."""

    nl: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.nl


@dataclass(frozen=True)
class Option:
    key: str
    text: Text


@dataclass(frozen=True)
class Scale:
    min: int
    max: int
    min_label: Text | None = None
    max_label: Text | None = None


@dataclass(frozen=True)
class PollSpec:
    """What participants answer at a step (or in the evaluation)."""

    type: str
    question: Text
    key: str = ""
    from_dilemma: bool = False
    from_room: bool = False
    options: tuple[Option, ...] = ()
    scale: Scale | None = None
    max_length: int = 280
    compare_with: str | None = None


@dataclass(frozen=True)
class Step:
    key: str
    title: Text
    minutes: int
    prompt: Text
    facilitator: Text
    each_dilemma: bool = False
    poll: PollSpec | None = None
    show_case: bool = False  # the projector and the phones show the dilemma's text at this step
    show_options: bool = False  # ... and the dilemma's fixed options (a dilemma game)
    # The Terugblik a team's session starts with (beraad/teams/followup.py): only in session snapshots,
    # never read from a method file.
    followup: bool = False


@dataclass(frozen=True)
class Method:
    key: str
    name: Text
    summary: Text
    minutes: int
    group_size: tuple[int, int]
    dilemmas: tuple[int, int]
    steps: tuple[Step, ...]
    evaluation: tuple[PollSpec, ...] = ()
    path: str = ""

    def to_dict(self) -> dict:
        """Return plain data (for the session snapshot); from_dict() reads it back."""
        data = asdict(self)
        data.pop("path")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Method:
        return cls(
            key=data["key"],
            name=Text(**data["name"]),
            summary=Text(**data["summary"]),
            minutes=data["minutes"],
            group_size=tuple(data["group_size"]),
            dilemmas=tuple(data["dilemmas"]),
            steps=tuple(_step_from_dict(step) for step in data["steps"]),
            evaluation=tuple(_poll_from_dict(item) for item in data.get("evaluation", ())),
        )


def _poll_from_dict(data: dict | None) -> PollSpec | None:
    if data is None:
        return None
    scale = data.get("scale")
    if scale is not None:
        scale = Scale(
            min=scale["min"],
            max=scale["max"],
            min_label=Text(**scale["min_label"]) if scale.get("min_label") else None,
            max_label=Text(**scale["max_label"]) if scale.get("max_label") else None,
        )
    return PollSpec(
        type=data["type"],
        question=Text(**data["question"]),
        key=data.get("key", ""),
        from_dilemma=data.get("from_dilemma", False),
        from_room=data.get("from_room", False),
        options=tuple(Option(o["key"], Text(**o["text"])) for o in data.get("options", ())),
        scale=scale,
        max_length=data.get("max_length", 280),
        compare_with=data.get("compare_with"),
    )


def _step_from_dict(data: dict) -> Step:
    return Step(
        key=data["key"],
        title=Text(**data["title"]),
        minutes=data["minutes"],
        prompt=Text(**data["prompt"]),
        facilitator=Text(**data["facilitator"]),
        each_dilemma=data.get("each_dilemma", False),
        poll=_poll_from_dict(data.get("poll")),
        show_case=data.get("show_case", False),
        show_options=data.get("show_options", False),
        followup=data.get("followup", False),
    )


# --- located YAML: values that remember their line --------------------------------------------


class _Map(dict):
    line: int = 0
    key_lines: dict


class _List(list):
    line: int = 0
    item_lines: list


def _located(node: yaml.Node, loader: yaml.SafeLoader):
    """Turn a YAML node tree into dicts and lists that know their (1-based) line."""
    if isinstance(node, yaml.MappingNode):
        result = _Map()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if key in result:
                raise MethodFileError("", key_node.start_mark.line + 1, f"key {key!r} appears twice")
            result.key_lines[key] = key_node.start_mark.line + 1
            result[key] = _located(value_node, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        result = _List(_located(item, loader) for item in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [item.start_mark.line + 1 for item in node.value]
        return result
    return loader.construct_object(node)


ODD_LINE_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _parse_yaml(text: str, path: str):
    # YAML also breaks lines at these, editors mostly do not: line numbers would point elsewhere.
    odd = ODD_LINE_BREAK.search(text)
    if odd:
        line = text[: odd.start()].count("\n") + 1
        raise MethodFileError(path, line, f"unusual line break U+{ord(odd.group()):04X}: use plain newlines")
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise MethodFileError(path, line, f"broken YAML: {error.reason}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise MethodFileError(path, 1, "the file is empty")
        return _located(node, loader)
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise MethodFileError(path, line, f"broken YAML: {error.reason}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        raise MethodFileError(path, line, f"broken YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise MethodFileError(path, 1, f"broken YAML: {error}") from None
    except MethodFileError as error:
        raise MethodFileError(path, error.line, error.message) from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as error:
        raise MethodFileError(path, 1, f"invalid value: {error}") from None
    finally:
        loader.dispose()


# --- validation -------------------------------------------------------------------------------


class _Checker:
    """Validates one file's data; every error carries the file and line."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, line: int | None, message: str):
        raise MethodFileError(self.path, line, message)

    def mapping(self, value, line: int, what: str, allowed: set[str], required: set[str]) -> _Map:
        if not isinstance(value, _Map):
            self.fail(getattr(value, "line", line), f"{what} must be a mapping of keys to values")
        for key in value:
            if key not in allowed:
                self.fail(
                    value.key_lines[key],
                    f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required - value.keys()):
            self.fail(value.line, f"{what} is missing '{key}'")
        return value

    def line_of(self, mapping: _Map, key: str) -> int:
        return mapping.key_lines.get(key, mapping.line)

    def text(self, mapping: _Map, key: str, what: str) -> Text:
        line = self.line_of(mapping, key)
        value = mapping.get(key)
        if not isinstance(value, _Map):
            self.fail(line, f"{what} '{key}' must give a text per language: {{nl: …, en: …}}")
        for language in value:
            if language not in LANGUAGES:
                self.fail(value.key_lines[language], f"unknown language {language!r} in {what} '{key}'")
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.fail(line, f"{what} '{key}' is missing the {language!r} translation")
        return Text(nl=value["nl"].strip(), en=value["en"].strip())

    def key(self, mapping: _Map, what: str) -> str:
        value = mapping.get("key")
        if not isinstance(value, str) or not KEY_PATTERN.match(value):
            self.fail(self.line_of(mapping, "key"), f"{what} key must be lowercase a-z, 0-9, dashes")
        return value

    def integer(self, mapping: _Map, key: str, low: int, high: int) -> int:
        value = mapping.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.fail(self.line_of(mapping, key), f"'{key}' must be a whole number from {low} to {high}")
        return value

    def pair(self, mapping: _Map, key: str, low: int, high: int) -> tuple[int, int]:
        value = mapping.get(key)
        line = self.line_of(mapping, key)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not low <= value[0] <= value[1] <= high
        ):
            self.fail(line, f"'{key}' must be [min, max] with {low} ≤ min ≤ max ≤ {high}")
        return value[0], value[1]

    def options(self, value, line: int) -> tuple[Option, ...]:
        if not isinstance(value, list) or not 2 <= len(value) <= 8:
            self.fail(line, "poll options must be a list of 2 to 8 {key, text} items")
        options: list[Option] = []
        for item in value:
            item = self.mapping(item, line, "a poll option", {"key", "text"}, {"key", "text"})
            key = item["key"]
            if not isinstance(key, str) or not (key in OPTION_KEYS or KEY_PATTERN.match(key)):
                self.fail(self.line_of(item, "key"), f"option key {key!r} is not valid")
            if any(option.key == key for option in options):
                self.fail(self.line_of(item, "key"), f"poll options have the same key twice ({key!r})")
            options.append(Option(key, self.text(item, "text", "option")))
        return tuple(options)

    def poll(self, value, line: int, key: str, earlier: dict[str, PollSpec]) -> PollSpec:
        allowed = {"type", "question", "options", "compare_with", "max_length", "key"}
        poll = self.mapping(value, line, "poll", allowed, {"type", "question"})
        poll_type = poll["type"]
        if poll_type not in POLL_TYPES:
            self.fail(
                self.line_of(poll, "type"),
                f"unknown poll type {poll_type!r} (one of: {', '.join(POLL_TYPES)})",
            )
        question = self.text(poll, "question", "poll")
        options_line = self.line_of(poll, "options")
        raw_options = poll.get("options")
        poll_key = self.key(poll, "poll") if "key" in poll else key
        spec = {"type": poll_type, "question": question, "key": poll_key}
        if poll_type == "choice":
            if raw_options == FROM_DILEMMA:
                spec["from_dilemma"] = True
            elif raw_options == FROM_ROOM:
                spec["from_room"] = True
            else:
                spec["options"] = self.options(raw_options, options_line)
        elif poll_type == "ranking":
            spec["options"] = self.options(raw_options, options_line)
        elif poll_type == "scale":
            scale = self.mapping(raw_options, options_line, "scale options", {"min", "max", "labels"},
                                 {"min", "max"})  # fmt: skip
            low = self.integer(scale, "min", 0, 10)
            high = self.integer(scale, "max", 1, 10)
            if low >= high:
                self.fail(self.line_of(scale, "max"), "scale 'max' must be larger than 'min'")
            labels = scale.get("labels")
            min_label = max_label = None
            if labels is not None:
                labels = self.mapping(labels, self.line_of(scale, "labels"), "scale labels",
                                      {"min", "max"}, {"min", "max"})  # fmt: skip
                min_label = self.text(labels, "min", "scale label")
                max_label = self.text(labels, "max", "scale label")
            spec["scale"] = Scale(low, high, min_label, max_label)
        elif raw_options is not None:
            self.fail(options_line, "a text poll has no options")
        if "max_length" in poll:
            spec["max_length"] = self.integer(poll, "max_length", 20, 1000)
        compare_with = poll.get("compare_with")
        if compare_with is not None:
            line_cw = self.line_of(poll, "compare_with")
            if not isinstance(compare_with, str):
                self.fail(line_cw, "compare_with must be the key of an earlier poll")
            target = earlier.get(compare_with)
            if target is None:
                self.fail(line_cw, f"compare_with {compare_with!r} is not the key of an earlier poll")
            if poll_type != "choice" or target.type != "choice":
                self.fail(line_cw, "compare_with works between two choice polls only")
            if target.from_room or spec.get("from_room"):
                self.fail(line_cw, "compare_with needs fixed options; the room's own options differ per poll")
            if target.from_dilemma != spec.get("from_dilemma", False) or (
                {o.key for o in target.options} != {o.key for o in spec.get("options", ())}
            ):
                self.fail(line_cw, f"compare_with {compare_with!r} must have the same options")
            spec["compare_with"] = compare_with
        return PollSpec(**spec)

    def evaluation(self, value, line: int) -> tuple[PollSpec, ...]:
        if not isinstance(value, list) or not value:
            self.fail(line, "'evaluation' must be a list of items")
        items, seen = [], {}
        for item in value:
            item_map = self.mapping(item, line, "an evaluation item",
                                    {"key", "type", "question", "options", "max_length"},
                                    {"key", "type", "question"})  # fmt: skip
            key = self.key(item_map, "evaluation item")
            if key in seen:
                self.fail(self.line_of(item_map, "key"), f"evaluation item {key!r} appears twice")
            spec = self.poll(item_map, item_map.line, key, {})
            if spec.type not in ("scale", "text"):
                self.fail(self.line_of(item_map, "type"), "evaluation items are scale or text")
            seen[key] = spec
            items.append(spec)
        return tuple(items)


METHOD_KEYS = {"key", "name", "summary", "minutes", "group_size", "dilemmas", "steps", "evaluation"}
STEP_KEYS = {
    "key",
    "title",
    "minutes",
    "prompt",
    "facilitator",
    "poll",
    "repeat",
    "show_case",
    "show_options",
}


def parse_method(text: str, path: str = "<text>", expected_key: str | None = None) -> Method:
    """Parse and validate one method file's text; raise MethodFileError with file and line."""
    checker = _Checker(path)
    data = _parse_yaml(text, path)
    data = checker.mapping(data, 1, "the method", METHOD_KEYS,
                           {"key", "name", "summary", "minutes", "steps"})  # fmt: skip
    key = checker.key(data, "method")
    if expected_key is not None and key != expected_key:
        checker.fail(checker.line_of(data, "key"), f"key {key!r} does not match the file name")
    name = checker.text(data, "name", "method")
    summary = checker.text(data, "summary", "method")
    minutes = checker.integer(data, "minutes", 5, 600)
    group_size = checker.pair(data, "group_size", 1, 10_000) if "group_size" in data else (2, 20)
    # [0, 0]: a method without a case, such as the periodic measure (only its evaluation).
    dilemmas = checker.pair(data, "dilemmas", 0, 20) if "dilemmas" in data else (1, 1)
    if dilemmas[0] == 0 and dilemmas[1] != 0:
        checker.fail(checker.line_of(data, "dilemmas"), "'dilemmas' is [0, 0] (no case) or starts at 1")
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        checker.fail(checker.line_of(data, "steps"), "'steps' must be a non-empty list")
    steps, seen_steps, polls = [], set(), {}
    for index, raw in enumerate(raw_steps):
        step = checker.mapping(raw, raw_steps.item_lines[index], "a step", STEP_KEYS,
                               {"key", "title", "minutes", "prompt", "facilitator"})  # fmt: skip
        step_key = checker.key(step, "step")
        if step_key in seen_steps:
            checker.fail(checker.line_of(step, "key"), f"step key {step_key!r} appears twice")
        seen_steps.add(step_key)
        repeat = step.get("repeat")
        if repeat is not None and repeat != EACH_DILEMMA:
            checker.fail(checker.line_of(step, "repeat"), f"'repeat' can only be {EACH_DILEMMA!r}")
        for flag in ("show_case", "show_options"):
            if not isinstance(step.get(flag, False), bool):
                checker.fail(checker.line_of(step, flag), f"'{flag}' must be true or false")
        show_case, show_options = step.get("show_case", False), step.get("show_options", False)
        if show_options and not show_case:
            checker.fail(checker.line_of(step, "show_options"), "'show_options' needs 'show_case: true'")
        poll = None
        if "poll" in step:
            poll = checker.poll(step["poll"], checker.line_of(step, "poll"), step_key, polls)
            if poll.key in polls:
                checker.fail(checker.line_of(step, "poll"), f"poll key {poll.key!r} appears twice")
            polls[poll.key] = poll
        steps.append(
            Step(
                key=step_key,
                title=checker.text(step, "title", "step"),
                minutes=checker.integer(step, "minutes", 1, 240),
                prompt=checker.text(step, "prompt", "step"),
                facilitator=checker.text(step, "facilitator", "step"),
                each_dilemma=repeat == EACH_DILEMMA,
                poll=poll,
                show_case=show_case,
                show_options=show_options,
            )
        )
    if dilemmas == (0, 0):
        uses_case = next((s for s in steps if s.show_case or s.show_options or s.each_dilemma
                          or (s.poll and s.poll.from_dilemma)), None)  # fmt: skip
        if uses_case is not None:
            message = f"step {uses_case.key!r} uses a case, but the method has none (dilemmas: [0, 0])"
            checker.fail(checker.line_of(data, "dilemmas"), message)
    if dilemmas[1] > 1 and not any(step.each_dilemma for step in steps):
        checker.fail(checker.line_of(data, "dilemmas"),
                     "a method for several dilemmas needs steps with 'repeat: each_dilemma'")  # fmt: skip
    planned = _planned_minutes(steps, dilemmas[0])
    if planned != minutes:
        checker.fail(
            checker.line_of(data, "minutes"),
            f"'minutes' is {minutes} but the steps add up to {planned}"
            + (f" for {dilemmas[0]} dilemmas" if dilemmas[0] > 1 else ""),
        )
    evaluation = ()
    if "evaluation" in data:
        evaluation = checker.evaluation(data["evaluation"], checker.line_of(data, "evaluation"))
    return Method(key, name, summary, minutes, group_size, dilemmas, tuple(steps), evaluation, path)


def _planned_minutes(steps, dilemma_count: int) -> int:
    return sum(step.minutes * (dilemma_count if step.each_dilemma else 1) for step in steps)


def parse_evaluation(text: str, path: str = "<text>") -> tuple[PollSpec, ...]:
    """Parse the shared evaluation file: {evaluation: [items]}."""
    checker = _Checker(path)
    data = checker.mapping(_parse_yaml(text, path), 1, "the evaluation file", {"evaluation"},
                           {"evaluation"})  # fmt: skip
    return checker.evaluation(data["evaluation"], checker.line_of(data, "evaluation"))


def _read(path: Path) -> str:
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise MethodFileError(path, None, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise MethodFileError(path, raw[: error.start].count(b"\n") + 1, "not valid UTF-8") from None


def load_methods(folder: Path | str) -> list[Method]:
    """Load every method in folder, each with the shared evaluation unless it has its own."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MethodsError([MethodFileError(folder, None, "no such folder")])
    errors: list[MethodFileError] = []
    evaluation: tuple[PollSpec, ...] = ()
    shared = folder / EVALUATION_FILE
    if shared.exists():
        try:
            evaluation = parse_evaluation(_read(shared), str(shared))
        except MethodFileError as error:
            errors.append(error)
    methods, seen = [], {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        try:
            method = parse_method(_read(path), str(path), expected_key=path.stem)
        except MethodFileError as error:
            errors.append(error)
            continue
        if method.key in seen:
            errors.append(MethodFileError(path, 1, f"key {method.key!r} also in {seen[method.key]}"))
            continue
        seen[method.key] = str(path)
        if not method.evaluation:
            method = Method(**{**method.__dict__, "evaluation": evaluation})
        methods.append(method)
    if errors:
        raise MethodsError(errors)
    return methods

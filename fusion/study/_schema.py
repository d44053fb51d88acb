"""A small declarative validator for nested YAML settings.

The study file is a tree of mappings. Each mapping is described by a
:class:`Section` (fixed keys, each a :class:`Field` or a nested section) or a
:class:`NamedSections` (user-chosen keys such as label or model names, each
described by the same section). :func:`validate` walks the parsed YAML against
the schema and collects *every* problem, each naming

* where: the file, the line and the key path (``outcome.horizons[1]``);
* what was received (the value, with its YAML type);
* what is allowed, and for an unknown key the closest allowed key
  ("did you mean ...", :func:`difflib.get_close_matches`).

It returns the settings as plain Python data with every default filled in, so
the rest of the pipeline never has to ask whether a key was given.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Field", "Section", "NamedSections", "Problems", "validate", "key_lines", "yaml_type",
           "suggestion"]

_MISSING = object()


def yaml_type(value) -> str:
    """The YAML name of ``value``'s type, as a user reads it in the file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _path_text(path: tuple) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


class Problems:
    """Problems found in one file, each with its key path and line."""

    def __init__(self, source: str, lines: Mapping[tuple, int] | None = None):
        self.source = source
        self.lines = dict(lines or {})
        self.items: list[tuple[tuple, str]] = []

    def add(self, path: tuple, message: str) -> None:
        self.items.append((tuple(path), message))

    def line_of(self, path: tuple) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def lines_text(self) -> list[str]:
        """One line per problem, in the order of the file (problems without a line last)."""
        out = []
        order = sorted(self.items, key=lambda item: (self.line_of(item[0]) or 10**9))
        for path, message in order:
            line = self.line_of(path)
            where = f"{self.source}, line {line}" if line else self.source
            out.append(f"{where}: {message}")
        return out

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Field:
    """One setting.

    Parameters
    ----------
    kind : {"text", "integer", "number", "boolean", "path", "list", "mapping", "any"}
        Expected YAML type. ``"path"`` is text resolved later against the study
        file's folder; ``"number"`` accepts integers too.
    doc : str
        What the setting means (shown in the schema reference).
    required : bool
        The key must be given.
    default : object
        Value used when the key is absent (a callable is called to make it).
    choices : sequence, optional
        Allowed values (for a list: allowed items).
    item : str, optional
        For ``kind="list"``: the YAML type of every item.
    low, high : float, optional
        Bounds for numbers (and for numeric list items).
    low_open, high_open : bool
        Whether the bounds are excluded.
    min_items : int
        For lists: the fewest items allowed.
    nullable : bool
        ``null`` is allowed (and means "not used").
    check : callable, optional
        ``check(value) -> str | None``: a further rule; returns the allowed
        values' description when the value breaks it.
    """

    kind: str
    doc: str = ""
    required: bool = False
    default: Any = None
    choices: Sequence | None = None
    item: str | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    min_items: int = 0
    nullable: bool = False
    check: Callable[[Any], str | None] | None = None
    also: Sequence[str] = ()  # extra kinds accepted (e.g. "mapping" for radiomics params)

    def default_value(self):
        return self.default() if callable(self.default) else self.default


@dataclass
class Section:
    """A mapping with fixed keys.

    ``rule(settings, problems, path)`` runs after the keys are checked, for
    rules that tie several keys together (e.g. a binary outcome needs
    ``column``, a survival outcome ``time`` and ``event``).
    """

    fields: Mapping[str, "Field | Section | NamedSections"]
    doc: str = ""
    required: bool = False
    optional: bool = False  # absent section -> None instead of its defaults
    rule: Callable[[dict, Problems, tuple], None] | None = None
    nullable: bool = False


@dataclass
class NamedSections:
    """A mapping from user-chosen names to sections of one kind (labels, models)."""

    section: Section
    doc: str = ""
    required: bool = False
    min_items: int = 0
    name_check: Callable[[str], str | None] | None = None
    default: Any = field(default_factory=dict)


def _kind_ok(kind: str, value) -> bool:
    if kind == "any":
        return True
    if kind in ("text", "path"):
        return isinstance(value, str) and value.strip() != ""
    if kind == "integer":
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if kind == "number":
        return (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and math.isfinite(float(value)))
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, (list, tuple))
    if kind == "mapping":
        return isinstance(value, Mapping)
    raise AssertionError(f"unknown kind {kind!r}")


_KIND_WORDS = {
    "text": "non-empty text", "path": "a file path (text)", "integer": "an integer",
    "number": "a number", "boolean": "true or false", "list": "a list", "mapping": "a mapping",
}


def _bounds_text(f: Field) -> str:
    parts = []
    if f.low is not None:
        parts.append(f"> {f.low:g}" if f.low_open else f">= {f.low:g}")
    if f.high is not None:
        parts.append(f"< {f.high:g}" if f.high_open else f"<= {f.high:g}")
    return " and ".join(parts)


def _in_bounds(f: Field, x: float) -> bool:
    if f.low is not None and (x <= f.low if f.low_open else x < f.low):
        return False
    if f.high is not None and (x >= f.high if f.high_open else x > f.high):
        return False
    return True


def _check_field(f: Field, value, path: tuple, problems: Problems):
    where = _path_text(path)
    if value is None:
        if f.nullable:
            return None
        problems.add(path, f"'{where}' must be {_describe(f)}. Got null (an empty value) instead.")
        return _MISSING
    kinds = (f.kind, *f.also)
    if not any(_kind_ok(k, value) for k in kinds):
        problems.add(path, f"'{where}' must be {_describe(f)}. Got {_show(value)} "
                           f"({yaml_type(value)}) instead.")
        return _MISSING
    if f.kind == "list" and isinstance(value, (list, tuple)):
        ok = True
        if len(value) < f.min_items:
            problems.add(path, f"'{where}' must hold at least {f.min_items} item(s). "
                               f"Got {len(value)} instead.")
            ok = False
        for i, item in enumerate(value):
            if f.item and not _kind_ok(f.item, item):
                problems.add((*path, i), f"'{_path_text((*path, i))}' must be "
                                         f"{_KIND_WORDS[f.item]}. Got {_show(item)} "
                                         f"({yaml_type(item)}) instead.")
                ok = False
            elif f.choices is not None and item not in f.choices:
                problems.add((*path, i), _choice_message(_path_text((*path, i)), item, f.choices))
                ok = False
            elif f.item == "number" and not _in_bounds(f, float(item)):
                problems.add((*path, i), f"'{_path_text((*path, i))}' must be "
                                         f"{_bounds_text(f)}. Got {_show(item)} instead.")
                ok = False
        if len(set(map(repr, value))) != len(value):
            dup = sorted({repr(v) for v in value if list(map(repr, value)).count(repr(v)) > 1})
            problems.add(path, f"'{where}' lists {', '.join(dup)} more than once; "
                               "give each item once.")
            ok = False
        value = list(value)
        if not ok:
            return _MISSING
    elif f.choices is not None and value not in f.choices and f.kind != "mapping":
        problems.add(path, _choice_message(where, value, f.choices))
        return _MISSING
    elif f.kind in ("number", "integer") and _kind_ok(f.kind, value) and not _in_bounds(f, float(value)):
        problems.add(path, f"'{where}' must be {_bounds_text(f)}. Got {_show(value)} instead.")
        return _MISSING
    if f.check is not None:
        allowed = f.check(value)
        if allowed:
            problems.add(path, f"'{where}' must be {allowed}. Got {_show(value)} instead.")
            return _MISSING
    return value


def _describe(f: Field) -> str:
    if f.choices is not None and f.kind != "list":
        return "one of " + _choices_text(f.choices)
    words = " or ".join(_KIND_WORDS[k] for k in (f.kind, *f.also))
    if f.kind == "list" and f.item:
        words = f"a list of {_KIND_WORDS[f.item]} items"
        if f.choices is not None:
            words += " from " + _choices_text(f.choices)
    bounds = _bounds_text(f)
    if bounds and f.kind in ("number", "integer"):
        words += f" {bounds}"
    return words


def _choices_text(choices) -> str:
    return "{" + ", ".join(repr(c) for c in choices) + "}"


def _choice_message(where: str, value, choices) -> str:
    msg = f"'{where}' must be one of {_choices_text(choices)}. Got {_show(value)} instead."
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(c) for c in choices], n=1, cutoff=0.6)
        if close:
            msg += f" Did you mean {close[0]!r}?"
    return msg


def suggestion(value, options) -> str:
    """`` Did you mean 'x'?`` for the closest of ``options`` to ``value`` (or ``""``)."""
    close = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def _unknown_key_message(key, path: tuple, allowed: Sequence[str]) -> str:
    where = "at the top level" if not path else f"in '{_path_text(path)}'"
    msg = f"unknown key {str(key)!r} {where}."
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    if close:
        msg += f" Did you mean {close[0]!r}?"
    msg += " Allowed keys: " + ", ".join(allowed) + "."
    return msg


def validate(schema: Section, data, problems: Problems, path: tuple = ()):
    """Check ``data`` against ``schema``; return it with defaults filled in.

    Problems are added to ``problems``; keys whose value is wrong are left out
    of the result (the caller raises when ``problems`` is not empty).
    """
    if isinstance(schema, NamedSections):
        return _validate_named(schema, data, problems, path)
    if data is None:
        if schema.optional or schema.nullable:
            return None
        data = {}
    if not isinstance(data, Mapping):
        problems.add(path, f"'{_path_text(path)}' must be a mapping of keys "
                           f"({', '.join(schema.fields)}). Got {_show(data)} "
                           f"({yaml_type(data)}) instead.")
        return None
    out: dict = {}
    for key in data:
        if key not in schema.fields:
            problems.add((*path, key), _unknown_key_message(key, path, list(schema.fields)))
    for key, spec in schema.fields.items():
        sub = (*path, key)
        if key not in data:
            if isinstance(spec, (Section, NamedSections)):
                if spec.required:
                    problems.add(path, f"'{_path_text(sub)}' is required"
                                       + (f" ({spec.doc.split('.')[0]})" if spec.doc else "")
                                       + f"; add a '{key}:' section.")
                    continue
                if isinstance(spec, Section) and spec.optional:
                    out[key] = None
                    continue
                out[key] = validate(spec, None if isinstance(spec, Section) else {}, problems, sub)
                continue
            if spec.required:
                problems.add(path, f"'{_path_text(sub)}' is required ({_describe(spec)}"
                                   + (f": {spec.doc}" if spec.doc else "") + ").")
                continue
            out[key] = spec.default_value()
            continue
        if isinstance(spec, (Section, NamedSections)):
            value = validate(spec, data[key], problems, sub)
            out[key] = value
        else:
            value = _check_field(spec, data[key], sub, problems)
            if value is not _MISSING:
                out[key] = value
    if schema.rule is not None and isinstance(out, dict):
        schema.rule(out, problems, path)
    return out


def _validate_named(schema: NamedSections, data, problems: Problems, path: tuple):
    if data is None or (isinstance(data, Mapping) and not data):
        if schema.required or schema.min_items:
            problems.add(path, f"'{_path_text(path)}' must name at least {max(schema.min_items, 1)} "
                               f"entr{'y' if max(schema.min_items, 1) == 1 else 'ies'}"
                               + (f" ({schema.doc.split('.')[0]})" if schema.doc else "") + ".")
        return {}
    if not isinstance(data, Mapping):
        problems.add(path, f"'{_path_text(path)}' must be a mapping from names to settings. "
                           f"Got {_show(data)} ({yaml_type(data)}) instead.")
        return {}
    out = {}
    for name, value in data.items():
        if not isinstance(name, str) or not name.strip():
            problems.add((*path, name), f"names in '{_path_text(path)}' must be text. "
                                        f"Got {_show(name)} ({yaml_type(name)}) instead.")
            continue
        if schema.name_check is not None:
            allowed = schema.name_check(name)
            if allowed:
                problems.add((*path, name), f"the name {name!r} in '{_path_text(path)}' must be "
                                            f"{allowed}.")
                continue
        out[name] = validate(schema.section, value, problems, (*path, name))
    return out


def key_lines(text: str) -> dict[tuple, int]:
    """Map each key path of a YAML document to the (1-based) line where it starts."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple, int] = {}

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                try:
                    key = yaml.safe_load(k.value) if k.tag.endswith(("int", "float", "bool")) else k.value
                except yaml.YAMLError:
                    pass
                lines[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                lines[(*path, i)] = v.start_mark.line + 1
                walk(v, (*path, i))

    if root is not None:
        walk(root, ())
    return lines

"""Reading the harness's YAML input files safely, and saying where a problem is.

Every input format (profiles, scenes, bench files) is read here: at most ``MAX_BYTES``, strict
UTF-8, one document, PyYAML's safe constructors without anchors or aliases (a billion-laughs
file cannot expand), at most ``MAX_DEPTH`` levels of nesting, no duplicate keys, dates left as
text. The composed node tree is kept so that a problem found later (by pydantic, or by a check
of references between entries) is reported at the line of its field, on one line:
``FILE:LINE: FIELD: PROBLEM``."""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml._yaml import CParser  # libyaml: PyYAML's wheels ship it
from yaml.constructor import SafeConstructor
from yaml.reader import ReaderError
from yaml.resolver import Resolver

MAX_BYTES = 1_000_000  # the largest file the harness ships is a few kB; 1 MB reads in about a second
MAX_DEPTH = 32  # the formats nest at most 6 levels
Loc = tuple[str | int, ...]


class InputError(ValueError):
    """An input that cannot be used; the message is one line naming the file (or the scene
    built in Python), the field and the problem."""


class FieldProblem(Exception):
    """A problem at one field found by a check pydantic does not do (references between
    entries); ``Document.error`` turns it into an InputError at the field's line."""

    def __init__(self, loc: Loc, problem: str) -> None:
        super().__init__(problem)
        self.loc = tuple(loc)
        self.problem = problem


class _Refused(yaml.MarkedYAMLError):
    def __init__(self, loc: Loc, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.loc = loc


class _Loader(Composer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
    """libyaml's event parser (fast), PyYAML's composer and safe constructors; refuses
    anchors, aliases, deep nesting and duplicate keys, naming the field."""

    def __init__(self, text: str) -> None:
        CParser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._path: list[str | int] = []
        self._where: dict[int, Loc] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()
        if parent is not None:
            self._path.append(index.value if isinstance(index, yaml.ScalarNode) else index if isinstance(index, int) else "?")
        try:
            loc = tuple(self._path)
            mark = event.start_mark if event is not None else None
            if getattr(event, "anchor", None) is not None:
                raise _Refused(loc, "YAML anchors and aliases are not accepted (write the value out)", mark)
            if len(loc) > MAX_DEPTH:
                raise _Refused(loc, f"nested more than {MAX_DEPTH} levels deep", mark)
            node = super().compose_node(parent, index)
            self._where[id(node)] = loc
            return node
        finally:
            if parent is not None:
                self._path.pop()

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None and key in seen:
                raise _Refused(self._where.get(id(node), ()) + (key,), "the key appears twice in one mapping", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


# dates and times stay text: a field that wants a number says so, and a bad date is not a crash
_Loader.yaml_implicit_resolvers = {k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
                                   for k, v in Resolver.yaml_implicit_resolvers.items()}


def field_name(loc: Sequence[str | int]) -> str:
    """``officers[1].bwc`` for ('officers', 1, 'bwc')."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not re.fullmatch(r"[A-Za-z0-9_-]+", part):  # a key with dots, colons, spaces: quoted, so the message stays readable
            out += f"[{part[:40]!r}]"
        else:
            out += f".{part}" if out else part
    return out


def one_line(text: str) -> str:
    return " ".join(text.split())


def short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Document:
    """An input's data and, for a file, where each of its nodes is."""

    def __init__(self, source: str, data: Any, root: yaml.Node | None = None) -> None:
        self.source = source
        self.data = data
        self.root = root

    def line(self, loc: Loc) -> int | None:
        """The line of the field at loc (or of its deepest ancestor in the file); None
        for data that did not come from a file."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        child, line = value, key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def message(self, loc: Loc, problem: str) -> str:
        line = self.line(loc)
        where = f"{self.source}:{line}" if line is not None else self.source
        return one_line(f"{where}: {field_name(loc) or '(top level)'}: {problem}")

    def error(self, error: type[InputError], problem: FieldProblem) -> InputError:
        return error(self.message(problem.loc, problem.problem))

    def pydantic_error(self, error: type[InputError], exc: ValidationError, model: Any, at: Loc = ()) -> InputError:
        """The first of pydantic's errors in our words, at the field's line. ``model`` is the
        validated type (it names the known fields for an unknown one and tells the tags of
        unions from field names); ``at`` is where its data sits in the document."""
        errors = exc.errors(include_url=False)
        first = errors[0]
        if first["type"] == "missing":  # a misspelt field is also a missing one: name the misspelling
            first = next((e for e in errors if e["type"] in ("unexpected_keyword_argument", "extra_forbidden")
                          and tuple(e["loc"][:-1]) == tuple(first["loc"][:-1])), first)
        raw = tuple(first["loc"])
        known = field_names(model, raw[:-1]) if first["type"] in ("unexpected_keyword_argument", "extra_forbidden") else ()
        loc = at + file_path(model, raw)
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += (str((first.get("ctx") or {}).get("discriminator", "")).strip("'"),)
        return error(self.message(loc, describe(first, known)))


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(arms) == 1:
            return _strip(arms[0])
    return tp


def _members(tp: Any) -> dict[str, Any]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return {f.alias or name: f.annotation for name, f in tp.model_fields.items()}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        return {f.name: hints[f.name] for f in dataclasses.fields(tp)}
    return {}


def _walk(tp: Any, loc: Loc) -> tuple[Any, Loc]:
    """The type at pydantic's loc, and the loc as the file says it (without union tags)."""
    out: list[str | int] = []
    for part in loc:
        tp = _strip(tp)
        if typing.get_origin(tp) in (typing.Union, types.UnionType):  # a tagged union: part is the tag
            tp = next((a for a in typing.get_args(tp) if part in typing.get_args(_members(a).get("do"))), None)
            continue
        if part == "[key]":  # pydantic's marker for a mapping's key: the key itself is the field
            continue
        out.append(part)
        if typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            args = typing.get_args(tp)
            tp = args[0] if len(args) == 1 or args[1:] == (Ellipsis,) else args[part] if part < len(args) else None
        else:
            tp = _members(tp).get(str(part))
    return tp, tuple(out)


def file_path(tp: Any, loc: Loc) -> Loc:
    return _walk(tp, loc)[1]


def field_names(tp: Any, loc: Loc) -> tuple[str, ...]:
    """The fields of the model or dataclass at pydantic's loc."""
    return tuple(sorted(_members(_strip(_walk(tp, loc)[0]))))


def describe(err: Any, known: Iterable[str] = ()) -> str:
    """One of pydantic's error dicts as a short problem statement."""
    kind, msg, value = err["type"], str(err["msg"]), err.get("input")
    ctx = err.get("ctx") or {}
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        names = sorted(known)
        close = difflib.get_close_matches(str(err["loc"][-1]), names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}" if names else ""
        return "unknown field" + (f" ({hint})" if hint else "")
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        return f"unknown value {ctx.get('tag')!r:.40} (known: {str(ctx.get('expected_tags')).replace(chr(39), '')})"
    if kind == "union_tag_not_found":
        return "required field is missing"
    if msg.startswith(("Value error, ", "Assertion failed, ")):
        return msg.split(", ", 1)[1]
    msg = "should" + msg[len("Input should"):] if msg.startswith("Input should") else msg[:1].lower() + msg[1:]
    msg = re.sub(r"(a valid dictionary or instance of|a dictionary or an instance of) \w+", "a mapping", msg).replace(" after validation", "")
    if kind in ("too_long", "too_short"):
        return msg
    if value is None or isinstance(value, (str, int, float, bool)):
        msg += f", got {short(value)}"
    elif isinstance(value, (list, dict)):
        msg += f", got a {'list' if isinstance(value, list) else 'mapping'}"
    return msg


def read_yaml(path: Path, error: type[InputError], what: str) -> Document:
    """The file's one YAML document, or ``error`` saying why not (one line, with the line)."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise error(f"{source}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:
        raise error(f"{source}: (file): larger than {MAX_BYTES:,} bytes; {what} files are a few kB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(f"{source}:{line}: (file): not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _Refused as exc:
        raise error(Document(source, None, None).message(exc.loc, str(exc.problem)).replace(source, f"{source}:{exc.problem_mark.line + 1}" if exc.problem_mark else source, 1)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise error(one_line(f"{where}: (yaml): {exc.problem or exc.context or 'not valid YAML'}")) from None
    except ReaderError as exc:  # a control character
        line = text[: exc.position].count("\n") + 1
        raise error(f"{source}:{line}: (yaml): character #x{exc.character if isinstance(exc.character, int) else ord(exc.character):04x} is not allowed ({exc.reason})") from None
    except (yaml.YAMLError, ValueError, OverflowError) as exc:  # a value PyYAML cannot build (an integer of 5,000 digits)
        raise error(one_line(f"{source}: (yaml): a value cannot be read: {exc}")) from None
    finally:
        loader.dispose()
    return Document(source, data, root)


def validate(adapter: Callable[[Any], Any], doc: Document, error: type[InputError], model: Any, data: Any = None, at: Loc = ()) -> Any:
    """``adapter(data)`` (a pydantic validation), with its first error as ``error``."""
    try:
        return adapter(doc.data if data is None else data)
    except ValidationError as exc:
        raise doc.pydantic_error(error, exc, model, at) from None

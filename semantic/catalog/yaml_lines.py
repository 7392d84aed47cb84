"""YAML parsing that remembers where each mapping and key came from, within fixed bounds.

Validation messages must say ``file:line``; PyYAML's nodes know their marks
but the plain ``safe_load`` output forgets them. This loader returns
:class:`LineMap` / :class:`LineList` values that carry 1-based line numbers.

The same loader reads analysts' files and text pasted into the app, so it is
bounded: a size limit, a nesting limit, no aliases (an alias bomb expands a
few lines into gigabytes), dates that are not real dates kept as text, and
every failure reported as one :class:`YamlProblem` with its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml

MAX_BYTES = 1_000_000  # one YAML file or pasted text
MAX_DEPTH = 40  # mappings and lists inside each other


class LineMap(dict):
    """A mapping with the line it starts on and the line of each key."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence with the line it starts on and the line of each item."""

    line: int
    item_lines: list[int]


class YamlProblem(ValueError):
    """Text that cannot be read as YAML here; ``line`` is 1-based, the message one line."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Refused(yaml.MarkedYAMLError):
    """A bound of this loader was crossed at a mark."""


class _LineLoader(yaml.SafeLoader):
    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(None, None, "YAML aliases (*name) are not allowed; write the value out", event.start_mark)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
        try:
            # types-PyYAML says int; PyYAML passes None, a list index or the key node of a mapping value
            return super().compose_node(parent, cast(int, index))
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineMap:
        self.flatten_mapping(node)
        result = LineMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise _Refused(None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark)
            if key in result:
                raise _Refused(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or time when it is a real one (``2026-02-30`` is not): else the text as written."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)

    def construct_bounded_int(self, node: yaml.ScalarNode) -> Any:
        """A whole number that fits in 64 bits (a warehouse column's); longer ones are refused at their line."""
        try:
            value = self.construct_yaml_int(node)
        except ValueError:
            value = None
        if value is None or value.bit_length() > 63:
            raise _Refused(None, None, "a whole number larger than 64 bits", node.start_mark)
        return value


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_lenient_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _LineLoader.construct_bounded_int)


def load_yaml(text: str) -> Any:
    """Parse one YAML document, keeping line numbers.

    Raises:
        YamlProblem: for syntax errors, duplicate keys, aliases, too deep nesting or too much text.

    >>> doc = load_yaml("a: 1\\nb:\\n  - x\\n")
    >>> doc.line_of("b"), doc["b"].item_lines
    (2, [3])
    """
    if len(text) > MAX_BYTES:
        raise YamlProblem(1, f"{len(text):,} characters of YAML; at most {MAX_BYTES:,}")
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        prefix = "" if isinstance(err, _Refused) else "YAML syntax error: "
        raise YamlProblem((mark.line + 1) if mark else 1, f"{prefix}{err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise YamlProblem(1, f"cannot read YAML: {(str(err).splitlines() or ['error'])[0]}") from None
    except RecursionError:
        raise YamlProblem(1, f"YAML nested too deeply; at most {MAX_DEPTH} levels") from None


def read_yaml_text(path: Path) -> str:
    """A YAML file's text: bounded in size, UTF-8 only.

    Raises:
        YamlProblem: too large, unreadable or not UTF-8 (line 1, or the line of the first bad byte).
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as err:
        raise YamlProblem(1, f"cannot read the file: {err.strerror or err}") from None
    if len(data) > MAX_BYTES:
        raise YamlProblem(1, f"file is larger than {MAX_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise YamlProblem(line, f"not UTF-8 text (byte {data[err.start]:#04x}); save the file as UTF-8") from None

"""YAML parsing that remembers where each mapping and key came from.

Validation messages must say ``file:line``; PyYAML's nodes know their marks
but the plain ``safe_load`` output forgets them. This loader returns
:class:`LineMap` / :class:`LineList` values that carry 1-based line numbers.
"""
from __future__ import annotations

from typing import Any

import yaml


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


class DuplicateKey(yaml.MarkedYAMLError):
    """A mapping repeats a key: YAML would silently keep the last one."""


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineMap:  # type: ignore[override]
        self.flatten_mapping(node)
        result = LineMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in result:
                raise DuplicateKey(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[str(key)] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence)


def load_yaml(text: str) -> Any:
    """Parse one YAML document, keeping line numbers.

    Raises:
        yaml.YAMLError: with ``problem_mark`` set, for syntax errors and duplicate keys.

    >>> doc = load_yaml("a: 1\\nb:\\n  - x\\n")
    >>> doc.line_of("b"), doc["b"].item_lines
    (2, [3])
    """
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 (a SafeLoader subclass)

"""Boards are YAML checked against the catalog, with file:line messages and did-you-mean."""

from __future__ import annotations

import pytest

from finlens_common.errors import CatalogError
from semantic.catalog.boards import board_problems, load_boards

BAD = """\
board: growth
label: {zh: 增长, en: Growth}
tiles:
  - {metric: uvv}
  - {metric: uv, drill: platfrom}
  - {metric: bind_card_funnel}
charts:
  - type: line
    metrics: [pv, regsitrations]
  - type: funnel
    metric: uv
  - type: bar
    metric: uv
    by: channel
    where: "chanel = 'x'"
  - type: pie
    metric: uv
"""


def test_shipped_boards_load_in_order(catalog):
    boards = load_boards(catalog)
    assert list(boards) == ["overview", "platform", "life", "forex", "p2p", "stock"]
    assert {b.business_line for b in boards.values()} == {None, "platform", "life", "forex", "p2p", "stock"}
    funnel = next(c for c in boards["p2p"].charts if c.kind == "funnel")
    assert funnel.metrics == ("invest_funnel",) and funnel.label.en == "Investment funnel"


def test_every_mistake_is_reported_at_its_line(catalog, tmp_path):
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "growth.yml").write_text(BAD)
    boards, problems = board_problems(catalog, tmp_path)
    found = {(p.line, p.message.split(": ", 1)[1] if ": " in p.message else p.message) for p in problems}
    lines = sorted({p.line for p in problems})
    assert lines == [4, 5, 6, 9, 10, 15, 16]
    text = "\n".join(str(p) for p in problems)
    assert "growth.yml:4: board 'growth' tile: unknown metric 'uvv' (did you mean 'uv'?)" in text
    assert "growth.yml:5: board 'growth' tile: unknown dimension 'platfrom' (did you mean 'platform'?)" in text
    assert "growth.yml:6: board 'growth' tile: 'bind_card_funnel' is a funnel; show it as a chart, not a tile" in text
    assert "unknown metric 'regsitrations' (did you mean 'registrations'?)" in text
    assert "growth.yml:10: board 'growth' chart 2: a funnel chart shows one funnel metric" in text
    assert "growth.yml:15: board 'growth' chart 3: where:" in text and "chanel" in text
    assert "growth.yml:16: board 'growth' chart 4: type 'pie' is not one of" in text
    assert found and list(boards) == ["growth"]
    with pytest.raises(CatalogError):
        load_boards(catalog, tmp_path)


def test_a_yaml_syntax_error_names_the_file(catalog, tmp_path):
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "broken.yml").write_text("board: x\ntiles: [\n")
    _, problems = board_problems(catalog, tmp_path)
    assert len(problems) == 1 and "broken.yml" in problems[0].file and "YAML syntax error" in problems[0].message

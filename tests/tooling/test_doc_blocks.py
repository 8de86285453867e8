# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The writers behind the generated docs: the same blocks as Markdown and as reStructuredText."""

from __future__ import annotations

import pytest
from doc_blocks import Bullets, Comment, Heading, Paragraph, Table, rst_inline, to_markdown, to_rst

BLOCKS = [
    Heading(1, 'Title'),
    Comment('generated'),
    Paragraph('Set `run` to 1.'),
    Heading(2, 'Section `x`'),
    Table(['name', 'note'], [['`a|b`', ''], ['`c`', 'N * 2^B']]),
    Bullets(['`h`: text']),
]


def test_markdown_keeps_backticks_and_escapes_pipes_in_cells():
    assert to_markdown(BLOCKS) == (
        '# Title\n\n<!-- generated -->\n\nSet `run` to 1.\n\n## Section `x`\n\n'
        '| name | note |\n|---|---|\n| `a\\|b` |  |\n| `c` | N * 2^B |\n\n- `h`: text\n'
    )


def test_rst_has_the_label_first_literals_and_an_underline_as_long_as_the_title():
    text = to_rst(BLOCKS, 'ansible_collections.ns.col.docsite.page')
    lines = text.splitlines()
    assert lines[0] == '.. _ansible_collections.ns.col.docsite.page:'
    assert 'Section ``x``\n-------------\n' in text
    assert 'Set ``run`` to 1.' in text
    assert '.. generated' in lines
    assert '   * - ``a|b``\n     -\n' in text


def test_rst_escapes_markup_characters_in_plain_text():
    assert rst_inline('N * 2^B, max_cpu_percentage_ <x>') == 'N \\* 2^B, max\\_cpu\\_percentage\\_ \\<x\\>'


def test_rst_empty_literal_is_left_out():
    assert rst_inline('a `` b') == 'a  b'


def test_unbalanced_backticks_fail():
    with pytest.raises(ValueError, match='unbalanced'):
        rst_inline('a `b')

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A generated document as a few kinds of blocks, written as Markdown or as reStructuredText.

Text in every block marks code with single backticks (`name`), as Markdown does; the RST writer turns
that into RST literals and escapes the rest, so one description yields both pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    level: int  # 1 is the page title
    text: str


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Comment:
    """Not rendered: a note to whoever opens the source (for example that the file is generated)."""

    text: str


Block = Heading | Paragraph | Table | Bullets | Comment


# --- Markdown ---------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace('|', '\\|')


def to_markdown(blocks: list[Block]) -> str:
    parts = []
    for block in blocks:
        if isinstance(block, Heading):
            parts.append('%s %s' % ('#' * block.level, block.text))
        elif isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Table):
            lines = ['| %s |' % ' | '.join(_md_cell(cell) for cell in block.header)]
            lines.append('|' + '---|' * len(block.header))
            lines += ['| %s |' % ' | '.join(_md_cell(cell) for cell in row) for row in block.rows]
            parts.append('\n'.join(lines))
        elif isinstance(block, Bullets):
            parts.append('\n'.join('- %s' % item for item in block.items))
        else:
            parts.append('<!-- %s -->' % block.text)
    return '\n\n'.join(parts) + '\n'


# --- reStructuredText -------------------------------------------------------------------------
# Characters that start RST inline markup or references in running text.
_RST_SPECIAL = '\\*_|`<>[]'
_RST_UNDERLINES = {1: '=', 2: '-', 3: '^'}


def _rst_plain(text: str) -> str:
    return ''.join('\\' + char if char in _RST_SPECIAL else char for char in text)


def rst_inline(text: str) -> str:
    """Backtick-marked text as RST: `code` becomes ``code``, everything else is escaped."""
    pieces = text.split('`')
    if len(pieces) % 2 == 0:
        raise ValueError('unbalanced backticks in %r' % text)
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:
            # an RST literal cannot be empty or start or end with a space
            out.append('``%s``' % piece if piece.strip() == piece and piece else _rst_plain(piece))
        else:
            out.append(_rst_plain(piece))
    return ''.join(out)


def _rst_cell(text: str, first: bool) -> str:
    marker = '   * - ' if first else '     - '
    return (marker + rst_inline(text)).rstrip()


def to_rst(blocks: list[Block], label: str) -> str:
    """The page with the RST label other pages (and R() in plugin docs) refer to."""
    parts = ['.. _%s:' % label]
    for block in blocks:
        if isinstance(block, Heading):
            text = rst_inline(block.text)
            parts.append('%s\n%s' % (text, _RST_UNDERLINES[block.level] * len(text)))
        elif isinstance(block, Paragraph):
            parts.append(rst_inline(block.text))
        elif isinstance(block, Table):
            lines = ['.. list-table::', '   :header-rows: 1', '']
            for row in [block.header] + block.rows:
                lines += [_rst_cell(cell, index == 0) for index, cell in enumerate(row)]
            parts.append('\n'.join(lines))
        elif isinstance(block, Bullets):
            parts.append('\n'.join('- %s' % rst_inline(item) for item in block.items))
        else:
            parts.append('.. %s' % block.text)
    return '\n\n'.join(parts) + '\n'

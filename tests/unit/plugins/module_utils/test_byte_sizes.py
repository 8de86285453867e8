# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Byte counts as people read them."""

from __future__ import annotations

import ast

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils import byte_sizes
from ansible_collections.litevirt.uksm.plugins.module_utils.byte_sizes import human_bytes


@pytest.mark.parametrize('count, text', [(0, '0 B'), (1023, '1023 B'), (1536, '1.5 KiB'), (3 << 30, '3.0 GiB')])
def test_human_bytes(count, text):
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    'count, text',
    [(1024, '1.0 KiB'), (-2048, '-2.0 KiB'), (5 << 40, '5.0 TiB'), (1 << 60, '1024.0 PiB'), (1 << 70, '1048576.0 PiB')],
)
def test_human_bytes_beyond_the_common_units(count, text):
    assert human_bytes(count) == text


def test_it_imports_nothing_so_the_controller_loads_no_module_code():
    with open(byte_sizes.__file__, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    imported = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [node.module for node in imported if isinstance(node, ast.ImportFrom)] == ['__future__']

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_install/launcher_texts.py: each launcher is a Python script that starts the interpreter with the
units' flags and calls the ``main`` of its program in the installed package."""

from __future__ import annotations

import ast
import importlib

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._install import launcher_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._install.unit_texts import PYTHON_FLAGS

PROGRAMS = {
    'launcher_text': 'applier',
    'metrics_launcher_text': 'metrics',
    'pressure_launcher_text': 'tuner',
}
MODULE_UTILS = 'ansible_collections.litevirt.uksm.plugins.module_utils'


@pytest.mark.parametrize('function, program', sorted(PROGRAMS.items()))
def test_launcher_runs_its_program_with_the_units_flags(function, program):
    text = getattr(launcher_texts, function)('/usr/bin/python3')
    shebang = text.splitlines()[0]
    assert shebang == '#!/usr/bin/python3 -ISB'
    assert sorted(shebang.split()[1][1:]) == sorted(PYTHON_FLAGS.replace('-', '').replace(' ', ''))
    imports = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ImportFrom)]
    assert [(node.module, [alias.name for alias in node.names]) for node in imports] == [
        ('uksm_policy._programs.' + program, ['main'])
    ]
    # the program is one of the package's, with the main the launcher calls
    assert callable(importlib.import_module('%s._programs.%s' % (MODULE_UTILS, program)).main)

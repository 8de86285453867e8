# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_install/launcher_texts.py: each launcher is a Python script that starts the interpreter with the
units' flags and calls the ``main`` of its program in the installed package."""

from __future__ import annotations

import ast
import importlib
import py_compile
import subprocess
import sys

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._install import launcher_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._install.package_closure import read_closure, start_order
from ansible_collections.litevirt.uksm.plugins.module_utils._install.unit_texts import PYTHON_FLAGS

PROGRAMS = {
    'launcher_text': 'applier',
    'metrics_launcher_text': 'metrics',
    'pressure_launcher_text': 'tuner',
}
MODULE_UTILS = 'ansible_collections.litevirt.uksm.plugins.module_utils'


@pytest.mark.parametrize('function, program', sorted(PROGRAMS.items()))
def test_launcher_runs_its_program_with_the_units_flags(function, program):
    closure = read_closure()
    start = start_order(closure.imports, '_programs.' + program)
    text = getattr(launcher_texts, function)('/usr/bin/python3', start)
    shebang = text.splitlines()[0]
    assert shebang == '#!/usr/bin/python3 -ISB'
    assert sorted(shebang.split()[1][1:]) == sorted(PYTHON_FLAGS.replace('-', '').replace(' ', ''))
    imports = [node for node in ast.walk(ast.parse(text)) if isinstance(node, ast.ImportFrom)]
    assert [(node.module, [alias.name for alias in node.names]) for node in imports] == [
        ('uksm_policy._programs.' + program, ['main'])
    ]
    # the program is one of the package's, with the main the launcher calls
    assert callable(importlib.import_module('%s._programs.%s' % (MODULE_UTILS, program)).main)
    # it preloads the program's whole start, the package's top first and the program last
    preloaded = ast.literal_eval(text.split('START = ', 1)[1].split('\n_loader = ', 1)[0])
    assert list(preloaded) == start and preloaded[0] == '' and preloaded[-1] == '_programs.' + program


@pytest.mark.parametrize('function, program', sorted(PROGRAMS.items()))
def test_installed_launcher_preloads_its_whole_start_and_runs(tmp_path, function, program):
    # the package as the installer lays it out and compiles it, and the launcher beside it
    closure = read_closure()
    top = tmp_path / 'uksm_policy'
    for name, text in closure.sources.items():
        path = top.joinpath(*name.split('.')).with_suffix('.py')
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')
    for directory in [top] + [path for path in top.iterdir() if path.is_dir()]:
        (directory / '__init__.py').write_text('# installed\n', encoding='utf-8')
    for path in top.rglob('*.py'):
        py_compile.compile(str(path), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    text = getattr(launcher_texts, function)(sys.executable, start_order(closure.imports, '_programs.' + program))
    # a preload that falls back to the import system would still run: here it must not
    launcher = tmp_path / 'launcher'
    assert text.count("\n_preloader['preload'](") == 1
    launcher.write_text(text.replace("\n_preloader['preload'](", "\nassert _preloader['preload']("), encoding='utf-8')
    shown = subprocess.run(
        [sys.executable, '-I', '-S', '-B', str(launcher), '--help'], check=False, capture_output=True, text=True
    )
    assert (shown.returncode, shown.stderr) == (0, '')
    assert shown.stdout.startswith('usage: ')

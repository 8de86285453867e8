# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/_install/launcher_texts.py: each launcher is a Python script that starts the interpreter with the
units' flags and calls the ``main`` of its program in the installed package."""

from __future__ import annotations

import ast
import importlib

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._install import launcher_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._install.installation import START_ROOTS
from ansible_collections.litevirt.uksm.plugins.module_utils._install.package_closure import read_closure, start_order
from ansible_collections.litevirt.uksm.plugins.module_utils._install.unit_texts import PYTHON_FLAGS
from ansible_collections.litevirt.uksm.tests.helpers.boot_package import (
    LAUNCHER_ENDING,
    LAUNCHERS,
    OS_PROBE,
    install_boot_package,
    run_changed_launcher,
)

PROGRAMS = {
    'launcher_text': 'applier',
    'metrics_launcher_text': 'metrics',
    'pressure_launcher_text': 'tuner',
}
MODULE_UTILS = 'ansible_collections.litevirt.uksm.plugins.module_utils'


@pytest.mark.parametrize('function, program', sorted(PROGRAMS.items()))
def test_launcher_runs_its_program_with_the_units_flags(function, program):
    closure = read_closure()
    start = start_order(closure.imports, *START_ROOTS[program])
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


def run_installed_copy(root, program, edit, *args):
    """Install the boot package under ``root`` and run a copy of ``program``'s launcher that ``edit`` changed:
    (stdout, stderr)."""
    install_boot_package(str(root))
    shown = run_changed_launcher(str(root), program, edit, *args)
    return shown.stdout, shown.stderr


@pytest.mark.parametrize('program', sorted(LAUNCHERS))
def test_installed_launcher_preloads_its_whole_start_and_runs(tmp_path, program):
    call = "\n_preloader['preload']("

    def required(text):
        # a preload that falls back to the import system would still run: here it must not
        assert text.count(call) == 1
        return text.replace(call, "\nassert _preloader['preload'](")

    stdout, stderr = run_installed_copy(tmp_path, program, required, '--help')
    assert stderr == '' and stdout.startswith('usage: ')


@pytest.mark.parametrize('program', sorted(LAUNCHERS))
def test_installed_launcher_imports_without_a_collection_and_runs_its_program_with_the_imports_frozen(
    tmp_path, program
):
    # a copy that says, where the program would start, what the collector did since the launcher's first lines
    start = '\ngc.disable()\n'
    seen = "([g['collections'] for g in gc.get_stats()], gc.get_freeze_count())"

    def probed(text):
        assert text.count(start) == 1
        return text.replace(start, start + '_seen = %s\n' % seen).replace(
            LAUNCHER_ENDING, '\n_now = %s\nprint(gc.isenabled(), _now[0] == _seen[0], _now[1] - _seen[1])\n' % seen
        )

    stdout, stderr = run_installed_copy(tmp_path, program, probed)
    assert stderr == ''
    enabled, uncollected, frozen = stdout.split()
    # collected again for what the program makes; nothing walked while importing; the imports kept out of it
    assert (enabled, uncollected) == ('True', 'True')
    assert int(frozen) > 1000


@pytest.mark.parametrize('program', sorted(LAUNCHERS))
def test_installed_launcher_starts_its_program_without_importing_os(tmp_path, program):
    # importing os builds os.environ's mapping classes (_collections_abc): about a tenth of a Python start on
    # a slow host
    stdout, stderr = run_installed_copy(tmp_path, program, lambda text: text.replace(LAUNCHER_ENDING, '\n' + OS_PROBE))
    assert (stdout, stderr) == ('[]\n', '')

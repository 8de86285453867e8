# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A module_utils file's unit tests are found from its path: plugins/module_utils/<folder>/<name>.py is tested by
tests/unit/plugins/module_utils/<folder>/test_<name>.py (its component tests, on simulated hosts, are in the
same folder under tests/component/plugins/module_utils)."""

from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULE_UTILS = os.path.join(ROOT, 'plugins', 'module_utils')


def _untested(module_utils: str, tests: str) -> list[str]:
    missing = []
    for folder, _subfolders, files in os.walk(module_utils):
        relative = os.path.relpath(folder, module_utils)
        for name in files:
            tested = os.path.exists(os.path.normpath(os.path.join(tests, relative, 'test_' + name)))
            if name.endswith('.py') and name != '__init__.py' and not tested:
                missing.append(os.path.normpath(os.path.join(relative, name)))
    return sorted(missing)


def test_every_module_utils_file_has_unit_tests_at_its_mirrored_path():
    assert _untested(MODULE_UTILS, os.path.join(ROOT, 'tests', 'unit', 'plugins', 'module_utils')) == []


def test_a_file_without_tests_is_found_expected_failure(tmp_path):
    (tmp_path / 'code' / '_host').mkdir(parents=True)
    (tmp_path / 'code' / '_host' / 'new.py').write_text('')
    (tmp_path / 'code' / '_host' / '__init__.py').write_text('')
    assert _untested(str(tmp_path / 'code'), str(tmp_path / 'tests')) == [os.path.join('_host', 'new.py')]

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy role's variables: one prefix, one description each, defaults that match it.

ansible-lint's var-naming[no-role-prefix] wants the bare role name (policy_); this replaces it
with the collection-scoped prefix the role uses.
"""

from __future__ import annotations

import glob
import os

import yaml

ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles', 'policy')
PREFIX = 'uksm_policy_'


def _load(relative):
    with open(os.path.join(ROLE, relative), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _tasks():
    for path in sorted(glob.glob(os.path.join(ROLE, 'tasks', '*.yml'))):
        with open(path, encoding='utf-8') as handle:
            for task in yaml.safe_load(handle) or []:
                yield os.path.basename(path), task


def test_defaults_and_argument_specs_agree():
    defaults = _load('defaults/main.yml')
    options = _load('meta/argument_specs.yml')['argument_specs']['main']['options']
    assert sorted(defaults) == sorted(options)
    for name, spec in options.items():
        assert name.startswith(PREFIX)
        assert spec.get('default') == defaults[name], name
        assert spec.get('description'), name


def test_variables_set_by_tasks_carry_the_prefix():
    for path, task in _tasks():
        names = [task['register']] if 'register' in task else []
        names += list(task.get('ansible.builtin.set_fact', {}) or {})
        for name in names:
            assert name.startswith((PREFIX, '__' + PREFIX)), '%s: %s' % (path, name)
        for name in task.get('vars', {}) or {}:
            assert name.startswith('__'), '%s: task variable %s should be private' % (path, name)


def test_readme_documents_every_variable():
    with open(os.path.join(ROLE, 'README.md'), encoding='utf-8') as handle:
        readme = handle.read()
    for name in _load('defaults/main.yml'):
        assert '`%s`' % name in readme, name
    assert '`uksm_policy_result`' in readme

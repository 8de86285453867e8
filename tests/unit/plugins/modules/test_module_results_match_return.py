# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every key a module returns is in its RETURN, on every path: success in each mode, backend and
state, and every failure (refusals of the argument spec and of the module, kernel errnos with their
rollback, the lock, unsafe files, systemctl).

Each path (result_paths_<module> in tests/tools) runs the module's ``main()`` in-process on a fake
host: the results are what the module built, not written by hand. Their keys are compared with
RETURN by return_doc: a key RETURN does not document fails the test, naming the module, the path and
the key; so does a value of another type than documented, and a documented key that no path returns
(stale documentation).
"""

from __future__ import annotations

import os
import typing as t

import pytest

from ansible_collections.litevirt.uksm.plugins.modules import uksm_facts, uksm_tunable
from ansible_collections.litevirt.uksm.tests.helpers import (
    result_paths_uksm_facts,
    result_paths_uksm_policy,
    result_paths_uksm_policy_unit,
    result_paths_uksm_tunable,
    return_doc,
)
from ansible_collections.litevirt.uksm.tests.helpers.result_paths import PATHS, name_of, result_of

# importing a module's paths registers them in PATHS
PATH_FILES = (
    result_paths_uksm_facts,
    result_paths_uksm_tunable,
    result_paths_uksm_policy_unit,
    result_paths_uksm_policy,
)
MODULES = tuple(paths.MODULE for paths in PATH_FILES)
MODULES_DIRECTORY = os.path.dirname(os.path.abspath(uksm_facts.__file__))

# Entries of type dict (or lists of dicts) without `contains`: mappings keyed by data, whose keys are
# therefore not return keys. A record with fixed keys must document them with `contains` instead.
FREE_MAPPINGS = {
    'uksm_facts': {
        'ansible_facts.uksm.tunables': 'keyed by attribute name',
        'ansible_facts.uksm.choices': 'keyed by attribute name',
        'ansible_facts.uksm.stats': 'keyed by statistic name',
        'ansible_facts.uksm.defaults': 'keyed by attribute name',
        'ansible_facts.uksm.conflicts': 'keyed by service name (each value described in the description)',
        'ansible_facts.uksm.policy.settings': 'keyed by backend, then attribute name',
        'ansible_facts.uksm.policy.pressure.tiers[].settings': 'keyed by attribute name',
        'ansible_facts.uksm.policy.tier_settings': 'keyed by attribute name',
        'ansible_facts.uksm.policy.raised_by_kernel': 'keyed by attribute name (each value described in the description)',
    },
    'uksm_tunable': {
        'settings': 'keyed by attribute name',
        'raised_by_kernel': 'keyed by attribute name (each value described in the description)',
        'pressure.tier_settings': 'keyed by attribute name',
    },
    'uksm_policy_unit': {},
    'uksm_policy': {
        'policy': 'keyed by backend, then attribute name',
        'raised_by_kernel': 'keyed by attribute name (each value described in the description)',
    },
}


def check_documented(module: t.Any, case_name: str, result: dict[str, t.Any]) -> None:
    """Fail naming the module, the path and each key of ``result`` that RETURN does not document."""
    keys = return_doc.undocumented(result, return_doc.returns_of(module), return_doc.exempt_of(module))
    assert not keys, '%s, path %r: returned key(s) not in RETURN: %s' % (name_of(module), case_name, ', '.join(keys))


# -- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize('case', PATHS, ids=[case.id for case in PATHS])
def test_every_key_a_module_returns_is_documented_in_its_return(case):
    check_documented(case.module, case.name, result_of(case))


@pytest.mark.parametrize('case', PATHS, ids=[case.id for case in PATHS])
def test_every_returned_value_has_its_documented_type(case):
    problems = return_doc.mistyped(result_of(case), return_doc.returns_of(case.module))
    assert not problems, '%s: %s' % (case.id, '; '.join(problems))


def stale_keys(module: t.Any) -> list[str]:
    """The keys RETURN documents that no path of ``module`` returns."""
    returns = return_doc.returns_of(module)
    seen: set[str] = set()
    for case in PATHS:
        if case.module is module:
            seen |= return_doc.seen_paths(result_of(case), returns)
    return [key for key in return_doc.documented_paths(returns) if key not in seen]


@pytest.mark.parametrize('module', MODULES, ids=name_of)
def test_every_documented_key_is_returned_on_some_path(module):
    stale = stale_keys(module)
    assert not stale, '%s: RETURN documents key(s) no path returns: %s' % (name_of(module), ', '.join(stale))


@pytest.mark.parametrize('module', MODULES, ids=name_of)
def test_dicts_documented_without_contains_are_mappings_keyed_by_data(module):
    free = set(return_doc.free_mappings(return_doc.returns_of(module)))
    declared = set(FREE_MAPPINGS[name_of(module)])
    assert not free - declared, (
        '%s: dicts documented without contains: %s; document their keys with contains, or name them in '
        'FREE_MAPPINGS with the reason their keys are data' % (name_of(module), ', '.join(sorted(free - declared)))
    )
    assert not declared - free, '%s: FREE_MAPPINGS names what RETURN does not: %s' % (
        name_of(module),
        ', '.join(sorted(declared - free)),
    )


@pytest.mark.parametrize('module', MODULES, ids=name_of)
def test_every_module_has_success_and_failure_paths(module):
    succeeded = {'changed' in result_of(case) for case in PATHS if case.module is module}
    assert succeeded == {True, False}


def test_every_module_of_the_collection_has_its_paths():
    modules = sorted(
        name[:-3] for name in os.listdir(MODULES_DIRECTORY) if name.endswith('.py') and name != '__init__.py'
    )
    assert sorted(name_of(module) for module in MODULES) == modules, 'add tests/helpers/result_paths_<module>.py'
    assert {name_of(case.module) for case in PATHS} == set(modules)


def test_the_exempt_keys_are_the_common_return_values_and_facts_only_for_a_facts_module():
    assert set(return_doc.exempt_of(uksm_facts)) == set(return_doc.COMMON_RETURN_VALUES) | {'ansible_facts'}
    assert set(return_doc.exempt_of(uksm_tunable)) == set(return_doc.COMMON_RETURN_VALUES)


# -- the check catches what it must ---------------------------------------------------------------


def _first(module: t.Any, name: str) -> dict[str, t.Any]:
    return result_of(next(case for case in PATHS if case.module is module and case.name == name))


def test_an_undocumented_key_fails_the_check_naming_module_path_and_key_expected_failure(monkeypatch):
    result = _first(uksm_tunable, 'kernel EINVAL on a write, rolled back')
    undocumented_return = uksm_tunable.RETURN.replace('failed_attribute:', 'attribute_that_failed:')
    monkeypatch.setattr(uksm_tunable, 'RETURN', undocumented_return)
    with pytest.raises(AssertionError) as caught:
        check_documented(uksm_tunable, 'kernel EINVAL on a write, rolled back', result)
    assert str(caught.value).startswith(
        "uksm_tunable, path 'kernel EINVAL on a write, rolled back': returned key(s) not in RETURN: failed_attribute"
    )


@pytest.mark.parametrize(
    'extra, path',
    [
        ({'pressure': {'tier': 0, 'threshold': 30}}, 'pressure.threshold'),
        ({'changes': [{'name': 'run', 'before': 0, 'after': 1, 'written': True}]}, 'changes[].written'),
        ({'ansible_facts': {'uksm': {}}}, 'ansible_facts'),
    ],
    ids=['nested', 'in-a-list', 'facts-of-a-module-without-facts'],
)
def test_an_undocumented_nested_key_is_found_expected_failure(extra, path):
    result = dict(_first(uksm_tunable, 'KSM, check mode'), **extra)
    keys = return_doc.undocumented(result, return_doc.returns_of(uksm_tunable), return_doc.exempt_of(uksm_tunable))
    assert keys == [path]


def test_a_value_of_another_type_than_documented_is_found_expected_failure():
    result = dict(_first(uksm_tunable, 'KSM, check mode'), backend=1, changes=[1])
    problems = return_doc.mistyped(result, return_doc.returns_of(uksm_tunable))
    assert problems == ['backend: is int (1), RETURN says str', 'changes: an element is int (1), RETURN says dict']


def test_a_fixed_key_dict_without_contains_is_found_expected_failure():
    returns = {'unit': {'type': 'dict', 'description': 'x'}, 'rows': {'type': 'list', 'elements': 'dict'}}
    assert return_doc.free_mappings(returns) == ['unit', 'rows[]']


def test_a_documented_key_no_path_returns_is_found_expected_failure(monkeypatch):
    ghost = "ghost:\n  description: Returned by no path.\n  returned: never\n  type: str\n"
    monkeypatch.setattr(uksm_tunable, 'RETURN', uksm_tunable.RETURN + ghost)
    assert stale_keys(uksm_tunable) == ['ghost']

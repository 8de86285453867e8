# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The uksm_policy action: one module run, with the caller's other prefixed variables passed along."""

from __future__ import annotations

import typing as t
from unittest import mock

from ansible.plugins.action import ActionBase

from ansible_collections.litevirt.uksm.plugins.action.uksm_policy import ActionModule


def _run(args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The module arguments each module run got (ansible-core's normal action runs it, and removes the
    remote temporary directory afterwards)."""
    task = mock.MagicMock(args=args, action='litevirt.uksm.uksm_policy', async_val=0)
    templar = mock.MagicMock(template=lambda value: value)
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), templar, mock.MagicMock())
    sent, removed = [], []

    def execute(module_name: t.Any = None, module_args: t.Any = None, **_options: t.Any) -> dict[str, t.Any]:
        assert module_name is None  # the task's own module
        sent.append(action._task.args if module_args is None else module_args)
        return {'changed': False}

    with (
        mock.patch.object(ActionBase, 'run', return_value={}),
        mock.patch.object(action, '_execute_module', execute),
        mock.patch.object(action, '_remove_tmp_path', removed.append),
    ):
        assert action.run(task_vars=task_vars) == {'changed': False}
    assert len(removed) == 1
    return sent


def test_the_callers_other_prefixed_variables_go_to_the_module_once():
    task_vars = {'uksm_policy_state': 'present', 'uksm_policy_stat': 'absent', 'other': 1, 'inventory_hostname': 'h'}
    sent = _run({'state': 'present', 'option_prefix': 'uksm_policy_'}, task_vars)
    assert sent == [
        {'state': 'present', 'option_prefix': 'uksm_policy_', 'caller_variables': {'uksm_policy_stat': 'absent'}}
    ]


def test_without_a_prefix_or_with_the_option_given_the_arguments_are_the_tasks():
    assert _run({'state': 'present'}, {'uksm_policy_stat': 'absent'}) == [{'state': 'present'}]
    given = {'option_prefix': 'p_', 'caller_variables': {'p_x': 1}}
    assert _run(given, {'p_y': 2}) == [given]

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_policy, with the caller's variables under its option prefix passed along.

The policy role sets ``option_prefix: uksm_policy_``: every ``uksm_policy_*`` variable that is not one
of the task's options then goes to the module as ``caller_variables``, which refuses a name close to an
option as a misspelling (``uksm_policy_stat``). Reading the names here, from the task's variables,
costs microseconds per host; a lookup in the role's Jinja cost 10 to 27 ms (measured). Everything else
is ansible-core's normal action: one module run, async and the remote temporary directory as usual.
"""

from __future__ import annotations

import typing as t

from ansible.plugins.action.normal import ActionModule as NormalAction


class ActionModule(NormalAction):
    """The normal action, with ``caller_variables`` added to the task's arguments."""

    def run(self, tmp: t.Any = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        args = self._task.args
        prefix = args.get('option_prefix')
        if prefix and task_vars and 'caller_variables' not in args:
            # the options the task sets are known; only the other names are the module's to judge
            self._task.args = dict(
                args,
                caller_variables={
                    name: self._templar.template(task_vars[name])
                    for name in task_vars
                    if name.startswith(prefix) and name[len(prefix) :] not in args
                },
            )
        return super().run(tmp, task_vars)

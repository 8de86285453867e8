# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's ``main()`` in this process with task arguments, and get what it exited or failed with.

``exit_json`` and ``fail_json`` are replaced by exceptions carrying their keyword arguments, so a test
sees the result exactly as the module built it, and a module that fails twice, or returns without
exiting, is caught. The arguments reach ``AnsibleModule`` through ansible-core's own
``patch_module_args``; ``check_mode`` and ``diff`` are the task keywords of the same names.
"""

from __future__ import annotations

import typing as t
from unittest import mock

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """The module called ``exit_json`` (``failed`` false) or ``fail_json`` (``failed`` true)."""

    def __init__(self, failed: bool, result: dict[str, t.Any]) -> None:
        super().__init__(result.get('msg', result))
        self.failed = failed
        self.result = result


def _exit_json(_module: AnsibleModule, **result: t.Any) -> t.NoReturn:
    raise ModuleExit(False, result)


def _fail_json(_module: AnsibleModule, msg: str, **result: t.Any) -> t.NoReturn:
    assert isinstance(msg, str) and msg, 'fail_json needs a message'
    raise ModuleExit(True, dict(result, msg=msg))


def run(main: t.Callable[[], None], args: dict[str, t.Any], check_mode: bool = False, diff: bool = False) -> ModuleExit:
    """Run ``main`` with ``args``; the ModuleExit it ended with."""
    task_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(task_args), mock.patch.multiple(AnsibleModule, exit_json=_exit_json, fail_json=_fail_json):
        try:
            main()
        except ModuleExit as ended:
            return ended
    raise AssertionError('main() returned without exit_json or fail_json')


def exits(main: t.Callable[[], None], args: dict[str, t.Any], **options: t.Any) -> dict[str, t.Any]:
    """The result of a run that must succeed."""
    ended = run(main, args, **options)
    assert not ended.failed, 'the module failed: %r' % (ended.result,)
    return ended.result


def fails(main: t.Callable[[], None], args: dict[str, t.Any], **options: t.Any) -> dict[str, t.Any]:
    """The ``fail_json`` arguments of a run that must fail."""
    ended = run(main, args, **options)
    assert ended.failed, 'the module did not fail: %r' % (ended.result,)
    return ended.result

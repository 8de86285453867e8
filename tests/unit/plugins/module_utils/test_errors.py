# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception family and the one way a module fails: ``fail_json(**failure(error))`` carries the
message and every detail, and an operating-system error its errno."""

from __future__ import annotations

import errno

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils import errors
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import LockTimeout
from ansible_collections.litevirt.uksm.plugins.module_utils._host.persist import PolicyFileError
from ansible_collections.litevirt.uksm.plugins.module_utils._host.safefiles import UnsafePathError
from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import SysrootError
from ansible_collections.litevirt.uksm.plugins.module_utils._install.systemctl import SystemctlError
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.value_kinds import KernelFormatError, KnobValueError
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.transaction import ApplyError
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import TunableError
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.launcher import UsageError
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import CAUGHT, UksmError, failure


def test_uksm_error_keeps_its_message_and_details():
    error = UksmError('3 invalid setting(s)', problems=['a', 'b', 'c'], errno=22)
    assert str(error) == '3 invalid setting(s)'
    assert error.args == ('3 invalid setting(s)',)
    assert error.details == {'problems': ['a', 'b', 'c'], 'errno': 22}


def test_uksm_error_without_details_has_an_empty_dict():
    assert UksmError('plain').details == {}


def test_failure_of_a_plain_uksm_error_is_only_its_message():
    assert failure(UksmError('no UKSM or KSM interface on this host')) == {
        'msg': 'no UKSM or KSM interface on this host'
    }


def test_failure_carries_every_detail_as_a_result_key():
    error = UksmError('1 invalid setting(s), nothing was written', problems=["run: 7 is out of range"])
    assert failure(error) == {
        'msg': '1 invalid setting(s), nothing was written',
        'problems': ['run: 7 is out of range'],
    }


def test_failure_of_a_failed_write_names_the_attribute_errno_and_what_was_restored():
    error = ApplyError(
        "writing run='1' failed: EBUSY (Device or resource busy); restored: sleep_millisecs=20",
        'run',
        errno.EBUSY,
        ['sleep_millisecs=20'],
        [],
    )
    assert failure(error) == {
        'msg': "writing run='1' failed: EBUSY (Device or resource busy); restored: sleep_millisecs=20",
        'failed_attribute': 'run',
        'errno': errno.EBUSY,
        'restored': ['sleep_millisecs=20'],
        'not_restored': [],
    }


def test_failure_of_an_os_error_adds_its_errno():
    error = FileNotFoundError(errno.ENOENT, 'No such file or directory', '/srv/hv01/etc/x')
    assert failure(error) == {
        'msg': "[Errno 2] No such file or directory: '/srv/hv01/etc/x'",
        'errno': errno.ENOENT,
    }


def test_failure_of_an_os_error_without_errno_has_no_errno_key():
    assert failure(OSError('cannot read the source of x')) == {'msg': 'cannot read the source of x'}


def test_failure_of_an_unsafe_path_is_the_refusal_and_eperm():
    error = UnsafePathError('/etc/litevirt-uksm/policy.conf', 'a symlink, which root must not follow')
    assert failure(error) == {
        'msg': 'refusing /etc/litevirt-uksm/policy.conf: a symlink, which root must not follow',
        'errno': errno.EPERM,
    }


def test_errno_in_the_details_wins_over_the_os_errors_own():
    class WriteRefused(UksmError, OSError):
        pass

    error = WriteRefused('writing run failed', errno=errno.EBUSY)
    error.errno = errno.EIO
    assert failure(error) == {'msg': 'writing run failed', 'errno': errno.EBUSY}


def test_failure_of_an_error_outside_the_family_is_its_message():
    assert failure(ValueError('bad')) == {'msg': 'bad'}


@pytest.mark.parametrize(
    'error_class',
    [
        SysrootError,
        UsageError,
        LockTimeout,
        PolicyFileError,
        SystemctlError,
        TunableError,
        KernelFormatError,
    ],
)
def test_every_raised_error_is_in_the_family_a_module_catches(error_class):
    error = error_class('message')
    assert isinstance(error, UksmError) and isinstance(error, CAUGHT)
    assert failure(error) == {'msg': 'message'}


def test_knob_value_error_and_apply_error_are_caught_too():
    assert isinstance(KnobValueError('is out of range', 'an integer from 0 to 1'), CAUGHT)
    assert isinstance(ApplyError('m', 'run', None, [], []), CAUGHT)


def test_caught_is_the_family_and_os_errors_only():
    assert (UksmError, OSError) == errors.CAUGHT
    assert not isinstance(ValueError('x'), CAUGHT) and not isinstance(KeyError('x'), CAUGHT)

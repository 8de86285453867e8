# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_tunable without Ansible, on a tree of regular files: run() detects the backend, reads what
the planner needs, refuses an invalid request before any write, writes under the host lock (or,
in check mode, predicts without a lock or a write), reports the settings, every change and the
diff in the kernel's order, and records or forgets the request in the policy file, which it
leaves alone when the run failed.

The kernel's side of a write is fake_sysfs.FakeHost (os.write inside transaction.py).
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
import time
import typing as t

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host import hostinfo, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._host.lock import HostLock, LockTimeout
from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import Detection, detect
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import tunable
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.transaction import ApplyError
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import TunableError, run
from ansible_collections.litevirt.uksm.tests.helpers.fake_sysfs import FakeHost

UKSM_DIRECTORY = '/sys/kernel/mm/uksm'
NO_INTERFACE = (
    'no UKSM or KSM interface on this host: /sys/kernel/mm/uksm does not exist; /sys/kernel/mm/ksm does not exist; '
    'the kernel is built without KSM/UKSM or /sys is masked'
)
GOVERNOR_MEDIUM = [
    {'name': 'cpu_governor', 'before': 'full', 'after': 'medium', 'cause': 'requested'},
    {'name': 'max_cpu_percentage', 'before': 95, 'after': 50, 'cause': 'reset by cpu_governor'},
    {
        'name': 'cpu_ratios',
        'before': ['20', '40', 'MAX/4', 'MAX/1'],
        'after': ['20', '30', 'MAX/4', 'MAX/1'],
        'cause': 'reset by cpu_governor',
    },
    {
        'name': 'eval_intervals',
        'before': [1000, 500, 200, 50],
        'after': [1000, 500, 400, 100],
        'cause': 'reset by cpu_governor',
    },
]


def host_for(tmp_path: t.Any, monkeypatch: t.Any, backend: str = 'uksm', **options: t.Any) -> FakeHost:
    return FakeHost(tmp_path, backend, **options).install(monkeypatch)


def policy_text(host: FakeHost) -> str | None:
    path = persist.path_of(host.root)
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def lock_directory(host: FakeHost) -> str:
    return os.path.join(host.root, 'run', 'litevirt-uksm')


# applying


def test_request_is_applied_and_reported_in_the_kernels_order(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'sleep_millisecs': 40, 'cpu_governor': 'medium'})
    assert host.writes == [('cpu_governor', 'medium\n'), ('sleep_millisecs', '40\n')]
    assert result['changed'] is True and result['backend'] == 'uksm'
    assert list(result['settings'].items()) == [('cpu_governor', 'medium'), ('sleep_millisecs', 40)]
    # the governor's preset is part of what changed
    changes = GOVERNOR_MEDIUM + [{'name': 'sleep_millisecs', 'before': 100, 'after': 40, 'cause': 'requested'}]
    assert result['changes'] == changes
    assert result['diff'] == [
        {
            'before': {change['name']: change['before'] for change in changes},
            'after': {change['name']: change['after'] for change in changes},
            'before_header': UKSM_DIRECTORY,
            'after_header': UKSM_DIRECTORY,
        }
    ]
    assert 'policy_file' not in result
    # the lock was taken: its file names the last holder
    with open(os.path.join(lock_directory(host), 'lock'), encoding='ascii') as handle:
        assert handle.read() == '%d\n' % os.getpid()


def test_request_in_force_changes_nothing_and_writes_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    run(host.root, 'auto', {'sleep_millisecs': 40, 'cpu_governor': 'medium'})
    written = list(host.attempts)
    result = run(host.root, 'auto', {'sleep_millisecs': 40, 'cpu_governor': 'medium'})
    assert result['changed'] is False and result['changes'] == []
    assert result['settings'] == {'cpu_governor': 'medium', 'sleep_millisecs': 40}
    assert result['diff'][0]['before'] == result['diff'][0]['after'] == {}
    assert host.attempts == written


def test_settings_report_what_the_kernel_reads_back(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'sleep_millisecs': 5, 'max_cpu_percentage': 100})
    assert result['settings'] == {'max_cpu_percentage': 99, 'sleep_millisecs': 8}


def test_check_mode_predicts_without_a_write_or_a_lock(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    result = run(host.root, 'auto', {'sleep_millisecs': 40, 'cpu_governor': 'medium'}, check_mode=True)
    assert result['changed'] is True
    assert result['changes'] == GOVERNOR_MEDIUM + [
        {'name': 'sleep_millisecs', 'before': 100, 'after': 40, 'cause': 'requested'}
    ]
    assert result['settings'] == {'cpu_governor': 'medium', 'sleep_millisecs': 40}
    assert host.attempts == [] and host.texts() == before
    assert not os.path.exists(os.path.join(host.root, 'run'))


def test_check_mode_past_lock_timeout_reads_anyway_and_takes_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    with HostLock(host.root):
        result = run(host.root, 'auto', {'thrash_threshold': 30}, check_mode=True, lock_timeout=0)
    assert result['changes'] == [{'name': 'thrash_threshold', 'before': 50, 'after': 30, 'cause': 'requested'}]


def test_check_mode_waits_for_a_writer_and_predicts_from_what_it_wrote(tmp_path, monkeypatch):
    """Check mode holds the lock shared: a prediction read halfway through a write would be wrong."""
    host = host_for(tmp_path, monkeypatch)
    writer = HostLock(host.root)
    writer.__enter__()
    host.set('thrash_threshold', '30\n')  # the writer's first write; its second comes before it lets go

    def second_write_and_release() -> None:
        host.set('sleep_millisecs', '40\n')
        writer.__exit__(None, None, None)

    timer = threading.Timer(0.3, second_write_and_release)
    timer.start()
    started = time.monotonic()
    try:
        result = run(host.root, 'auto', {'thrash_threshold': 30, 'sleep_millisecs': 40}, check_mode=True)
    finally:
        timer.join()
    assert time.monotonic() - started >= 0.3
    assert result['changed'] is False and result['changes'] == []


def test_lock_held_by_another_writer_fails_after_the_timeout_without_writing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    with HostLock(host.root), pytest.raises(LockTimeout) as caught:
        run(host.root, 'auto', {'thrash_threshold': 30}, lock_timeout=0.1)
    assert str(caught.value) == (
        '/run/litevirt-uksm/lock is held by another writer (pid %d) for more than 0.1s' % os.getpid()
    )
    assert host.attempts == []


def test_caller_that_holds_the_lock_is_not_made_to_wait_for_itself(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    with HostLock(host.root):
        result = run(host.root, 'uksm', {'thrash_threshold': 30}, locked_by_caller=True, lock_timeout=0)
    assert result['changed'] is True and host.writes == [('thrash_threshold', '30\n')]


def test_detection_of_the_caller_is_used_without_a_second_look(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    detection = detect(host.root)

    def second_look(*_args: t.Any) -> Detection:
        raise AssertionError('detect() called again')

    monkeypatch.setattr(tunable, 'detect', second_look)
    assert run(host.root, 'uksm', {'thrash_threshold': 30}, detection=detection)['changed'] is True


def test_opt_ins_reach_the_planner_and_the_transaction(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    with pytest.raises(TunableError, match='corrupts kernel memory'):
        run(host.root, 'auto', {'eval_intervals': [1, 2, 3, 4]})
    result = run(host.root, 'auto', {'eval_intervals': [1, 2, 3, 4]}, allow_eval_intervals=True)
    assert host.writes == [('eval_intervals', '1 2 3 4\n')]
    assert result['settings'] == {'eval_intervals': [1, 2, 3, 4]}


def test_ksm_unmerge_needs_its_opt_in(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch, 'ksm', values={'run': '1\n', 'pages_shared': '10\n'})
    with pytest.raises(TunableError) as caught:
        run(host.root, 'auto', {'merge_across_nodes': 0})
    assert 'cannot change while 10 pages are shared (EBUSY)' in str(caught.value)
    assert host.attempts == []
    result = run(host.root, 'auto', {'merge_across_nodes': 0}, allow_unmerge=True)
    assert host.writes == [('run', '2\n'), ('merge_across_nodes', '0\n'), ('run', '1\n')]
    assert result['changes'] == [{'name': 'merge_across_nodes', 'before': 1, 'after': 0, 'cause': 'requested'}]


def test_ksm_advisor_mode_change_reports_the_pages_to_scan_it_resets(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch, 'ksm')
    result = run(host.root, 'auto', {'advisor_mode': 'scan-time', 'advisor_min_pages_to_scan': 800})
    assert host.writes == [('advisor_mode', 'scan-time\n'), ('advisor_min_pages_to_scan', '800\n')]
    assert result['changes'] == [
        {'name': 'advisor_mode', 'before': 'none', 'after': 'scan-time', 'cause': 'requested'},
        {'name': 'pages_to_scan', 'before': 100, 'after': 500, 'cause': 'reset by advisor_mode'},
        {'name': 'advisor_min_pages_to_scan', 'before': 500, 'after': 800, 'cause': 'requested'},
    ]
    assert result['msg'] == '2 requested, 3 changed: advisor_mode reset pages_to_scan'


def test_write_that_fails_fails_the_run_and_restores(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = host.texts()
    host.fail('sleep_millisecs', errno.EINVAL)
    with pytest.raises(ApplyError) as caught:
        run(host.root, 'auto', {'cpu_governor': 'low', 'sleep_millisecs': 40})
    assert str(caught.value) == (
        "writing sleep_millisecs='40' failed: EINVAL (Invalid argument); restored: cpu_governor=full"
    )
    assert host.texts() == before


# refused before any write


def test_invalid_settings_are_refused_all_at_once_before_any_write(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    with pytest.raises(TunableError) as caught:
        run(host.root, 'auto', {'run': 2, 'cpu_gov': 'full', 'thrash_threshold': 30})
    problems = caught.value.details['problems']
    assert len(problems) == 2
    assert problems[0].startswith('run: 2 is out of range; accepted: an integer from 0 to 1')
    assert problems[1].startswith("cpu_gov (given 'full') is not a uksm attribute (did you mean cpu_governor?)")
    assert str(caught.value) == '2 invalid setting(s), nothing was written: ' + ' | '.join(problems)
    assert host.attempts == []


def test_run_without_uksmd_is_refused_asking_for_a_reboot(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch, values={'run': '0\n'}, daemon=False)
    with pytest.raises(TunableError) as caught:
        run(host.root, 'auto', {'run': 1})
    assert 'the uksmd kernel thread is gone, so the write would block forever; reboot the host' in str(caught.value)
    assert host.attempts == []


def test_run_with_uksmd_running_is_written_last(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'run': 0, 'thrash_threshold': 30})
    assert host.writes == [('thrash_threshold', '30\n'), ('run', '0\n')]
    assert list(result['settings']) == ['thrash_threshold', 'run']


def test_thread_is_looked_for_only_when_run_is_written_and_once_per_run(tmp_path, monkeypatch):
    # finding uksmd reads /proc/<pid>/comm of every process up to it: a run that leaves run alone skips it,
    # and the transaction's look just before the write checks the pid the planner found
    host = host_for(tmp_path, monkeypatch)
    scans: list[list[str]] = []
    scan = hostinfo.root_processes

    def counted(sysroot: str, names: list[str]) -> dict[str, int]:
        scans.append(list(names))
        return scan(sysroot, names)

    monkeypatch.setattr(hostinfo, 'root_processes', counted)
    run(host.root, 'auto', {'thrash_threshold': 30, 'run': 1})
    assert scans == [] and host.writes == [('thrash_threshold', '30\n')]
    run(host.root, 'auto', {'run': 0})
    assert scans == [['uksmd']] and host.writes[-1] == ('run', '0\n')


def test_host_without_an_interface_is_refused_with_the_reason(tmp_path):
    with pytest.raises(TunableError) as caught:
        run(str(tmp_path), 'auto', {'run': 1})
    assert str(caught.value) == NO_INTERFACE


def test_backend_the_host_lacks_is_refused_naming_what_it_has(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    with pytest.raises(TunableError) as caught:
        run(host.root, 'ksm', {'run': 1})
    assert str(caught.value) == (
        'backend=ksm: /sys/kernel/mm/ksm does not exist on this host; it has UKSM (backend: auto or uksm)'
    )


def test_backend_forced_on_a_host_without_either_says_so(tmp_path):
    with pytest.raises(TunableError) as caught:
        run(str(tmp_path), 'uksm', {'run': 1})
    assert str(caught.value) == (
        'backend=uksm: /sys/kernel/mm/uksm does not exist on this host; it has neither UKSM nor KSM'
    )


def test_host_state_of_a_host_without_an_interface_is_refused(tmp_path):
    with pytest.raises(TunableError, match='no UKSM or KSM interface on this host: masked'):
        tunable._host_state(Detection(reason='masked'), str(tmp_path))


@pytest.mark.parametrize(
    'damage, message',
    [
        ('text', "cannot read the current values: sleep_millisecs: expected an unsigned integer, read 'soon\\n'"),
        ('directory', 'cannot read the current values: sleep_millisecs: cannot read: Is a directory (errno 21)'),
    ],
)
def test_current_value_that_cannot_be_read_fails_before_any_write(tmp_path, monkeypatch, damage, message):
    host = host_for(tmp_path, monkeypatch)
    if damage == 'text':
        host.set('sleep_millisecs', 'soon\n')
    else:
        os.unlink(host.path('sleep_millisecs'))
        os.mkdir(host.path('sleep_millisecs'))
    with pytest.raises(TunableError) as caught:
        run(host.root, 'auto', {'thrash_threshold': 30})
    assert str(caught.value) == message
    assert host.attempts == []


def test_only_the_statistics_the_planner_needs_are_read(tmp_path, monkeypatch):
    # KSM's planner needs pages_shared (EBUSY), not pages_volatile
    host = host_for(tmp_path, monkeypatch, 'ksm', values={'pages_volatile': 'many\n'})
    assert run(host.root, 'auto', {'pages_to_scan': 500})['changed'] is True
    host.set('pages_shared', 'many\n')
    with pytest.raises(TunableError, match="pages_shared: expected an unsigned integer, read 'many"):
        run(host.root, 'auto', {'pages_to_scan': 600})


# presets


def test_preset_is_a_base_that_settings_override(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'sleep_millisecs': 200}, preset='quiet')
    # run=1 is in force, so only the governor and sleep_millisecs are written
    assert host.writes == [('cpu_governor', 'quiet\n'), ('sleep_millisecs', '200\n')]
    assert result['settings'] == {'cpu_governor': 'quiet', 'sleep_millisecs': 200, 'run': 1}
    result = run(host.root, 'auto', {'cpu_governor': 'low'}, preset='quiet')
    assert result['settings']['cpu_governor'] == 'low'


def test_preset_skips_the_attributes_an_older_kernel_lacks(tmp_path, monkeypatch):
    older = ('use_zero_pages', 'smart_scan', 'advisor_mode', 'advisor_max_cpu', 'advisor_min_pages_to_scan')
    older += ('advisor_max_pages_to_scan', 'advisor_target_scan_time')
    host = host_for(tmp_path, monkeypatch, 'ksm', missing=older)
    result = run(host.root, 'auto', {}, preset='density')
    assert result['settings'] == {'pages_to_scan': 1000, 'sleep_millisecs': 20, 'run': 1}
    assert host.writes == [('pages_to_scan', '1000\n'), ('run', '1\n')]


# the persisted policy


def test_persist_records_the_request_as_normalised(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'sleep_millisecs': 40, 'cpu_ratios': '1 2 3 MAX/150'}, persist_policy=True)
    text = persist.HEADER + '\n[uksm]\ncpu_ratios = 1 2 3 MAX/151\nsleep_millisecs = 40\n'
    path = persist.path_of(host.root)
    assert policy_text(host) == text
    assert result['changed'] is True and result['policy_file'] == path
    assert result['diff'][1] == {'before': '', 'after': text, 'before_header': path, 'after_header': path}


def test_persist_of_a_request_in_force_and_recorded_changes_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    run(host.root, 'auto', {'sleep_millisecs': 40}, persist_policy=True)
    text = policy_text(host)
    result = run(host.root, 'auto', {'sleep_millisecs': 40}, persist_policy=True)
    assert result['changed'] is False
    assert result['diff'][1]['before'] == result['diff'][1]['after'] == text


def test_persist_of_values_already_in_force_changes_only_the_file(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'sleep_millisecs': 100}, persist_policy=True)
    assert result['changed'] is True and result['changes'] == []
    assert host.attempts == []
    assert policy_text(host) == persist.HEADER + '\n[uksm]\nsleep_millisecs = 100\n'


def test_persist_in_check_mode_shows_the_file_without_writing_it(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    result = run(host.root, 'auto', {'sleep_millisecs': 40}, persist_policy=True, check_mode=True)
    assert result['changed'] is True
    assert result['diff'][1]['after'] == persist.HEADER + '\n[uksm]\nsleep_millisecs = 40\n'
    assert policy_text(host) is None and host.attempts == []


def test_persist_keeps_the_other_backends_section(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persist.save(host.root, persist.render({'ksm': {'run': '1'}}))
    run(host.root, 'auto', {'sleep_millisecs': 40}, persist_policy=True)
    assert persist.load(host.root)[0] == {'uksm': {'sleep_millisecs': '40'}, 'ksm': {'run': '1'}}


def test_failed_run_persists_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    host.fail('sleep_millisecs', errno.EIO)
    with pytest.raises(ApplyError):
        run(host.root, 'auto', {'sleep_millisecs': 40}, persist_policy=True)
    assert policy_text(host) is None


def test_policy_file_that_cannot_be_parsed_fails_naming_the_file_and_line(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    persist.save(host.root, '[uksm]\nsleep_millisecs: 40\n')
    with pytest.raises(TunableError) as caught:
        run(host.root, 'auto', {'sleep_millisecs': 40}, persist_policy=True, check_mode=True)
    assert str(caught.value) == (
        '%s: line 2: expected "name = value" inside a [uksm] or [ksm] section' % persist.path_of(host.root)
    )
    assert policy_text(host) == '[uksm]\nsleep_millisecs: 40\n'


# state=absent: forget names in the policy file, write nothing to the kernel


def recorded(host: FakeHost, policies: dict[str, dict[str, str]]) -> str:
    text = persist.render(policies)
    persist.save(host.root, text)
    return text


def test_absent_forgets_the_names_and_keeps_the_rest(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    before = recorded(host, {'uksm': {'sleep_millisecs': '40', 'thrash_threshold': '30'}})
    result = run(host.root, 'auto', {'sleep_millisecs': None}, state='absent')
    after = persist.HEADER + '\n[uksm]\nthrash_threshold = 30\n'
    path = persist.path_of(host.root)
    assert result == {
        'changed': True,
        'backend': 'uksm',
        'changes': [],
        'settings': {},
        'policy_file': path,
        'policy_file_changed': True,
        'msg': 'sleep_millisecs removed from the persisted uksm policy',
        'diff': [{'before': before, 'after': after, 'before_header': path, 'after_header': path}],
    }
    assert policy_text(host) == after
    assert host.attempts == []


def test_absent_of_the_last_names_removes_the_file_and_its_empty_directory(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    recorded(host, {'uksm': {'sleep_millisecs': '40'}})
    result = run(host.root, 'auto', {'sleep_millisecs': None}, state='absent')
    assert result['changed'] is True and result['diff'][0]['after'] == ''
    assert policy_text(host) is None
    # as uksm_policy's state=absent leaves it (persist.remove): nothing of the collection's under /etc
    assert not os.path.lexists(os.path.dirname(persist.path_of(host.root)))


def test_absent_in_check_mode_keeps_the_file_and_takes_no_lock(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    text = recorded(host, {'uksm': {'sleep_millisecs': '40'}})
    result = run(host.root, 'auto', {'sleep_millisecs': None}, state='absent', check_mode=True)
    assert result['changed'] is True and result['diff'][0]['after'] == ''
    assert policy_text(host) == text
    assert not os.path.exists(os.path.join(host.root, 'run'))


def test_absent_of_names_not_recorded_changes_nothing(tmp_path, monkeypatch):
    host = host_for(tmp_path, monkeypatch)
    text = recorded(host, {'uksm': {'sleep_millisecs': '40'}})
    result = run(host.root, 'auto', {'thrash_threshold': None}, state='absent')
    assert result['changed'] is False and policy_text(host) == text


def test_absent_on_a_host_without_an_interface_needs_a_backend(tmp_path):
    root = str(tmp_path)
    with pytest.raises(TunableError) as caught:
        run(root, 'auto', {'run': None}, state='absent')
    assert str(caught.value).startswith('no UKSM or KSM interface to record the policy for (/sys/kernel/mm/uksm')
    assert str(caught.value).endswith('); set backend')
    # an image without /sys: the backend named is the section edited
    persist.save(root, persist.render({'ksm': {'run': '1', 'pages_to_scan': '500'}}))
    result = run(root, 'ksm', {'run': None}, state='absent')
    assert result['backend'] == 'ksm' and result['changed'] is True
    assert persist.load(root)[0] == {'ksm': {'pages_to_scan': '500'}}


# check mode reports what a real run does


EXACT_SETTINGS = {
    # values every kernel reads back as written (sleep_millisecs on a tick of 100, 250, 300 and 1000 Hz)
    'cpu_governor': st.sampled_from(['full', 'medium', 'low', 'quiet']),
    'max_cpu_percentage': st.integers(10, 99),
    'abundant_threshold': st.integers(0, 99),
    'thrash_threshold': st.integers(0, 99),
    'sleep_millisecs': st.integers(0, 50).map(lambda n: n * 20),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desired=st.fixed_dictionaries({}, optional=EXACT_SETTINGS), persist_policy=st.booleans())
def test_check_mode_reports_what_the_real_run_then_does(desired, persist_policy):
    with tempfile.TemporaryDirectory() as root, pytest.MonkeyPatch.context() as monkeypatch:
        host = host_for(root, monkeypatch)
        predicted = run(root, 'auto', desired, persist_policy=persist_policy, check_mode=True)
        assert host.attempts == []
        done = run(root, 'auto', desired, persist_policy=persist_policy)
        assert predicted == done
        assert run(root, 'auto', desired, persist_policy=persist_policy)['changed'] is False


def test_more_tiers_than_the_policy_file_holds_are_refused():
    """render() writes tier sections 0 to MAX_TIERS - 1 only: a ninth tier would be dropped silently."""
    tiers = [{'available_below_percent': 90 - 10 * n, 'settings': {'run': 1}} for n in range(persist.MAX_TIERS)]
    assert len(tunable.tier_policy_of(tiers, 5).tiers) == persist.MAX_TIERS
    with pytest.raises(TunableError) as caught:
        tunable.tier_policy_of(tiers + [{'available_below_percent': 5, 'settings': {'run': 1}}], 5)
    assert str(caught.value) == 'pressure tiers: 9 given; accepted: at most 8; nothing was written'

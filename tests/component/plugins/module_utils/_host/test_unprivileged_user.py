# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest's account taken over (here ``nobody``) cannot bend root's runs against the host.

Each attack is carried out by a process that really runs as uid 65534 on a simulated host whose
``run/lock`` is the usual world-writable sticky directory; root then runs the module code, the
installed boot applier or the metrics writer, and the tests check what happened to the host.
The first three reproduce the findings of the hardening issue and failed before it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import typing as t

import pytest
from simhost import server
from simhost.control import Control
from simhost.sysroot import create

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.tunable import TunableError, run
from ansible_collections.litevirt.uksm.plugins.module_utils._programs import metrics
from ansible_collections.litevirt.uksm.plugins.module_utils._programs.applier import apply_policy

NOBODY = 65534
# The attacker's interpreter: Debian's (python3-minimal, from scripts/setup-host.sh); the test's own
# may sit under a home directory that nobody cannot enter.
SYSTEM_PYTHON = '/usr/bin/python3'
OLD_LOCK = 'run/lock/litevirt-uksm.lock'  # where the lock was before: a world-writable directory

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='dropping to another user needs root (CI runs as root)')


@pytest.fixture
def hostile_host() -> t.Iterator[Control]:
    """A mounted UKSM host in a directory ``nobody`` can traverse, with a sticky world-writable run/lock."""
    parent = tempfile.mkdtemp(prefix='litevirt-uksm-hostile-')
    os.chmod(parent, 0o755)  # pytest's own tmp_path is 0700: nobody could not reach the sysroot
    root = os.path.join(parent, 'host')
    create(root, 'uksm')
    os.makedirs(os.path.join(root, 'run', 'lock'))
    os.chmod(os.path.join(root, 'run', 'lock'), 0o1777)
    problem = server.fuse_problem()
    if problem:
        pytest.fail('FUSE unavailable: ' + problem)
    server.mount(root)
    try:
        yield Control(root)
    finally:
        server.umount(root)
        shutil.rmtree(parent)


def as_nobody(code: str, *args: str, wait: bool = True) -> t.Any:
    """Run Python ``code`` as uid/gid 65534 with no supplementary groups (argv[1:] are ``args``)."""
    command = [SYSTEM_PYTHON, '-I', '-c', code] + list(args)
    options = {'user': NOBODY, 'group': NOBODY, 'extra_groups': [], 'cwd': '/', 'env': {}}
    if wait:
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30, **options)
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, **options)


def secret_file(root: str) -> str:
    path = os.path.join(root, 'etc', 'shadow')
    with open(path, 'w', encoding='ascii') as handle:
        handle.write('root:$6$secret:19000:0:99999:7:::\n')
    os.chmod(path, 0o600)
    return path


def test_lock_symlink_planted_by_an_unprivileged_user_is_not_followed(hostile_host):
    root = hostile_host.paths.root
    shadow = secret_file(root)
    as_nobody('import os, sys; os.symlink(sys.argv[1], sys.argv[2])', shadow, os.path.join(root, OLD_LOCK))

    result = run(root, 'auto', {'sleep_millisecs': 200}, lock_timeout=1)

    assert result['changed'] and hostile_host.read('sleep_millisecs') == '200\n'
    with open(shadow, encoding='ascii') as handle:
        assert handle.read() == 'root:$6$secret:19000:0:99999:7:::\n'  # not truncated, no pid written
    # the lock now lives where nobody cannot plant anything
    lock_dir = os.path.join(root, 'run', 'litevirt-uksm')
    status = os.lstat(lock_dir)
    assert (status.st_uid, status.st_mode & 0o7777) == (0, 0o700)
    with pytest.raises(subprocess.CalledProcessError):
        as_nobody('import os, sys; os.symlink("/etc/shadow", sys.argv[1])', os.path.join(lock_dir, 'x'))


def test_lock_held_by_an_unprivileged_user_does_not_stop_the_policy(hostile_host):
    root = hostile_host.paths.root
    holder = as_nobody(
        'import fcntl, os, sys, time\n'
        'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n'
        'fcntl.flock(fd, fcntl.LOCK_EX)\n'
        'print("held", flush=True)\n'
        'time.sleep(60)\n',
        os.path.join(root, OLD_LOCK),
        wait=False,
    )
    try:
        assert holder.stdout.readline() == 'held\n'
        result = run(root, 'auto', {'cpu_governor': 'low'}, persist_policy=True, lock_timeout=1)
        assert result['changed'] and gather(root)['tunables']['cpu_governor'] == 'low'
        # and the boot applier, which takes the same lock
        hostile_host.reboot()
        lines: list[str] = []
        assert apply_policy(root, lines.append, lock_timeout=1) == 0, lines
        assert gather(root)['tunables']['cpu_governor'] == 'low'
    finally:
        holder.kill()
        holder.wait()


def test_policy_file_of_invalid_utf8_fails_with_one_line_not_a_traceback(hostile_host):
    root = hostile_host.paths.root
    installation.install(root, installation.artefacts(sys.executable), check_mode=False)
    os.makedirs(os.path.dirname(persist.path_of(root)))
    with open(persist.path_of(root), 'wb') as handle:
        handle.write(b'[uksm]\ncpu_governor = low\xff\xfe\n')
    hostile_host.clear_log()
    # exactly as the unit runs it
    command = (
        [sys.executable] + unit_texts.PYTHON_FLAGS.split() + [os.path.join(root, paths.LAUNCHER), '--sysroot', root]
    )
    result = subprocess.run(command, capture_output=True, text=True, check=False, env={}, timeout=60)

    assert result.returncode == 1
    assert result.stderr == ''  # no traceback
    assert result.stdout.splitlines() == [
        'uksm-policy: FAILED: cannot read %s: not UTF-8 text (byte 0xff at offset 25)' % persist.path_of(root)
    ]
    assert hostile_host.writes() == []


def test_metrics_directory_swapped_for_a_symlink_by_its_owner_is_refused(hostile_host, capsys):
    """On Debian /var/lib/prometheus belongs to the prometheus user (here nobody), who can replace the
    textfile directory in it with a symlink to anywhere."""
    root = hostile_host.paths.root
    prometheus = os.path.join(root, 'var', 'lib', 'prometheus')
    os.makedirs(os.path.join(prometheus, 'node-exporter'))
    os.chown(prometheus, NOBODY, NOBODY)
    as_nobody(
        'import os, sys; os.rename(sys.argv[1] + "/node-exporter", sys.argv[1] + "/old"); '
        'os.symlink(sys.argv[2], sys.argv[1] + "/node-exporter")',
        prometheus,
        os.path.join(root, 'etc'),
    )
    before = sorted(os.listdir(os.path.join(root, 'etc')))

    status = metrics.main(['--sysroot', root, '--output', '/var/lib/prometheus/node-exporter/uksm.prom'])

    assert status == 1
    assert capsys.readouterr().out == (
        'uksm-metrics: FAILED: cannot write /var/lib/prometheus/node-exporter/uksm.prom: '
        'refusing /var/lib/prometheus/node-exporter: it is a symlink, not a directory\n'
    )
    assert sorted(os.listdir(os.path.join(root, 'etc'))) == before  # nothing created where the link points


def test_metrics_directory_of_another_owner_is_written_without_following_anything(hostile_host):
    root = hostile_host.paths.root
    directory = os.path.join(root, 'var', 'lib', 'prometheus', 'node-exporter')
    os.makedirs(directory)
    os.chown(os.path.dirname(directory), NOBODY, NOBODY)
    os.chown(directory, NOBODY, NOBODY)
    shadow = secret_file(root)
    # a planted symlink at the output name is replaced, never written through
    as_nobody('import os, sys; os.symlink(sys.argv[1], sys.argv[2])', shadow, os.path.join(directory, 'uksm.prom'))

    assert metrics.main(['--sysroot', root, '--output', '/var/lib/prometheus/node-exporter/uksm.prom']) == 0

    output = os.path.join(directory, 'uksm.prom')
    assert not os.path.islink(output) and os.stat(output).st_uid == 0
    with open(output, encoding='utf-8') as handle:
        assert 'uksm_available 1' in handle.read()
    with open(shadow, encoding='ascii') as handle:
        assert handle.read().startswith('root:$6$secret')


def test_process_calling_itself_uksmd_does_not_make_a_dead_daemon_look_alive(hostile_host):
    """A write to UKSM's run blocks forever once uksmd is gone: the check must not trust a process
    name that any account can choose (prctl PR_SET_NAME)."""
    root = hostile_host.paths.root
    hostile_host.write('run', '0\n')
    hostile_host.set_state(uksmd_alive=False)
    fake = os.path.join(root, 'proc', '4242')
    os.makedirs(fake)
    with open(os.path.join(fake, 'comm'), 'w', encoding='ascii') as handle:
        handle.write('uksmd\n')
    os.chown(fake, NOBODY, NOBODY)  # what /proc shows for a process of that account
    hostile_host.clear_log()

    with pytest.raises(TunableError, match='the uksmd kernel thread is gone'):
        run(root, 'auto', {'run': 1}, lock_timeout=1)

    assert hostile_host.writes('run') == []

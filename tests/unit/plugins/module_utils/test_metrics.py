# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics: parsed by prometheus_client, equal to uksm_facts, written atomically, shipped."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils import (
    installation,
    metrics,
    package_closure,
    paths,
    unit_texts,
)


def test_write_is_atomic(tmp_path, monkeypatch):
    root = str(tmp_path)
    path = os.path.join(root, paths.METRICS_OUTPUT.lstrip('/'))
    metrics.write(root, paths.METRICS_OUTPUT, 'old 1\n')
    real_fsync = os.fsync
    seen = []

    def fsync(fd):
        # mid-write: readers still see the whole old file, and the temporary is no *.prom file
        with open(path, encoding='utf-8') as handle:
            seen.append(handle.read())
        seen.append(sorted(os.listdir(os.path.dirname(path))))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync)
    metrics.write(root, paths.METRICS_OUTPUT, 'new 1\n')
    assert seen[0] == 'old 1\n'
    temporaries = [name for name in seen[1] if name != 'uksm.prom']
    assert len(temporaries) == 1 and temporaries[0].startswith('.uksm.prom.')
    assert not temporaries[0].endswith('.prom')  # node_exporter reads *.prom only
    with open(path, encoding='utf-8') as handle:
        assert handle.read() == 'new 1\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(os.path.dirname(path)) == ['uksm.prom']


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    root = str(tmp_path)
    path = os.path.join(root, paths.METRICS_OUTPUT.lstrip('/'))
    metrics.write(root, paths.METRICS_OUTPUT, 'old 1\n')

    def fsync(_fd):
        raise OSError(errno.EIO, 'Input/output error')

    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(OSError):
        metrics.write(root, paths.METRICS_OUTPUT, 'new 1\n')
    with open(path, encoding='utf-8') as handle:
        assert handle.read() == 'old 1\n'
    assert os.listdir(os.path.dirname(path)) == ['uksm.prom']


@pytest.mark.parametrize(
    'sysroot, output, status, message',
    [
        ('relative', paths.METRICS_OUTPUT, 2, 'FAILED: sysroot must be an absolute path'),
        (None, 'uksm.prom', 2, 'FAILED: --output must be an absolute path'),
        (None, '/etc/hostname/uksm.prom', 1, 'FAILED: cannot write /etc/hostname/uksm.prom'),
    ],
)
def test_main_reports_failures(tmp_path, capsys, sysroot, output, status, message):
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / 'hostname').write_text('hv01\n')  # a file where a directory is needed
    assert metrics.main(['--sysroot', sysroot or str(tmp_path), '--output', output]) == status
    assert capsys.readouterr().out.startswith('uksm-metrics: ' + message)


def test_metrics_files_install_and_go(tmp_path):
    root = str(tmp_path)
    with_metrics = installation.artefacts('/usr/bin/python3', metrics_output=paths.METRICS_OUTPUT)
    extra = [paths.METRICS_LAUNCHER] + list(paths.METRICS_UNIT_FILES)
    assert [f.path for f in with_metrics][-3:] == extra
    assert 'metrics' in package_closure.package_sources()
    assert installation.install(root, with_metrics, check_mode=False) == [f.path for f in with_metrics]
    assert set(extra) <= set(installation.installed(root))
    assert stat.S_IMODE(os.stat(os.path.join(root, paths.METRICS_LAUNCHER)).st_mode) == 0o755
    # metrics off: the launcher is stale in the library directory, the units go explicitly
    assert installation.install(root, installation.artefacts('/usr/bin/python3'), check_mode=False) == [
        paths.METRICS_LAUNCHER
    ]
    assert installation.remove_metrics_units(root, check_mode=True) == list(paths.METRICS_UNIT_FILES)
    assert installation.remove_metrics_units(root, check_mode=False) == list(paths.METRICS_UNIT_FILES)
    assert not set(extra) & set(installation.installed(root))
    installation.install(root, with_metrics, check_mode=False)
    assert set(extra) <= set(installation.uninstall(root, check_mode=False))
    assert installation.installed(root) == [] and os.listdir(os.path.join(root, 'etc/systemd/system')) == []


def test_output_removal(tmp_path):
    root = str(tmp_path)
    metrics.write(root, '/srv/metrics/uksm.prom', 'x 1\n')
    assert installation.remove_output(root, '/srv/metrics/uksm.prom', check_mode=True) == ['srv/metrics/uksm.prom']
    assert installation.remove_output(root, '/srv/metrics/uksm.prom', check_mode=False) == ['srv/metrics/uksm.prom']
    assert installation.remove_output(root, '/srv/metrics/uksm.prom', check_mode=False) == []


def test_metrics_units_are_sandboxed_read_only_and_timed():
    service = unit_texts.metrics_service_text('/usr/bin/python3', '/srv/textfile/uksm.prom').splitlines()
    assert (
        'ExecStart=/usr/bin/python3 -I -S -B /usr/lib/litevirt-uksm/uksm-metrics-write --output /srv/textfile/uksm.prom'
    ) in service
    assert unit_texts.metrics_output_of('\n'.join(service)) == '/srv/textfile/uksm.prom'
    assert 'ConditionPathIsDirectory=/srv/textfile' in service
    assert {
        'ProtectSystem=strict',
        'ProtectKernelTunables=yes',
        'ReadWritePaths=-/srv/textfile',
        'CapabilityBoundingSet=',
        'PrivateNetwork=yes',
        'Type=oneshot',
    } <= set(service)
    assert [line for line in service if line.startswith('ReadWritePaths=')] == ['ReadWritePaths=-/srv/textfile']
    assert not [line for line in service if line.startswith(('WantedBy', 'RemainAfterExit'))]  # started by the timer
    timer = unit_texts.metrics_timer_text().splitlines()
    assert {'OnCalendar=minutely', 'AccuracySec=5s', 'Persistent=false', 'WantedBy=timers.target'} <= set(timer)


@pytest.mark.skipif(
    shutil.which('systemd-analyze') is None, reason='systemd-analyze is installed by scripts/setup-host.sh'
)
def test_systemd_analyze_verify_accepts_the_metrics_units(tmp_path):
    (tmp_path / paths.METRICS_SERVICE).write_text(unit_texts.metrics_service_text('/usr/bin/python3'))
    (tmp_path / paths.METRICS_TIMER).write_text(unit_texts.metrics_timer_text())
    result = subprocess.run(
        [
            'systemd-analyze',
            'verify',
            '--man=no',
            str(tmp_path / paths.METRICS_SERVICE),
            str(tmp_path / paths.METRICS_TIMER),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == '', result.stderr

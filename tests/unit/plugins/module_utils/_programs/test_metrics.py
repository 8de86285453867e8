# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics: parsed by prometheus_client, equal to uksm_facts, written atomically, shipped."""

from __future__ import annotations

import errno
import os
import posix
import re
import shutil
import stat
import subprocess

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._host import paths, persist
from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation, package_closure, unit_texts
from ansible_collections.litevirt.uksm.plugins.module_utils._plan import tiers
from ansible_collections.litevirt.uksm.plugins.module_utils._plan.facts import gather
from ansible_collections.litevirt.uksm.plugins.module_utils._programs import metrics
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree


def _persist(root, policies):
    persist.save(root, persist.render(policies))


def _enable_policy_unit(root):
    wants = os.path.join(root, 'etc/systemd/system/sysinit.target.wants')
    os.makedirs(wants)
    os.symlink('/' + paths.UNIT_FILE, os.path.join(wants, paths.UNIT_NAME))


def test_write_is_atomic(tmp_path, monkeypatch):
    root = str(tmp_path)
    path = os.path.join(root, paths.METRICS_OUTPUT.lstrip('/'))
    metrics.write(root, paths.METRICS_OUTPUT, 'old 1\n')
    real_fsync = posix.fsync
    seen = []

    def fsync(fd):
        # mid-write: readers still see the whole old file, and the temporary is no *.prom file
        with open(path, encoding='utf-8') as handle:
            seen.append(handle.read())
        seen.append(sorted(os.listdir(os.path.dirname(path))))
        real_fsync(fd)

    monkeypatch.setattr(posix, 'fsync', fsync)
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

    monkeypatch.setattr(posix, 'fsync', fsync)
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
    assert '_programs.metrics' in package_closure.read_closure().sources
    assert installation.install(root, with_metrics, check_mode=False) == [f.path for f in with_metrics]
    assert set(extra) <= set(installation.installed(root))
    assert stat.S_IMODE(os.stat(os.path.join(root, paths.METRICS_LAUNCHER)).st_mode) == 0o755
    # metrics off: the launcher is stale in the library directory, the units go explicitly
    assert installation.install(root, installation.artefacts('/usr/bin/python3'), check_mode=False) == [
        paths.METRICS_LAUNCHER
    ]
    assert installation.remove_units(root, paths.METRICS_UNIT_FILES, check_mode=True) == list(paths.METRICS_UNIT_FILES)
    assert installation.remove_units(root, paths.METRICS_UNIT_FILES, check_mode=False) == list(paths.METRICS_UNIT_FILES)
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


# -- the text format, parsed here (prometheus_client is not among the unit test requirements) --------

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$')
LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"(?:,|$)')
UNESCAPE = {'\\\\': '\\', '\\n': '\n', '\\"': '"'}


def _unescape(text):
    return re.sub(r'\\[\\n"]', lambda match: UNESCAPE[match.group(0)], text)


def samples_of(text):
    """{(metric, frozenset of labels): value as written}; also checks HELP and TYPE precede each family."""
    assert text.endswith('\n')
    found = {}
    declared = {}
    for line in text.splitlines():
        if line.startswith('# HELP '):
            name = line.split()[2]
            assert name not in declared, 'family %s twice' % name
            declared[name] = None
            continue
        if line.startswith('# TYPE '):
            _hash, _type, name, kind = line.split(' ')
            assert name in declared and declared[name] is None
            declared[name] = kind
            continue
        match = SAMPLE.match(line)
        assert match, line
        assert declared.get(match.group('name')) in ('gauge', 'counter'), line
        labels = match.group('labels') or ''
        pairs = [(m.group('key'), _unescape(m.group('value'))) for m in LABEL.finditer(labels)]
        assert ','.join('%s="%s"' % (k, v) for k, v in LABEL.findall(labels)) == labels, line
        key = (match.group('name'), frozenset(pairs))
        assert key not in found, line
        found[key] = match.group('value')
    return found, declared


def _labels(**labels):
    return frozenset(labels.items())


def _uksm_tree(root, **files):
    sysroot_tree.uksm(root, **files)
    sysroot_tree.meminfo(root, zero_kib=8)
    sysroot_tree.process(root, 17, 'uksmd')
    return root


def test_family_renders_help_type_and_samples():
    family = metrics.Family('saved_bytes', 'gauge', 'Memory saved.').add(True).add(7, [('backend', 'ksm')])
    assert family.name == 'uksm_saved_bytes'
    assert family.render() == (
        '# HELP uksm_saved_bytes Memory saved.\n'
        '# TYPE uksm_saved_bytes gauge\n'
        'uksm_saved_bytes 1\n'
        'uksm_saved_bytes{backend="ksm"} 7\n'
    )


def test_help_and_label_values_are_escaped():
    text = metrics.Family('x', 'gauge', 'a \\ b\nc "q"').add(1, [('name', 'back\\slash "quoted"\nline')]).render()
    assert text.splitlines() == [
        '# HELP uksm_x a \\\\ b\\nc "q"',  # quotes are escaped in label values only
        '# TYPE uksm_x gauge',
        'uksm_x{name="back\\\\slash \\"quoted\\"\\nline"} 1',
    ]
    samples, _declared = samples_of(text)
    assert samples == {('uksm_x', _labels(name='back\\slash "quoted"\nline')): '1'}


@pytest.mark.parametrize(
    'value, written',
    [
        (0, '0'),
        (False, '0'),
        (True, '1'),
        (2**53 + 1, '9007199254740993'),  # exact: a float would print 9007199254740992
        (-2520000, '-2520000'),
        (6.24e-07, '6.24e-07'),
        (0.5, '0.5'),
        (3.0, '3.0'),
    ],
)
def test_numbers_are_written_exactly(value, written):
    assert metrics.Family('n', 'gauge', 'n').add(value).render().splitlines()[-1] == 'uksm_n ' + written


def test_uksm_metrics_equal_the_facts(tmp_path):
    root = _uksm_tree(str(tmp_path), pages_scanned='3 * 2^60\n')
    fact = gather(root)
    samples, declared = samples_of(metrics.render(fact))
    uksm = _labels(backend='uksm')
    page = fact['page_size']
    assert samples == {
        ('uksm_available', _labels()): '1',
        ('uksm_page_size_bytes', _labels()): str(page),
        ('uksm_info', _labels(backend='uksm', cpu_governor='full')): '1',
        ('uksm_daemon_running', uksm): '1',
        ('uksm_saved_bytes', uksm): str(48000 * page + 8 * 1024),
        ('uksm_unreadable_attributes', uksm): '0',
        ('uksm_zero_pages', uksm): str(8 * 1024 // page),
        ('uksm_pages_shared', uksm): '1200',
        ('uksm_pages_sharing', uksm): '48000',
        ('uksm_pages_unshared', uksm): '3500',
        ('uksm_full_scans_total', uksm): '5',
        ('uksm_pages_scanned_total', uksm): str(3 << 60),  # beyond 2^53, every digit kept
        ('uksm_ema_per_page_time_seconds', uksm): repr(624 / 10**9),
        ('uksm_hash_strength', uksm): '44',
        ('uksm_sleep_times_total', uksm): '1875',
        # numeric tunables only: the governor is a label of uksm_info, the ladders are lists
        ('uksm_tunable', _labels(backend='uksm', name='max_cpu_percentage')): '95',
        ('uksm_tunable', _labels(backend='uksm', name='abundant_threshold')): '10',
        ('uksm_tunable', _labels(backend='uksm', name='thrash_threshold')): '50',
        ('uksm_tunable', _labels(backend='uksm', name='sleep_millisecs')): '100',
        ('uksm_tunable', _labels(backend='uksm', name='run')): '1',
        ('uksm_policy_persisted', _labels()): '0',
        ('uksm_policy_error', _labels()): '0',
        ('uksm_policy_unit_enabled', _labels()): '0',
        ('uksm_policy_drifted_attributes', uksm): '0',
        ('uksm_policy_tiers', uksm): '0',
        ('uksm_policy_tier', uksm): '-1',
    }
    # no persisted section: the per-attribute drift family has no samples and is left out whole
    assert 'uksm_policy_drift' not in declared
    assert {name for name, kind in declared.items() if kind == 'counter'} == {
        'uksm_full_scans_total',
        'uksm_pages_scanned_total',
        'uksm_sleep_times_total',
    }


def test_help_of_a_statistic_names_its_kernel_file(tmp_path):
    text = metrics.render(gather(_uksm_tree(str(tmp_path))))
    assert (
        '# HELP uksm_pages_sharing Extra mappings of the shared pages: pages saved, zero pages excluded. '
        'Read from /sys/kernel/mm/uksm/pages_sharing.\n'
    ) in text
    assert (
        '# HELP uksm_ema_per_page_time_seconds Moving average cost to scan one page, in seconds (the kernel '
        'reports nanoseconds). Read from /sys/kernel/mm/uksm/ema_per_page_time.\n'
    ) in text
    assert '# HELP uksm_daemon_running 1 while the uksmd kernel thread exists.\n' in text


def test_ksm_metrics_rename_profit_and_export_zero_pages_once(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(
        root, run=1, pages_shared=4, pages_sharing=40, ksm_zero_pages=10, general_profit='-2520000\n', pages_skipped=9
    )
    fact = gather(root)
    samples, declared = samples_of(metrics.render(fact))
    ksm = _labels(backend='ksm')
    assert samples[('uksm_general_profit_bytes', ksm)] == '-2520000'
    assert samples[('uksm_zero_pages', ksm)] == '10'
    assert 'uksm_ksm_zero_pages' not in declared
    assert samples[('uksm_pages_skipped_total', ksm)] == '9'
    assert samples[('uksm_pages_volatile', ksm)] == '0'
    assert samples[('uksm_info', _labels(backend='ksm', advisor_mode='none'))] == '1'
    assert samples[('uksm_daemon_running', ksm)] == '0'  # no ksmd in /proc
    assert samples[('uksm_saved_bytes', ksm)] == str(50 * fact['page_size'])
    tunables = {dict(labels)['name'] for name, labels in samples if name == 'uksm_tunable'}
    assert tunables == set(fact['tunables']) - {'advisor_mode'}
    assert declared['uksm_general_profit_bytes'] == 'gauge'


def test_old_ksm_without_zero_pages_has_no_zero_page_metric(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm_old(root)
    samples, declared = samples_of(metrics.render(gather(root)))
    assert 'uksm_zero_pages' not in declared and 'uksm_general_profit_bytes' not in declared
    assert samples[('uksm_info', _labels(backend='ksm'))] == '1'  # no choice to show on 4.13


def test_unreadable_attributes_are_counted(tmp_path):
    root = _uksm_tree(str(tmp_path), run='x\n', sleep_times='-1\n')
    samples, _declared = samples_of(metrics.render(gather(root)))
    assert samples[('uksm_unreadable_attributes', _labels(backend='uksm'))] == '2'
    assert ('uksm_sleep_times_total', _labels(backend='uksm')) not in samples
    assert ('uksm_tunable', _labels(backend='uksm', name='run')) not in samples


def test_host_without_an_interface_has_only_availability_page_size_and_policy(tmp_path):
    root = str(tmp_path)
    _persist(root, {'ksm': {'run': '1'}})
    samples, _declared = samples_of(metrics.render(gather(root)))
    assert samples == {
        ('uksm_available', _labels()): '0',
        ('uksm_page_size_bytes', _labels()): str(os.sysconf('SC_PAGE_SIZE')),
        ('uksm_policy_persisted', _labels()): '1',
        ('uksm_policy_error', _labels()): '0',
        ('uksm_policy_unit_enabled', _labels()): '0',
    }


def test_drift_metrics_cover_every_persisted_attribute_this_kernel_has(tmp_path):
    root = _uksm_tree(str(tmp_path), cpu_governor='full medium [low] quiet \n')
    persist.save(root, '[uksm]\ncpu_governor = full\nsleep_millisecs = 200\nrun = 1\n')
    _enable_policy_unit(root)
    fact = gather(root)
    assert fact['policy']['drift'] == ['cpu_governor', 'sleep_millisecs']
    samples, _declared = samples_of(metrics.render(fact))
    drift = {dict(labels)['name']: value for (name, labels), value in samples.items() if name == 'uksm_policy_drift'}
    assert drift == {'cpu_governor': '1', 'sleep_millisecs': '1', 'run': '0'}
    assert samples[('uksm_policy_drifted_attributes', _labels(backend='uksm'))] == '2'
    assert samples[('uksm_policy_persisted', _labels())] == '1'
    assert samples[('uksm_policy_unit_enabled', _labels())] == '1'
    assert samples[('uksm_policy_error', _labels())] == '0'


def test_persisted_attribute_the_kernel_lacks_is_no_drift_sample_and_an_error(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm_old(root)
    _persist(root, {'ksm': {'advisor_mode': 'scan-time', 'run': '0'}})
    fact = gather(root)
    assert 'advisor_mode' in fact['policy']['error']
    samples, _declared = samples_of(metrics.render(fact))
    drift = {dict(labels)['name']: value for (name, labels), value in samples.items() if name == 'uksm_policy_drift'}
    assert drift == {'run': '0'}
    assert samples[('uksm_policy_error', _labels())] == '1'


def test_main_writes_the_metrics_of_the_sysroot_and_prints_nothing(tmp_path, capsys):
    root = _uksm_tree(str(tmp_path))
    assert metrics.main(['--sysroot', root]) == 0
    assert capsys.readouterr().out == ''
    written = sysroot_tree.read(root, paths.METRICS_OUTPUT.lstrip('/'))
    assert written == metrics.render(gather(root))
    assert samples_of(written)[0][('uksm_available', _labels())] == '1'


def test_main_writes_to_the_output_given(tmp_path, capsys):
    root = str(tmp_path)
    assert metrics.main(['--sysroot=' + root, '--output', '/srv/textfile/uksm.prom']) == 0
    assert capsys.readouterr().out == ''
    assert samples_of(sysroot_tree.read(root, 'srv/textfile/uksm.prom'))[0][('uksm_available', _labels())] == '0'
    assert stat.S_IMODE(os.stat(os.path.join(root, 'srv/textfile/uksm.prom')).st_mode) == 0o644


def test_daemon_cpu_is_a_counter_in_seconds_beside_the_savings(tmp_path):
    root = _uksm_tree(str(tmp_path))
    ticks = os.sysconf('SC_CLK_TCK')
    # no /proc/17/stat yet: no cost sample, never a 0 presented as one
    assert gather(root)['daemon_cpu'] is None
    assert 'uksm_daemon_cpu_seconds_total' not in metrics.render(gather(root))
    sysroot_tree.thread_cpu(root, 17, 'uksmd', 250 * ticks // 100, 125 * ticks // 100, 0, '750.00 1.00')
    fact = gather(root)
    samples, declared = samples_of(metrics.render(fact))
    assert samples[('uksm_daemon_cpu_seconds_total', _labels(backend='uksm'))] == repr(3.75)
    assert declared['uksm_daemon_cpu_seconds_total'] == 'counter'
    assert fact['daemon_cpu'] == {'pid': 17, 'seconds': 3.75, 'percent_since_start': 0.5}
    assert fact['savings']['bytes_per_cpu_second'] == int(fact['savings']['bytes'] / 3.75)


# -- pressure tiers: which one is in force (availability and stall are node_exporter's own) --------

TIERED = (
    '[uksm]\ncpu_governor = quiet\nsleep_millisecs = 100\nrun = 1\n'
    '[uksm pressure]\nhysteresis = 5\n'
    '[uksm tier 0]\navailable_below_percent = 30\ncpu_governor = medium\n'
    '[uksm tier 1]\navailable_below_percent = 10\ncpu_governor = full\nmax_cpu_percentage = 60\n'
)


def _tiered_uksm(root, tier):
    _uksm_tree(root)  # the kernel runs governor full, max_cpu_percentage 95
    sysroot_tree.meminfo(root, zero_kib=8, available_percent=8.5)
    sysroot_tree.memory_pressure(root, 1.5, 0.25)
    persist.save(root, TIERED)
    tiers.write_state(root, 'uksm', tier)
    return gather(root)


def _tier_samples(fact):
    samples, declared = samples_of(metrics.render(fact))
    uksm = _labels(backend='uksm')
    drift = {dict(labels)['name']: value for (name, labels), value in samples.items() if name == 'uksm_policy_drift'}
    return samples[('uksm_policy_tier', uksm)], samples[('uksm_policy_tiers', uksm)], drift, declared


def test_tier_in_force_is_its_index_and_its_attributes_are_drift_samples(tmp_path):
    fact = _tiered_uksm(str(tmp_path), 1)
    assert fact['policy']['tier'] == 1 and fact['policy']['error'] is None
    assert fact['policy']['drift'] == ['max_cpu_percentage']  # 60 in force, the kernel holds 95
    tier, count, drift, declared = _tier_samples(fact)
    assert (tier, count) == ('1', '2')
    # the tier's own attribute (the base does not set it) is a sample too, as it counts in the total
    assert drift == {'cpu_governor': '0', 'sleep_millisecs': '0', 'run': '0', 'max_cpu_percentage': '1'}
    assert declared['uksm_policy_tier'] == declared['uksm_policy_tiers'] == 'gauge'
    # what node_exporter exports already is not repeated
    assert not [name for name in declared if 'available' in name and name != 'uksm_available']
    assert not [name for name in declared if 'stall' in name or 'pressure' in name]


def test_base_under_tiers_is_tier_minus_one(tmp_path):
    fact = _tiered_uksm(str(tmp_path), None)
    assert fact['policy']['tier'] is None and fact['policy']['pressure'] is not None
    tier, count, drift, _declared = _tier_samples(fact)
    assert (tier, count) == ('-1', '2')
    assert drift == {'cpu_governor': '1', 'sleep_millisecs': '0', 'run': '0'}  # quiet persisted, full held


def test_without_tiers_there_are_none_and_the_base_is_in_force(tmp_path):
    root = _uksm_tree(str(tmp_path))
    persist.save(root, '[uksm]\ncpu_governor = full\n')
    fact = gather(root)
    assert fact['policy']['pressure'] is None
    tier, count, drift, _declared = _tier_samples(fact)
    assert (tier, count) == ('-1', '0')
    assert drift == {'cpu_governor': '0'}
    # without a policy at all, the same
    assert _tier_samples(gather(_uksm_tree(str(tmp_path / 'bare'))))[:2] == ('-1', '0')


def test_tier_help_says_what_minus_one_means(tmp_path):
    text = metrics.render(_tiered_uksm(str(tmp_path), 0))
    help_line = next(line for line in text.splitlines() if line.startswith('# HELP uksm_policy_tier '))
    assert '-1 for the base settings' in help_line


def test_facts_without_the_tier_keys_render_as_the_base(tmp_path):
    """A fact from before pressure tiers (or built by hand) has neither key: no tier, none configured."""
    fact = gather(_uksm_tree(str(tmp_path)))
    for key in ('pressure', 'tier', 'tier_settings', 'available_percent', 'memory_stall'):
        del fact['policy'][key]
    assert _tier_samples(fact)[:2] == ('-1', '0')


def test_host_without_an_interface_has_no_tier_metrics(tmp_path):
    root = str(tmp_path)
    persist.save(root, TIERED)
    _samples, declared = samples_of(metrics.render(gather(root)))
    assert 'uksm_policy_tier' not in declared and 'uksm_policy_tiers' not in declared

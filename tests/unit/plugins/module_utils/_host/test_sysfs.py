# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sysfs.py on plain file trees: the sysroot check, the path operations that stand in for os.path,
bounded reads, backend detection and its reasons, and attribute reads that sort values into tunables,
choices and statistics and report each bad file."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ansible_collections.litevirt.uksm.plugins.module_utils._host.sysfs import (
    READ_LIMIT,
    Detection,
    SysrootError,
    check_sysroot,
    detect,
    exists,
    host_path,
    join,
    normalise_absolute,
    read_attributes,
    read_text,
)
from ansible_collections.litevirt.uksm.plugins.module_utils._knobs.attributes import KSM, UKSM
from ansible_collections.litevirt.uksm.plugins.module_utils.errors import UksmError
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree

NO_UKSM = '/sys/kernel/mm/uksm does not exist'
NO_KSM = '/sys/kernel/mm/ksm does not exist'
MASKED = 'the kernel is built without KSM/UKSM or /sys is masked'


# -- check_sysroot and host_path ------------------------------------------------------------------


@pytest.mark.parametrize(
    'sysroot, message',
    [
        (None, 'sysroot must be a non-empty path'),
        (42, 'sysroot must be a non-empty path'),
        ('', 'sysroot must be a non-empty path'),
        ('/srv/\x00hv01', 'sysroot must not contain NUL bytes'),
        ('srv/hv01', "sysroot must be an absolute path, got 'srv/hv01'"),
        ('./hv01', "sysroot must be an absolute path, got './hv01'"),
    ],
)
def test_unusable_sysroot_is_refused_with_the_reason(sysroot, message):
    with pytest.raises(SysrootError) as caught:
        check_sysroot(sysroot)
    assert str(caught.value) == message
    assert isinstance(caught.value, UksmError) and caught.value.details == {}


@pytest.mark.parametrize(
    'sysroot, normalised', [('/', '/'), ('/srv/./hv01/', '/srv/hv01'), ('/srv/hosts/../hv01', '/srv/hv01')]
)
def test_usable_sysroot_is_returned_normalised(sysroot, normalised):
    assert check_sysroot(sysroot) == normalised


def test_host_path_puts_a_fixed_path_under_the_sysroot():
    assert host_path('/', 'proc/meminfo') == '/proc/meminfo'
    assert host_path('/srv/hv01', 'sys/kernel/mm/ksm') == '/srv/hv01/sys/kernel/mm/ksm'


# -- the path operations the launchers' code takes instead of os.path -----------------------------

# paths made of the pieces that matter to normpath and join: separators, dots, names
_PIECES = st.sampled_from(['/', '//', '.', '..', 'a', 'b.c', '...', ' '])
_PATHS = st.lists(_PIECES, max_size=12).map(''.join)


@given(path=_PATHS)
@example(path='//')
@example(path='///a/../..')
@example(path='//a//b/')
def test_normalise_absolute_is_normpath_for_every_absolute_path(path):
    absolute = '/' + path
    assert normalise_absolute(absolute) == posixpath.normpath(absolute)


@given(directory=_PATHS, name=_PATHS)
@example(directory='', name='proc')
@example(directory='/srv/', name='/proc')
def test_join_is_os_path_join(directory, name):
    assert join(directory, name) == posixpath.join(directory, name)


def test_exists_is_os_path_exists_and_lexists(tmp_path):
    (tmp_path / 'file').write_text('', encoding='ascii')
    (tmp_path / 'dangling').symlink_to(tmp_path / 'missing')
    for name in ('file', 'dangling', 'missing', 'file/below', 'nul\x00'):
        path = str(tmp_path / name)
        assert exists(path) is os.path.exists(path), name
        assert exists(path, follow_symlinks=False) is os.path.lexists(path), name


# -- read_text ------------------------------------------------------------------------------------


def test_read_text_reads_the_whole_small_file(tmp_path):
    path = sysroot_tree.put(str(tmp_path), 'run', '1\n')
    assert read_text(path) == '1\n'


def test_read_text_stops_at_the_limit(tmp_path):
    path = sysroot_tree.put(str(tmp_path), 'big', 'x' * (READ_LIMIT + 100))
    assert read_text(path) == 'x' * READ_LIMIT
    assert read_text(path, limit=3) == 'xxx'


def test_read_text_turns_non_ascii_bytes_into_replacement_characters(tmp_path):
    path = sysroot_tree.put(str(tmp_path), 'garbled', b'1\xff\xc3\xa9\n')
    assert read_text(path) == '1\ufffd\ufffd\ufffd\n'


def test_read_text_of_a_fifo_returns_at_once(tmp_path, no_hang):
    path = str(tmp_path / 'fifo')
    os.mkfifo(path)
    assert read_text(path) == ''


def test_read_text_of_a_missing_file_fails_with_enoent(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_text(str(tmp_path / 'absent'))


# -- Detection ------------------------------------------------------------------------------------


def test_detection_without_a_backend_is_unavailable_and_has_no_paths():
    detection = Detection(reason='why not')
    assert detection.available is False and detection.reason == 'why not'
    assert detection.kernel_attrs == [] and detection.unknown == []
    with pytest.raises(KeyError):
        detection.attr_path('run')


def test_attr_path_refuses_names_the_kernel_or_the_model_lack(tmp_path):
    detection = Detection(KSM, str(tmp_path), ['run', 'pages_to_scan'], ['brand_new'])
    assert detection.available is True
    assert detection.attr_path('run') == os.path.join(str(tmp_path), 'run')
    for name in ('advisor_mode', 'brand_new', '../../etc/shadow'):
        with pytest.raises(KeyError):
            detection.attr_path(name)


def test_attr_path_of_a_backend_without_a_directory_is_refused():
    with pytest.raises(KeyError):
        Detection(UKSM, None, ['run']).attr_path('run')


# -- detect ---------------------------------------------------------------------------------------


def test_auto_detects_uksm_with_its_attributes_in_table_order(tmp_path):
    root = str(tmp_path)
    directory = sysroot_tree.uksm(root)
    sysroot_tree.ksm(root)  # a kernel has one of the two; UKSM wins when both are there
    detection = detect(root)
    assert detection.backend is UKSM and detection.path == directory
    assert detection.kernel_attrs == list(UKSM.attrs)
    assert detection.unknown == [] and detection.reason is None


def test_auto_falls_back_to_ksm_and_lists_unknown_files_sorted(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm_old(root, zz_future_knob='1\n', aa_future_stat='0\n')
    detection = detect(root, 'auto')
    assert detection.backend is KSM and detection.reason is None
    assert detection.kernel_attrs == [name for name in KSM.attrs if name not in sysroot_tree.KSM_OLD_MISSING]
    assert detection.unknown == ['aa_future_stat', 'zz_future_knob']


def test_auto_without_either_interface_says_the_kernel_lacks_them(tmp_path):
    detection = detect(str(tmp_path))
    assert detection.available is False and detection.backend is None and detection.path is None
    assert detection.reason == '; '.join([NO_UKSM, NO_KSM, MASKED])


def test_legacy_uksm_without_cpu_governor_is_refused_and_ksm_is_not_tried_past_it(tmp_path):
    root = str(tmp_path)
    sysroot_tree.uksm(root, omit=['cpu_governor'])
    detection = detect(root)
    assert detection.available is False
    assert detection.reason == (
        '/sys/kernel/mm/uksm has an attribute set this collection does not know (no cpu_governor; '
        'pre-0.1.2 UKSM trees are not supported); ' + NO_KSM
    )
    # not every reason is "does not exist": the kernel does have an interface, so no hint about /sys
    assert MASKED not in detection.reason


def test_legacy_uksm_beside_ksm_detects_ksm(tmp_path):
    root = str(tmp_path)
    sysroot_tree.uksm(root, omit=['cpu_governor'])
    sysroot_tree.ksm(root)
    assert detect(root).backend is KSM


def test_ksm_directory_without_run_is_refused(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(root, omit=['run'])
    assert 'no run;' in detect(root, 'ksm').reason


def test_interface_that_cannot_be_listed_is_reported_with_its_errno(tmp_path):
    root = str(tmp_path)
    sysroot_tree.put(root, 'sys/kernel/mm/uksm', 'not a directory\n')
    detection = detect(root)
    assert detection.available is False
    assert detection.reason == ('/sys/kernel/mm/uksm cannot be listed: Not a directory (errno 20); ' + NO_KSM)


@pytest.mark.parametrize('choice, present, missing', [('ksm', 'uksm', NO_KSM), ('uksm', 'ksm', NO_UKSM)])
def test_explicit_backend_looks_only_at_its_own_directory(tmp_path, choice, present, missing):
    root = str(tmp_path)
    sysroot_tree.interface(root, present)
    detection = detect(root, choice)
    assert detection.available is False and detection.reason == missing  # no hint about the kernel


@pytest.mark.parametrize('choice, backend', [('uksm', UKSM), ('ksm', KSM)])
def test_explicit_backend_that_exists_is_detected(tmp_path, choice, backend):
    root = str(tmp_path)
    sysroot_tree.uksm(root)
    sysroot_tree.ksm(root)
    assert detect(root, choice).backend is backend


# -- read_attributes ------------------------------------------------------------------------------


def test_read_attributes_without_a_backend_reads_nothing():
    assert read_attributes(Detection(reason='none')) == ({}, {}, {}, [])


def test_uksm_values_are_typed_and_sorted_into_tunables_choices_and_stats(tmp_path):
    root = str(tmp_path)
    sysroot_tree.uksm(root, pages_scanned='10 * 2^40\n')
    tunables, choices, stats, errors = read_attributes(detect(root))
    assert errors == []
    assert tunables == {
        'cpu_governor': 'full',
        'max_cpu_percentage': 95,
        'cpu_ratios': ['20', '40', 'MAX/4', 'MAX/1'],
        'eval_intervals': [1000, 500, 200, 50],
        'abundant_threshold': 10,
        'thrash_threshold': 50,
        'sleep_millisecs': 100,
        'run': 1,
    }
    assert choices == {'cpu_governor': ['full', 'medium', 'low', 'quiet']}
    assert set(stats) == set(UKSM.statistics)
    assert stats['pages_scanned'] == 10 << 40 and stats['pages_sharing'] == 48000
    assert all(isinstance(value, int) and not isinstance(value, bool) for value in stats.values())


def test_ksm_values_keep_a_negative_profit_and_the_advisor_choice(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(root, general_profit='-2520000\n', advisor_mode='none [scan-time]\n')
    tunables, choices, stats, errors = read_attributes(detect(root))
    assert errors == []
    assert tunables['advisor_mode'] == 'scan-time' and choices == {'advisor_mode': ['none', 'scan-time']}
    assert stats['general_profit'] == -2520000
    assert set(tunables) == set(KSM.writable) and set(stats) == set(KSM.statistics)


def test_read_attributes_reads_only_the_names_asked_for(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(root)
    detection = detect(root)
    assert read_attributes(detection, ['run', 'pages_shared', 'not_on_this_kernel']) == (
        {'run': 0},
        {},
        {'pages_shared': 0},
        [],
    )
    assert read_attributes(detection, []) == ({}, {}, {}, [])


def test_each_unreadable_or_malformed_attribute_is_one_error_and_the_rest_is_read(tmp_path):
    root = str(tmp_path)
    directory = sysroot_tree.uksm(
        root,
        pages_shared=None,
        run='yes\n',
        cpu_governor='full medium low quiet\n',
        cpu_ratios='20 40 MAX/4\n',
    )
    os.mkdir(os.path.join(directory, 'pages_shared'))  # read() answers EISDIR
    tunables, choices, stats, errors = read_attributes(detect(root))
    assert errors == [
        "cpu_governor: no bracketed choice in 'full medium low quiet\\n'",
        "cpu_ratios: expected 4 rungs, read '20 40 MAX/4\\n'",
        "run: expected an unsigned integer, read 'yes\\n'",
        'pages_shared: cannot read: Is a directory (errno 21)',
    ]
    assert not {'cpu_governor', 'cpu_ratios', 'run', 'pages_shared'} & (set(tunables) | set(stats))
    assert choices == {}
    assert tunables['sleep_millisecs'] == 100 and stats['pages_sharing'] == 48000


def test_a_value_with_two_active_choices_is_refused(tmp_path):
    root = str(tmp_path)
    sysroot_tree.ksm(root, advisor_mode='[none] [scan-time]\n')
    _tunables, _choices, _stats, errors = read_attributes(detect(root), ['advisor_mode'])
    assert errors == ["advisor_mode: two active choices in '[none] [scan-time]\\n'"]

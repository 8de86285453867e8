# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""uksm_facts run in-process on plain file trees: its options, its one fact, and its failures."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.litevirt.uksm.plugins.module_utils._plan import facts
from ansible_collections.litevirt.uksm.plugins.modules import uksm_facts
from ansible_collections.litevirt.uksm.tests.helpers import sysroot_tree
from ansible_collections.litevirt.uksm.tests.helpers.module_run import exits, fails
from ansible_collections.litevirt.uksm.tests.helpers.tree_snapshot import snapshot

RETURNED = yaml.safe_load(uksm_facts.RETURN)['ansible_facts']['contains']['uksm']['contains']


def _uksm_host(root):
    sysroot_tree.uksm(root)
    sysroot_tree.meminfo(root, zero_kib=4)
    sysroot_tree.process(root, 17, 'uksmd')
    return root


def test_facts_of_a_sysroot_are_the_documented_fact_and_no_change(tmp_path):
    root = _uksm_host(str(tmp_path))
    result = exits(uksm_facts.main, {'sysroot': root})
    assert result['changed'] is False
    assert set(result) == {'changed', 'ansible_facts'} and set(result['ansible_facts']) == {'uksm'}
    fact = result['ansible_facts']['uksm']
    assert set(fact) == set(RETURNED)  # every documented key, nothing else
    assert fact['available'] is True and fact['backend'] == 'uksm' and fact['sysroot'] == root
    assert fact['tunables']['cpu_governor'] == 'full' and fact['stats']['pages_sharing'] == 48000
    assert fact['daemon_running'] is True


def test_documented_keys_of_nested_dicts_are_present(tmp_path):
    fact = exits(uksm_facts.main, {'sysroot': _uksm_host(str(tmp_path))})['ansible_facts']['uksm']
    for key in ('savings', 'lock', 'policy'):
        assert set(fact[key]) == set(RETURNED[key]['contains']), key


def test_sysroot_is_normalised_before_use(tmp_path):
    root = _uksm_host(str(tmp_path))
    fact = exits(uksm_facts.main, {'sysroot': root + '/./proc/..//'})['ansible_facts']['uksm']
    assert fact['sysroot'] == root and fact['available'] is True


def test_sysroot_is_a_path_option_so_a_home_directory_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    _uksm_host(str(tmp_path / 'hv01'))
    fact = exits(uksm_facts.main, {'sysroot': '~/hv01'})['ansible_facts']['uksm']
    assert fact['sysroot'] == str(tmp_path / 'hv01') and fact['backend'] == 'uksm'


def test_defaults_are_the_host_root_and_auto(monkeypatch):
    asked = []

    def gather(sysroot, backend):
        asked.append((sysroot, backend))
        return {'available': False}

    monkeypatch.setattr(facts, 'gather', gather)  # the real root is not this test's to read
    assert exits(uksm_facts.main, {}) == {'changed': False, 'ansible_facts': {'uksm': {'available': False}}}
    assert asked == [('/', 'auto')]


@pytest.mark.parametrize('backend', ['uksm', 'ksm'])
def test_explicit_backend_reads_only_that_interface(tmp_path, backend):
    root = str(tmp_path)
    sysroot_tree.interface(root, backend)
    fact = exits(uksm_facts.main, {'sysroot': root, 'backend': backend})['ansible_facts']['uksm']
    assert fact['backend'] == backend and fact['path'] == '/sys/kernel/mm/' + backend


def test_explicit_backend_the_kernel_lacks_is_unavailable_not_a_failure(tmp_path):
    root = _uksm_host(str(tmp_path))
    result = exits(uksm_facts.main, {'sysroot': root, 'backend': 'ksm'})
    fact = result['ansible_facts']['uksm']
    assert result['changed'] is False
    assert fact['available'] is False and fact['reason'] == '/sys/kernel/mm/ksm does not exist'
    assert fact['backend'] is None and fact['tunables'] == {}


def test_host_without_uksm_or_ksm_is_not_a_failure(tmp_path):
    fact = exits(uksm_facts.main, {'sysroot': str(tmp_path)})['ansible_facts']['uksm']
    assert fact['available'] is False and 'without KSM/UKSM' in fact['reason']
    assert set(fact) == set(RETURNED)


def test_check_mode_gives_the_same_fact_and_writes_nothing(tmp_path):
    root = _uksm_host(str(tmp_path))
    before = snapshot(root)
    checked = exits(uksm_facts.main, {'sysroot': root}, check_mode=True)
    assert snapshot(root) == before
    assert checked == exits(uksm_facts.main, {'sysroot': root})
    assert snapshot(root) == before


def test_an_unknown_backend_is_refused_by_the_argument_spec(tmp_path):
    failure = fails(uksm_facts.main, {'sysroot': str(tmp_path), 'backend': 'zswap'})
    assert failure['msg'] == 'value of backend must be one of: auto, uksm, ksm, got: zswap'


def test_an_unknown_option_is_refused(tmp_path):
    failure = fails(uksm_facts.main, {'sysroot': str(tmp_path), 'settings': {'run': 1}})
    assert failure['msg'].startswith('Unsupported parameters for')
    assert 'settings' in failure['msg']


def test_a_sysroot_that_is_not_a_string_is_refused(tmp_path):
    failure = fails(uksm_facts.main, {'sysroot': ['/srv', 'hv01']})
    assert 'sysroot' in failure['msg'] and 'path' in failure['msg']


@pytest.mark.parametrize(
    'sysroot, message',
    [
        ('srv/hv01', "sysroot must be an absolute path, got 'srv/hv01'"),
        ('', 'sysroot must be a non-empty path'),
    ],
)
def test_unusable_sysroot_fails_with_only_the_reason(tmp_path, monkeypatch, sysroot, message):
    monkeypatch.chdir(tmp_path)
    assert fails(uksm_facts.main, {'sysroot': sysroot}) == {'msg': message}


def test_sysroot_with_a_nul_byte_fails(tmp_path):
    failure = fails(uksm_facts.main, {'sysroot': str(tmp_path) + '/\x00x'})
    assert failure == {'msg': 'sysroot must not contain NUL bytes'}
    assert os.listdir(str(tmp_path)) == []

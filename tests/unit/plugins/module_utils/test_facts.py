# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible_facts.uksm on every kind of simulated host."""

from __future__ import annotations


import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils.facts import gather, human_bytes
from ansible_collections.litevirt.uksm.plugins.module_utils.sysfs import SysrootError, check_sysroot


def test_missing_sysroot_is_not_a_failure(tmp_path):
    fact = gather(str(tmp_path / 'nothing-here'))
    assert fact['available'] is False


@pytest.mark.parametrize('count, text', [(0, '0 B'), (1023, '1023 B'), (1536, '1.5 KiB'), (3 << 30, '3.0 GiB')])
def test_human_bytes(count, text):
    assert human_bytes(count) == text


@pytest.mark.parametrize('sysroot', ['', 'relative/path', '/tmp/\x00x'])
def test_bad_sysroot(sysroot):
    with pytest.raises(SysrootError):
        check_sysroot(sysroot)


def test_sysroot_is_normalised():
    assert check_sysroot('/srv//hosts/../hosts/hv01/') == '/srv/hosts/hv01'

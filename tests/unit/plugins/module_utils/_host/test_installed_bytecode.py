# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's bytecode: a payload file runs from the installed copy's bytecode (compile_once asks for it
after use_host_bytecode) only when that copy is the same source, its bytecode is valid for it, and
nothing on the way could have been planted by another user; any doubt compiles the payload's source."""

from __future__ import annotations

import importlib.util
import marshal
import os
import sys

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once
from ansible_collections.litevirt.uksm.plugins.module_utils._host import installed_bytecode
from ansible_collections.litevirt.uksm.tests.helpers.payload_zip import (
    INSIDE,
    PACKAGE,
    exec_counting_compiles,
    make_payload,
    probe_on_host,
    zip_finder,
)

HOST_PACKAGE = 'usr/lib/litevirt-uksm/uksm_policy'


def _installed(sysroot, files):
    """The boot applier's package under ``sysroot`` with ``files`` (name -> text), compiled by the installer."""
    from ansible_collections.litevirt.uksm.plugins.module_utils._install import installation

    directory = os.path.join(sysroot, HOST_PACKAGE)
    os.makedirs(directory)
    for part in range(1, 4):
        os.chmod(os.path.join(sysroot, *HOST_PACKAGE.split('/')[:part]), 0o755)
    for name, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(directory, name)), mode=0o755, exist_ok=True)
        with open(os.path.join(directory, name), 'w', encoding='utf-8') as handle:
            handle.write(text)
    installation.compile_package(sysroot, [], False)
    return directory


def _run_tiny(tmp_path, monkeypatch, sysroot, name='tiny'):
    """Import ``name`` (tiny.py, or _sub/tiny.py for '_sub.tiny') of the payload after
    use_host_bytecode(sysroot): its ANSWER, and what was compiled."""
    path = name.replace('.', '/') + '.py'
    finder, directory = zip_finder(tmp_path, {path: 'ANSWER = 6 * 7\n'})
    monkeypatch.setattr(sys, 'meta_path', [finder] + list(sys.meta_path))
    compile_once.use_host_bytecode(sysroot)
    spec = finder.find_spec(PACKAGE + '.' + name)
    module = importlib.util.module_from_spec(spec)
    compiled = exec_counting_compiles(spec, module)
    assert module.__file__ == directory + '/' + path
    if finder.host is not None:
        os.close(finder.host.package)
        for found in finder.host.directories.values():
            for handle in found or ():
                os.close(handle)
    return module.ANSWER, compiled


def test_host_bytecode_of_the_same_source_runs_without_compiling(tmp_path, monkeypatch):
    _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    assert _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host')) == (42, [])


def test_host_bytecode_of_another_source_is_not_used(tmp_path, monkeypatch):
    # an older or newer collection installed the applier: the payload's own code runs
    _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 8\n'})
    answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'))
    assert answer == 42 and len(compiled) == 1


def test_host_bytecode_older_than_its_source_is_not_used(tmp_path, monkeypatch):
    directory = _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 8\n'})
    # the source now is the payload's, but the bytecode is still of the old text (its header says so)
    with open(os.path.join(directory, 'tiny.py'), 'w', encoding='utf-8') as handle:
        handle.write('ANSWER = 6 * 7\n')
    os.utime(os.path.join(directory, 'tiny.py'), (1, 1))
    answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'))
    assert answer == 42 and len(compiled) == 1


def test_host_bytecode_torn_or_foreign_is_not_used(tmp_path, monkeypatch):
    directory = _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    [cache] = os.listdir(os.path.join(directory, '__pycache__'))
    path = os.path.join(directory, '__pycache__', cache)
    with open(path, 'rb') as handle:
        header = handle.read(16)
    for body in (b'', b'\xff\x00garbage', b'\x00' * 3, marshal.dumps(42)):
        with open(path, 'wb') as handle:
            handle.write(header + body)
        answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'))
        assert answer == 42 and len(compiled) == 1


def test_host_bytecode_in_a_directory_others_can_write_is_not_used(tmp_path, monkeypatch):
    # another user could have planted it: the payload is compiled, as on a host without the applier
    _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    os.chmod(str(tmp_path / 'host' / 'usr' / 'lib'), 0o777)
    answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'))
    assert answer == 42 and len(compiled) == 1


def test_host_bytecode_behind_a_symlink_is_not_used(tmp_path, monkeypatch):
    _installed(str(tmp_path / 'elsewhere'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    os.makedirs(str(tmp_path / 'host' / 'usr'), mode=0o755)
    os.symlink(str(tmp_path / 'elsewhere' / 'usr' / 'lib'), str(tmp_path / 'host' / 'usr' / 'lib'))
    answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'))
    assert answer == 42 and len(compiled) == 1


@pytest.mark.parametrize('planted', ['writable', 'symlink'])
def test_host_bytecode_in_a_planted_pycache_is_not_used(tmp_path, monkeypatch, planted):
    # __pycache__ is opened from the package's descriptor, with the same checks as every directory above it
    directory = _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    cache = os.path.join(directory, '__pycache__')
    if planted == 'writable':
        os.chmod(cache, 0o777)
    else:
        os.rename(cache, str(tmp_path / 'cache'))
        os.symlink(str(tmp_path / 'cache'), cache)
    answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'))
    assert answer == 42 and len(compiled) == 1


@pytest.mark.parametrize('planted', ['', 'writable', 'symlink'])
def test_host_bytecode_of_a_sub_package_is_used_unless_its_directory_was_planted(tmp_path, monkeypatch, planted):
    # _host/, _plan/, ...: each opened from the package's descriptor with the same checks as the package
    directory = _installed(str(tmp_path / 'host'), {'_sub/tiny.py': 'ANSWER = 6 * 7\n'})
    sub = os.path.join(directory, '_sub')
    if planted == 'writable':
        os.chmod(sub, 0o777)
    elif planted == 'symlink':
        os.rename(sub, str(tmp_path / 'sub'))
        os.symlink(str(tmp_path / 'sub'), sub)
    answer, compiled = _run_tiny(tmp_path, monkeypatch, str(tmp_path / 'host'), '_sub.tiny')
    assert answer == 42 and len(compiled) == (1 if planted else 0)


def test_host_bytecode_without_an_installation_or_a_usable_sysroot_changes_nothing(tmp_path, monkeypatch):
    for sysroot in (str(tmp_path / 'no_such_host'), 'relative/host', '/bad\x00path', None):
        answer, compiled = _run_tiny(tmp_path, monkeypatch, sysroot)
        assert answer == 42 and len(compiled) == 1


def test_host_bytecode_outside_a_payload_is_not_looked_for(tmp_path):
    # no finder of compile_once (files on disk): nothing to do, nothing opened
    _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    compile_once.use_host_bytecode(str(tmp_path / 'host'))
    assert not [finder for finder in sys.meta_path if type(finder).__name__ == '_ZipSourceLoader']


def test_host_bytecode_of_the_installer_serves_the_facts_module(tmp_path):
    # end to end in a fresh interpreter: the installer's package (the module_utils files byte for byte) and
    # its bytecode; importing facts from the payload then compiles only what reads the host's files safely
    from ansible_collections.litevirt.uksm.plugins.module_utils._install.package_closure import read_closure

    sysroot = str(tmp_path / 'host')
    _installed(sysroot, {name.replace('.', '/') + '.py': text for name, text in read_closure().sources.items()})
    seen = probe_on_host(make_payload(tmp_path), sysroot, '_plan.facts')
    assert seen['human'] == '2.0 KiB'
    assert seen['files']['facts'].endswith('/payload.zip/' + INSIDE + '_plan/facts.py')
    compiled = set(seen['compiled']) - {'<string>', '__init__.py'}
    assert compiled == {'compile_once.py', 'installed_bytecode.py', 'errors.py', 'paths.py', 'safefiles.py'}


def test_pyc_header_is_the_one_python_writes_for_the_source(tmp_path):
    # the installer writes its bytecode with this header, and a run trusts only this header
    import py_compile

    source = tmp_path / 'tiny.py'
    source.write_text('ANSWER = 6 * 7\n')
    compiled = py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    with open(compiled, 'rb') as handle:
        assert handle.read(16) == installed_bytecode.pyc_header(os.stat(str(source)))


def test_open_installed_on_a_python_that_keeps_no_bytecode_is_none(tmp_path, monkeypatch):
    _installed(str(tmp_path / 'host'), {'tiny.py': 'ANSWER = 6 * 7\n'})
    monkeypatch.setattr(sys.implementation, 'cache_tag', None)
    assert installed_bytecode.open_installed(str(tmp_path / 'host')) is None

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compile_once: in a zip like an AnsiballZ payload, each module_utils file is compiled once (CPython's
``compile`` audit event counts it) and runs as zipimport would run it; anywhere else it changes nothing."""

from __future__ import annotations

import gc
import importlib.util
import json
import marshal
import os
import subprocess
import sys
import types
import zipfile
import zipimport
from unittest import mock

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once

MODULE_UTILS = os.path.dirname(os.path.abspath(compile_once.__file__))
INSIDE = 'ansible_collections/litevirt/uksm/plugins/module_utils/'
PACKAGE = INSIDE.rstrip('/').replace('/', '.')

# Run in a fresh interpreter with the zip first on sys.path: counts compile() per file, imports what
# argv names, and reports each module's loader, __file__ and a function's result.
PROBE = r'''
import json, sys, collections
compiled = collections.Counter()
sys.addaudithook(lambda event, args: event == 'compile' and compiled.update([str(args[1]).rsplit('/', 1)[-1]]))
sys.path.insert(0, sys.argv[1])
import importlib, traceback
names = sys.argv[2:]
try:
    modules = [importlib.import_module('%s.%s' % ('PACKAGE', name)) for name in names]
except Exception:
    # as Ansible reports a module's exception: traceback.format_exc(), which reads lines through the loader
    sys.exit(traceback.format_exc())
import gc
print(json.dumps({
    'collecting': gc.isenabled(),
    'compiled': dict(compiled),
    'loaders': {m.__name__.rsplit('.', 1)[1]: type(m.__loader__).__name__ for m in modules},
    'files': {m.__name__.rsplit('.', 1)[1]: m.__file__ for m in modules},
    'human': getattr(modules[-1], 'human_bytes', lambda n: None)(2048),
}))
'''.replace('PACKAGE', PACKAGE)


def _payload(tmp_path, extra=None):
    """A zip laid out like an AnsiballZ payload: the package's __init__ files and every module_utils file."""
    path = str(tmp_path / 'payload.zip')
    with zipfile.ZipFile(path, 'w') as archive:
        parts = INSIDE.rstrip('/').split('/')
        for depth in range(1, len(parts) + 1):
            archive.writestr('/'.join(parts[:depth]) + '/__init__.py', '')
        for directory, dirs, files in os.walk(MODULE_UTILS):
            dirs[:] = [name for name in dirs if name != '__pycache__']
            relative = os.path.relpath(directory, MODULE_UTILS)
            inside = INSIDE if relative == '.' else INSIDE + relative + '/'
            for name in files:
                if name.endswith('.py'):
                    archive.write(os.path.join(directory, name), inside + name)
        for name, text in (extra or {}).items():
            archive.writestr(INSIDE + name, text)
    return path


def _probe(payload, *names):
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, payload] + list(names), check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout)


def test_each_file_compiled_once_after_compile_once(tmp_path):
    seen = _probe(_payload(tmp_path), 'compile_once', '_knobs.attributes', '_host.paths')
    # compile_once itself came through zipimport (twice); every file after it once
    assert seen['compiled']['compile_once.py'] == 2
    assert seen['compiled']['attributes.py'] == 1
    assert seen['compiled']['value_kinds.py'] == 1  # imported by attributes, found by the same finder
    assert seen['compiled']['paths.py'] == 1
    assert seen['loaders']['attributes'] == '_ZipSourceLoader'
    assert seen['files']['paths'].endswith('/payload.zip/' + INSIDE + '_host/paths.py')
    # and the run collects no garbage from then on
    assert seen['collecting'] is False


def test_a_module_of_a_sub_package_is_compiled_once_and_imports_its_parents(tmp_path):
    seen = _probe(_payload(tmp_path), 'compile_once', '_install.unit_texts')
    assert seen['compiled']['unit_texts.py'] == 1
    assert seen['compiled']['paths.py'] == 1  # from ..paths: the parent package's, by the same finder
    assert seen['loaders']['unit_texts'] == '_ZipSourceLoader'
    assert seen['files']['unit_texts'].endswith('/payload.zip/' + INSIDE + '_install/unit_texts.py')


def test_without_compile_once_zipimport_compiles_twice(tmp_path):
    # the CPython behaviour compile_once exists for (python/cpython#141276); if a Python fixes it, this
    # test says so and compile_once can go
    seen = _probe(_payload(tmp_path), '_host.paths')
    assert seen['compiled']['paths.py'] == 2
    assert seen['loaders']['paths'] == 'zipimporter'
    assert seen['collecting'] is True


def test_modules_run_the_same_through_it(tmp_path):
    plain = _probe(_payload(tmp_path), '_plan.facts')
    once = _probe(_payload(tmp_path), 'compile_once', '_plan.facts')
    assert once['human'] is not None
    assert once['human'] == plain['human']


def test_traceback_shows_source_lines_expect_failure(tmp_path):
    # a module's exception, formatted as Ansible formats it, quotes the payload's source line
    payload = _payload(tmp_path, {'broken.py': 'def fail():\n    raise ValueError("from the payload")\nfail()\n'})
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, payload, 'compile_once', 'broken'],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert 'raise ValueError("from the payload")' in done.stderr
    assert INSIDE + 'broken.py' in done.stderr


def test_a_missing_module_is_left_to_zipimport_expect_failure(tmp_path):
    done = subprocess.run(
        [sys.executable, '-I', '-c', PROBE, _payload(tmp_path), 'compile_once', 'no_such_file'],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert 'ModuleNotFoundError' in done.stderr


def test_outside_a_zip_it_installs_nothing():
    # these tests import the collection from files: no finder of compile_once is on sys.meta_path, and
    # the collector runs
    assert not [finder for finder in sys.meta_path if type(finder).__name__ == '_ZipSourceLoader']
    assert gc.isenabled()


# --- in this process (what coverage sees): the finder on a zipimporter, and its installation -------


def _finder(tmp_path, extra=None):
    payload = _payload(tmp_path, extra)
    directory = '%s/%s' % (payload, INSIDE.rstrip('/'))
    return compile_once._ZipSourceLoader(zipimport.zipimporter(payload), directory), directory


def _exec_counting_compiles(spec, module):
    """Run the module as its loader does; the file names compile() was called for."""
    compiled = []
    real_compile = compile

    def counting_compile(*args, **kwargs):
        compiled.append(args[1])
        return real_compile(*args, **kwargs)

    with mock.patch('builtins.compile', counting_compile):
        spec.loader.exec_module(module)
    return compiled


def test_finder_loads_a_module_of_the_package_from_the_zip_compiling_it_once(tmp_path):
    finder, directory = _finder(tmp_path, {'tiny.py': 'ANSWER = 6 * 7\n'})
    spec = finder.find_spec(PACKAGE + '.tiny')
    assert spec.origin == directory + '/tiny.py' and spec.has_location
    module = importlib.util.module_from_spec(spec)
    compiled = _exec_counting_compiles(spec, module)
    assert module.ANSWER == 42 and module.__file__ == directory + '/tiny.py'
    assert compiled == [directory + '/tiny.py']
    assert finder.get_source(PACKAGE + '.tiny') == 'ANSWER = 6 * 7\n'


def test_finder_leaves_other_names_and_missing_files_to_the_next_finder(tmp_path):
    finder, _directory = _finder(tmp_path)
    assert finder.find_spec('json') is None
    assert finder.find_spec(PACKAGE + '.no_such_file') is None
    assert finder.create_module(None) is None


def test_installed_once_when_the_package_comes_from_a_zip(tmp_path, monkeypatch):
    payload = _payload(tmp_path)
    monkeypatch.setattr(sys, 'meta_path', list(sys.meta_path))
    monkeypatch.setattr(compile_once, '__loader__', zipimport.zipimporter(payload), raising=False)
    package = types.SimpleNamespace(__path__=['%s/%s' % (payload, INSIDE.rstrip('/'))])
    monkeypatch.setitem(sys.modules, PACKAGE, package)
    try:
        compile_once._install()
        compile_once._install()
        assert not gc.isenabled()
    finally:
        gc.enable()  # this process is the tests'
    installed = [finder for finder in sys.meta_path if isinstance(finder, compile_once._ZipSourceLoader)]
    assert len(installed) == 1 and sys.meta_path[0] is installed[0]


# --- the host's bytecode: the installed copy of a file, when it is the payload's -----------------------

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
    finder, directory = _finder(tmp_path, {path: 'ANSWER = 6 * 7\n'})
    monkeypatch.setattr(sys, 'meta_path', [finder] + list(sys.meta_path))
    compile_once.use_host_bytecode(sysroot)
    spec = finder.find_spec(PACKAGE + '.' + name)
    module = importlib.util.module_from_spec(spec)
    compiled = _exec_counting_compiles(spec, module)
    assert module.__file__ == directory + '/' + path
    handles = [finder.host_package]
    handles += [handle for found in finder.host_directories.values() if found for handle in found]
    for handle in handles:
        if handle is not None:
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
    probe = PROBE.replace('import importlib, traceback', 'import importlib, traceback, os')
    probe = probe.replace(
        'names = sys.argv[2:]',
        "names = sys.argv[2:]\nimportlib.import_module('%s.compile_once').use_host_bytecode(os.environ['HOST'])"
        % PACKAGE,
    )
    done = subprocess.run(
        [sys.executable, '-I', '-c', probe, _payload(tmp_path), '_plan.facts'],
        check=True,
        capture_output=True,
        text=True,
        env=dict(os.environ, HOST=sysroot),
    )
    seen = json.loads(done.stdout)
    assert seen['human'] == '2.0 KiB'
    assert seen['files']['facts'].endswith('/payload.zip/' + INSIDE + '_plan/facts.py')
    compiled = set(seen['compiled']) - {'<string>', '__init__.py'}
    assert compiled == {'compile_once.py', 'errors.py', 'paths.py', 'safefiles.py'}

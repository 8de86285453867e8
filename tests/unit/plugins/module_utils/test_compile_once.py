# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compile_once: in a zip like an AnsiballZ payload, each module_utils file is compiled once (CPython's
``compile`` audit event counts it) and runs as zipimport would run it; anywhere else it changes nothing."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
import types
import zipimport

from ansible_collections.litevirt.uksm.plugins.module_utils import compile_once
from ansible_collections.litevirt.uksm.tests.helpers.payload_zip import (
    INSIDE,
    PACKAGE,
    PROBE,
    exec_counting_compiles,
    make_payload,
    probe,
    probe_on_host,
    zip_finder,
)


def test_each_file_compiled_once_after_compile_once(tmp_path):
    seen = probe(make_payload(tmp_path), 'compile_once', '_knobs.attributes', '_host.paths')
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
    seen = probe(make_payload(tmp_path), 'compile_once', '_install.unit_texts')
    assert seen['compiled']['unit_texts.py'] == 1
    assert seen['compiled']['paths.py'] == 1  # from ..paths: the parent package's, by the same finder
    assert seen['loaders']['unit_texts'] == '_ZipSourceLoader'
    assert seen['files']['unit_texts'].endswith('/payload.zip/' + INSIDE + '_install/unit_texts.py')


def test_without_compile_once_zipimport_compiles_twice(tmp_path):
    # the CPython behaviour compile_once exists for (python/cpython#141276); if a Python fixes it, this
    # test says so and compile_once can go
    seen = probe(make_payload(tmp_path), '_host.paths')
    assert seen['compiled']['paths.py'] == 2
    assert seen['loaders']['paths'] == 'zipimporter'
    assert seen['collecting'] is True


def test_modules_run_the_same_through_it(tmp_path):
    plain = probe(make_payload(tmp_path), '_plan.facts')
    once = probe(make_payload(tmp_path), 'compile_once', '_plan.facts')
    assert once['human'] is not None
    assert once['human'] == plain['human']


def test_traceback_shows_source_lines_expect_failure(tmp_path):
    # a module's exception, formatted as Ansible formats it, quotes the payload's source line
    payload = make_payload(tmp_path, {'broken.py': 'def fail():\n    raise ValueError("from the payload")\nfail()\n'})
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
        [sys.executable, '-I', '-c', PROBE, make_payload(tmp_path), 'compile_once', 'no_such_file'],
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


def test_finder_loads_a_module_of_the_package_from_the_zip_compiling_it_once(tmp_path):
    finder, directory = zip_finder(tmp_path, {'tiny.py': 'ANSWER = 6 * 7\n'})
    spec = finder.find_spec(PACKAGE + '.tiny')
    assert spec.origin == directory + '/tiny.py' and spec.has_location
    module = importlib.util.module_from_spec(spec)
    compiled = exec_counting_compiles(spec, module)
    assert module.ANSWER == 42 and module.__file__ == directory + '/tiny.py'
    assert compiled == [directory + '/tiny.py']
    assert finder.get_source(PACKAGE + '.tiny') == 'ANSWER = 6 * 7\n'


def test_finder_leaves_other_names_and_missing_files_to_the_next_finder(tmp_path):
    finder, _directory = zip_finder(tmp_path)
    assert finder.find_spec('json') is None
    assert finder.find_spec(PACKAGE + '.no_such_file') is None
    assert finder.create_module(None) is None


def test_installed_once_when_the_package_comes_from_a_zip(tmp_path, monkeypatch):
    payload = make_payload(tmp_path)
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


def test_use_host_bytecode_on_a_host_without_the_applier_compiles_nothing_for_it(tmp_path):
    # the facts of a host that never had the role: one stat, and no reader of installed bytecode compiled
    (tmp_path / 'host' / 'usr' / 'lib').mkdir(parents=True)
    seen = probe_on_host(make_payload(tmp_path), str(tmp_path / 'host'), 'byte_sizes')
    assert seen['human'] == '2.0 KiB'
    assert set(seen['compiled']) - {'<string>', '__init__.py'} == {'compile_once.py', 'paths.py', 'byte_sizes.py'}

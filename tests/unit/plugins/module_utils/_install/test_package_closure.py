# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The package the units run: the launchers' roots and every sibling they import, lazily or not, read as
text from plain files, from an AnsiballZ zip, or from a loader that answers with bytes."""

from __future__ import annotations

import os
import subprocess
import sys
import types
import zipfile
import zipimport

import pytest

from ansible_collections.litevirt.uksm.plugins.module_utils._install import package_closure
from ansible_collections.litevirt.uksm.plugins.module_utils._install.installation import START_ROOTS
from ansible_collections.litevirt.uksm.plugins.module_utils._install.package_closure import (
    ROOTS,
    read_closure,
    relative_imports,
    start_order,
)
from ansible_collections.litevirt.uksm.tests.helpers.boot_package import LAUNCHERS, install_boot_package
from ansible_collections.litevirt.uksm.tests.helpers.import_reference import imported_modules

PACKAGE = package_closure.__name__.rsplit('.', 2)[0]  # module_utils, where the closure's files are
# the closure's files are in module_utils, the package above package_closure's own (_install)
MODULE_UTILS = os.path.dirname(os.path.dirname(os.path.abspath(package_closure.__file__)))


def _on_disk(name):
    with open(os.path.join(MODULE_UTILS, *name.split('.')) + '.py', encoding='utf-8') as handle:
        return handle.read()


# -- relative_imports -----------------------------------------------------------------------------


def test_relative_imports_names_each_sibling_module_once_per_import():
    source = (
        'from __future__ import annotations\n'
        'import os\n'
        'from . import launcher\n'
        'from . import persist, plan as planner\n'
        'from .errors import UksmError\n'
        'from .sysfs import detect, host_path\n'
    )
    assert relative_imports(source) == ['launcher', 'persist', 'plan', 'errors', 'sysfs']


def test_relative_imports_of_a_sub_package_file_are_named_by_their_path_in_module_utils():
    source = (
        'from . import launcher\n'
        'from .._host import persist, paths as where\n'
        'from ..errors import UksmError\n'
        'from .._plan.tunable import run\n'
        'from .. import byte_sizes\n'
    )
    assert relative_imports(source, '_programs') == [
        '_programs.launcher',
        '_host.persist',
        '_host.paths',
        'errors',
        '_plan.tunable',
        'byte_sizes',
    ]


def test_relative_imports_include_lazy_and_type_checking_imports():
    source = (
        'TYPE_CHECKING = False\n'
        'if TYPE_CHECKING:\n'
        '    from .sysfs import Detection\n'
        'def policy():\n'
        '    from .plan import drift\n'
        '    return drift\n'
        'class A:\n'
        '    def m(self):\n'
        '        from . import persist\n'
    )
    assert sorted(relative_imports(source)) == ['persist', 'plan', 'sysfs']


def test_absolute_imports_and_imports_from_above_module_utils_are_not_its_modules():
    source = (
        'import ansible_collections.litevirt.uksm.plugins.module_utils.errors\n'
        'from ansible.module_utils.basic import AnsibleModule\n'
        'from ..modules import uksm_facts\n'
        'from .. import doc_fragments\n'
    )
    assert relative_imports(source) == []


def test_relative_imports_of_a_source_that_does_not_parse_raise_a_syntax_error():
    with pytest.raises(SyntaxError):
        relative_imports('from . import (\n')


@pytest.mark.parametrize(
    'name',
    sorted(
        os.path.relpath(os.path.join(directory, name), MODULE_UTILS)[:-3]
        for directory, _dirs, names in os.walk(MODULE_UTILS)
        for name in names
        if name.endswith('.py')
    ),
)
def test_relative_imports_of_every_module_utils_file_are_those_the_parser_finds(name):
    # relative_imports parses only the import lines; on the collection's own files it finds exactly what
    # parsing the whole file finds, as many times each (the parser's walk orders nested ones later)
    source = _on_disk(name.replace('/', '.'))
    package = name.replace('/', '.').rpartition('.')[0]
    assert sorted(relative_imports(source, package)) == sorted(imported_modules(source, package))


def test_sub_packages_are_underscored_and_modules_are_not():
    # the rule relative_imports reads an import by: from a _-prefixed name, the names are modules
    for directory, dirs, names in os.walk(MODULE_UTILS):
        dirs[:] = [name for name in dirs if name != '__pycache__']
        if directory != MODULE_UTILS:
            assert os.path.basename(directory).startswith('_'), directory
            assert '__init__.py' in names, directory
            assert not dirs, 'one level of sub-packages: %s' % directory
        assert not [name for name in names if name.startswith('_') and name != '__init__.py'], directory


def test_relative_imports_of_parenthesised_and_commented_lists():
    source = (
        'from . import (  # why\n'
        '    persist,  # noqa\n'
        '    plan as planner,\n'
        ')\n'
        'from .sysfs import (\n'
        '    detect,\n'
        ')  # trailing\n'
        'text = "from .nothing import here"\n'
    )
    assert relative_imports(source) == ['persist', 'plan', 'sysfs']


# -- read_closure from the collection's own files --------------------------------------------------


def test_package_is_the_closure_of_the_launchers_byte_for_byte():
    sources = read_closure().sources
    assert set(ROOTS) <= set(sources)
    assert {'errors', '_host.sysfs', '_plan.facts', '_plan.plan', '_host.persist', '_plan.transaction'} <= set(sources)
    assert {'_host.lock', '_host.safefiles', '_knobs.attributes'} <= set(sources)
    # what only the modules need stays out of the host's package
    assert not [name for name in sources if name.startswith(('_install.', '_policy.'))]
    assert not {'compile_once', 'host_options'} & set(sources)
    for name, text in sources.items():
        assert isinstance(text, str) and text == _on_disk(name)
    # closed: every module any of them imports is in it
    for name, text in sources.items():
        assert set(relative_imports(text, name.rpartition('.')[0])) <= set(sources)


def test_package_is_exactly_the_import_closure_of_the_launchers_as_a_full_parse_finds_it():
    """The text scan of read_closure finds what a full parse finds (lazy imports included)."""
    sources = read_closure().sources
    expected, todo = set(), list(ROOTS)
    while todo:
        name = todo.pop()
        if name in expected:
            continue
        expected.add(name)
        todo.extend(imported_modules(sources[name], name.rpartition('.')[0]))
    assert set(sources) == expected
    assert {'_programs.applier', '_programs.metrics', '_programs.tuner', '_plan.tiers', '_plan.plan'} <= expected
    assert {'_host.persist', '_plan.transaction', 'errors'} <= expected


def test_loader_answering_with_bytes_is_decoded(monkeypatch):
    """The collection loader of ansible-core (controller, ansible-test) returns the source as bytes."""

    class BytesLoader:
        def get_source(self, fullname):
            return _on_disk(fullname[len(PACKAGE) + 1 :]).encode('utf-8')

    def find_spec(fullname):
        return types.SimpleNamespace(loader=BytesLoader())

    monkeypatch.setattr(
        package_closure, 'importlib', types.SimpleNamespace(util=types.SimpleNamespace(find_spec=find_spec))
    )
    sources = read_closure().sources
    assert sources['_programs.applier'] == _on_disk('_programs.applier') and isinstance(
        sources['_programs.metrics'], str
    )


@pytest.mark.parametrize(
    'spec',
    [
        None,
        types.SimpleNamespace(loader=None),
        types.SimpleNamespace(loader=types.SimpleNamespace(get_source=lambda name: None)),
    ],
    ids=['no-spec', 'no-loader', 'no-source'],
)
def test_module_whose_source_cannot_be_found_fails_naming_it(monkeypatch, spec):
    monkeypatch.setattr(
        package_closure, 'importlib', types.SimpleNamespace(util=types.SimpleNamespace(find_spec=lambda name: spec))
    )
    with pytest.raises(OSError) as caught:
        read_closure()
    assert str(caught.value) in ['cannot read the source of %s.%s' % (PACKAGE, root) for root in ROOTS]


# -- read_closure inside an AnsiballZ payload (zipimport) ------------------------------------------

ZIPPED = {
    '_programs/applier.py': 'from ..errors import UksmError\nfrom .._host import sysfs\n',
    '_programs/metrics.py': 'def main():\n    from .._plan.facts import gather\n',
    'errors.py': '# errors, from the zip\n',
    '_host/sysfs.py': 'from ..errors import UksmError\n',
    '_plan/facts.py': 'from .._host import sysfs\nfrom .. import errors\n',
    '_programs/tuner.py': 'from ..errors import UksmError\n',
    '_programs/preload.py': 'import sys\n',
    '_install/installation.py': 'raise AssertionError("never read: nothing imports it")\n',
}


def test_sources_are_read_from_the_ansiballz_zip_as_text_without_importing(tmp_path, monkeypatch):
    archive = str(tmp_path / 'ansiballz_payload.zip')
    inside = PACKAGE.replace('.', '/')
    with zipfile.ZipFile(archive, 'w') as payload:
        payload.writestr(inside + '/__init__.py', '')
        for name, text in ZIPPED.items():
            payload.writestr('%s/%s' % (inside, name), text)
    package = sys.modules[PACKAGE]
    monkeypatch.setattr(package, '__loader__', zipimport.zipimporter(archive))
    monkeypatch.setattr(package, '__file__', os.path.join(archive, inside, '__init__.py'), raising=False)
    sources = read_closure().sources
    assert sources == {
        name[:-3].replace('/', '.'): text for name, text in ZIPPED.items() if not name.startswith('_install/')
    }


def test_module_missing_from_the_zip_fails(tmp_path, monkeypatch):
    archive = str(tmp_path / 'payload.zip')
    inside = PACKAGE.replace('.', '/')
    with zipfile.ZipFile(archive, 'w') as payload:
        payload.writestr(inside + '/_programs/applier.py', 'from . import lost\n')
        payload.writestr(inside + '/_programs/metrics.py', '')
        payload.writestr(inside + '/_programs/tuner.py', '')
        payload.writestr(inside + '/_programs/preload.py', '')
    package = sys.modules[PACKAGE]
    monkeypatch.setattr(package, '__loader__', zipimport.zipimporter(archive))
    monkeypatch.setattr(package, '__file__', os.path.join(archive, inside, '__init__.py'), raising=False)
    with pytest.raises(OSError):
        read_closure()


# -- start_order: what a launcher preloads ----------------------------------------------------------


def test_relative_imports_at_top_level_leave_out_lazy_and_type_checking_ones_in_the_order_written():
    source = (
        'from .._host import persist\n'
        'if TYPE_CHECKING:\n'
        '    from .._plan.plan import Plan\n'
        'from ..errors import UksmError\n'
        'def run():\n'
        '    from .._plan import tiers\n'
        'from . import launcher\n'
    )
    assert relative_imports(source, '_programs', top_level=True) == ['_host.persist', 'errors', '_programs.launcher']
    assert relative_imports(source, '_programs') == [
        '_host.persist',
        '_plan.plan',
        'errors',
        '_plan.tiers',
        '_programs.launcher',
    ]


def test_start_order_finishes_packages_first_and_each_module_after_what_it_imports():
    imports = {
        '_programs.applier': ['_host.persist', 'errors', '_programs.launcher'],
        '_host.persist': ['errors', '_host.paths'],
        '_host.paths': [],
        'errors': [],
        '_programs.launcher': ['errors'],
    }
    assert start_order(imports, '_programs.applier') == [
        '',
        '_programs',
        '_host',
        'errors',
        '_host.paths',
        '_host.persist',
        '_programs.launcher',
        '_programs.applier',
    ]


def _importtime_order(directory, module):
    """The package's modules in the order CPython finishes importing ``module`` (``-X importtime`` prints
    each when it is done)."""
    code = 'import sys; sys.path.insert(0, %r); import %s' % (directory, module)
    shown = subprocess.run(
        [sys.executable, '-I', '-S', '-B', '-X', 'importtime', '-c', code],
        check=True,
        stderr=subprocess.PIPE,
        text=True,
    ).stderr
    names = [line.rpartition('|')[2].strip() for line in shown.splitlines() if line.startswith('import time:')]
    return [name[len('uksm_policy') + 1 :] for name in names if name.split('.')[0] == 'uksm_policy']


@pytest.mark.parametrize('program', sorted(LAUNCHERS))
def test_start_order_is_the_order_cpython_finishes_the_programs_imports(tmp_path, program):
    directory = install_boot_package(str(tmp_path))
    roots = START_ROOTS[program]
    assert roots[-1] == '_programs.' + program
    expected = _importtime_order(directory, ', '.join('uksm_policy.' + root for root in roots))
    assert start_order(read_closure().imports, *roots) == expected

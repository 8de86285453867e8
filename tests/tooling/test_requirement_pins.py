# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One version of every Python package: the requirements files of the test suites, and the constraints files
of the other ansible-core releases (tests/constraints), pin what requirements.txt pins.

ansible-test installs tests/unit/requirements.txt and tests/integration/requirements.txt into its
own virtual environments, where the constraints nox sets do not reach (it passes only a few
variables to pip), so those files carry the versions themselves.
"""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# name==version, with an environment marker after ';' allowed
PIN = re.compile(r'^([A-Za-z0-9_.-]+)==([^\s;]+)(?:\s*;.*)?$')


def _pins(relative):
    with open(os.path.join(ROOT, relative), encoding='utf-8') as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    return {PIN.match(line).group(1).lower().replace('_', '-'): PIN.match(line).group(2) for line in lines}


@pytest.mark.parametrize('relative', ['tests/unit/requirements.txt', 'tests/integration/requirements.txt'])
def test_suite_requirements_pin_the_versions_of_requirements_txt(relative):
    pinned = _pins('requirements.txt')
    suite = _pins(relative)
    assert suite, relative
    assert {name: version for name, version in suite.items() if pinned.get(name) != version} == {}


RELEASE_CONSTRAINTS = os.path.join('tests', 'constraints')


@pytest.mark.parametrize('name', sorted(os.listdir(os.path.join(ROOT, RELEASE_CONSTRAINTS))))
def test_release_constraints_pin_their_ansible_core_and_the_versions_of_requirements_txt(name):
    series = re.match(r'^ansible-core-(\d+\.\d+)\.txt$', name)
    assert series, '%s/%s: not ansible-core-X.Y.txt' % (RELEASE_CONSTRAINTS, name)
    pins = _pins(os.path.join(RELEASE_CONSTRAINTS, name))
    assert pins['ansible-core'].startswith(series.group(1) + '.')
    pinned = _pins('requirements.txt')
    others = {package: version for package, version in pins.items() if package != 'ansible-core'}
    assert {package: version for package, version in others.items() if pinned.get(package) != version} == {}


def _supported_series():
    """The ansible-core releases CI tests: requirements.txt's and one per constraints file, oldest first."""
    newer = [
        re.match(r'^ansible-core-(\d+\.\d+)\.txt$', name).group(1)
        for name in os.listdir(os.path.join(ROOT, RELEASE_CONSTRAINTS))
    ]
    oldest = '.'.join(_pins('requirements.txt')['ansible-core'].split('.')[:2])
    return sorted([oldest] + newer, key=lambda series: tuple(int(part) for part in series.split('.')))


@pytest.mark.parametrize('relative', ['meta/execution-environment.yml', 'tests/ee/execution-environment.yml'])
def test_execution_environments_allow_exactly_the_tested_ansible_core_releases(relative):
    series = _supported_series()
    major, minor = series[-1].split('.')
    with open(os.path.join(ROOT, relative), encoding='utf-8') as handle:
        text = handle.read()
    assert 'package_pip: ansible-core>=%s,<%s.%d\n' % (series[0], major, int(minor) + 1) in text


def test_the_noxfile_tests_every_supported_release_and_the_makefile_names_none():
    with open(os.path.join(ROOT, 'noxfile.py'), encoding='utf-8') as handle:
        cores = re.findall(r"^    '(\d+\.\d+)': \('", handle.read(), re.M)
    assert cores == _supported_series()
    # make test runs nox's default sessions, make sanity and integration their tags: no list of releases to forget
    with open(os.path.join(ROOT, 'Makefile'), encoding='utf-8') as handle:
        assert not re.findall(r'\b2\.(?:19|2\d)\b', handle.read())


def test_python_version_lists_the_pythons_the_noxfile_runs_the_tools_first():
    with open(os.path.join(ROOT, 'noxfile.py'), encoding='utf-8') as handle:
        noxfile = handle.read()
    controllers = re.findall(r"^    '\d+\.\d+': \('(\d+\.\d+)'", noxfile, re.M)
    host = re.search(r"^OLDEST_HOST_PYTHON = '(\d+\.\d+)'$", noxfile, re.M).group(1)
    with open(os.path.join(ROOT, '.python-version'), encoding='utf-8') as handle:
        listed = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    assert sorted(listed) == sorted(set(controllers + [host]))
    assert listed[0] == controllers[0]  # pyenv's python3 in the clone: the tools' Python (make setup)

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release check's licence, version, changelog and docs-site checks (tests/tools/release_contents.py)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
import release_contents
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = {
    'changes': {
        'release_summary': 'First release.',
        'minor_changes': ['uksm_facts - reads the lock.'],
    },
    'fragments': ['1.0.0-release.yml', 'lock.yml'],
    'modules': [{'name': 'uksm_facts', 'description': 'Gather facts.', 'namespace': ''}],
    'plugins': {'filter': [{'name': 'fleet_csv', 'description': 'CSV.', 'namespace': None}]},
    'objects': {'role': [{'name': 'policy', 'description': 'Policy.', 'namespace': None}]},
    'release_date': '2026-03-02',
}
METADATA = {
    'all': {
        'module': {'litevirt.uksm.uksm_facts': {'doc': {'version_added': '1.0.0'}}},
        'filter': {'litevirt.uksm.fleet_csv': {'doc': {'version_added': '1.0.0'}}},
        'role': {'litevirt.uksm.policy': {'entry_points': {'main': {'version_added': '1.0.0'}}}},
        'keyword': {'become': {'description': 'not a plugin'}},
    }
}


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


@pytest.fixture
def release(tmp_path):
    """An unpacked tarball of release 1.0.0 that passes, and an empty fragments directory."""
    root = str(tmp_path / 'unpacked')
    shutil.copytree(os.path.join(ROOT, 'docs', 'docsite'), os.path.join(root, 'docs', 'docsite'))
    shutil.copyfile(os.path.join(ROOT, 'LICENSE'), os.path.join(root, 'LICENSE'))
    _write(os.path.join(root, 'MANIFEST.json'), json.dumps({'collection_info': {'version': '1.0.0'}}))
    _write(os.path.join(root, 'changelogs', 'config.yaml'), 'keep_fragments: false\n')
    _write(
        os.path.join(root, 'changelogs', 'changelog.yaml'),
        yaml.safe_dump({'ancestor': None, 'releases': {'1.0.0': RELEASE}}),
    )
    _write(os.path.join(root, 'CHANGELOG.rst'), 'Notes\n=====\n\nv1.0.0\n======\n\nRelease Summary\n')
    fragments = tmp_path / 'fragments'
    fragments.mkdir()
    (fragments / '.keep').write_text('')
    return root, str(fragments)


def _check(release, metadata=None):
    return release_contents.check(release[0], release[1], METADATA if metadata is None else metadata)


def _set_version(root, version):
    _write(os.path.join(root, 'MANIFEST.json'), json.dumps({'collection_info': {'version': version}}))


def _set_releases(root, releases):
    _write(os.path.join(root, 'changelogs', 'changelog.yaml'), yaml.safe_dump({'releases': releases}))


def test_a_complete_release_passes(release):
    assert _check(release) == []


def test_missing_licence_fails(release):
    os.remove(os.path.join(release[0], 'LICENSE'))
    assert _check(release) == ['LICENSE is missing: the collection declares GPL-3.0-or-later and must ship its text']


def test_other_licence_text_fails(release):
    _write(os.path.join(release[0], 'LICENSE'), 'All rights reserved.\n')
    (problem,) = _check(release)
    assert problem.startswith('LICENSE is not the GPL-3.0 text')


def test_version_that_is_not_semantic_fails(release):
    _set_version(release[0], '1.0')
    problems = _check(release)
    assert problems[0] == "MANIFEST.json version '1.0' is not a semantic version (MAJOR.MINOR.PATCH)"


def test_version_without_release_fails(release):
    _set_version(release[0], '1.0.1')
    problems = _check(release)
    assert problems[0].startswith('changelogs/changelog.yaml has no release 1.0.1 (it has: 1.0.0)')
    assert 'CHANGELOG.rst has no section v1.0.1' in problems


def test_empty_changelog_fails(release):
    _set_releases(release[0], {})
    assert _check(release)[0] == (
        'changelogs/changelog.yaml has no release 1.0.0 (it has: none); run antsibull-changelog release --version 1.0.0'
    )


def test_release_after_the_version_fails(release):
    _set_releases(release[0], {'1.0.0': RELEASE, '1.1.0': {}, '1.0.0-rc1': {}})
    assert _check(release) == ['changelogs/changelog.yaml has releases after 1.0.0: 1.1.0']


def test_missing_changelog_rst_fails(release):
    os.remove(os.path.join(release[0], 'CHANGELOG.rst'))
    assert _check(release) == ['CHANGELOG.rst is missing']


def test_unreleased_fragment_fails(release):
    _write(os.path.join(release[1], 'late.yml'), 'bugfixes:\n  - "uksm_tunable - late: fixed."\n')
    (problem,) = _check(release)
    assert problem == (
        '%s/late.yml is not in release 1.0.0 of the changelog (bugfixes: uksm_tunable - late: fixed.); '
        'run antsibull-changelog release --version 1.0.0 --update-existing --reload-plugins' % release[1]
    )


def test_fragment_changed_after_the_release_fails(release):
    _write(os.path.join(release[1], 'lock.yml'), 'minor_changes:\n  - uksm_facts - reads the lock and its holder.\n')
    (problem,) = _check(release)
    assert (
        'lock.yml is not in release 1.0.0 of the changelog (minor_changes: uksm_facts - reads the lock and' in problem
    )


def test_released_fragment_left_in_place_fails(release):
    _write(os.path.join(release[1], 'lock.yml'), 'minor_changes:\n  - uksm_facts - reads the lock.\n')
    (problem,) = _check(release)
    assert problem.endswith(
        'lock.yml is released in 1.0.0 but still there (keep_fragments is false): the next release would repeat it'
    )


def test_released_fragment_kept_by_configuration_passes(release):
    _write(os.path.join(release[0], 'changelogs', 'config.yaml'), 'keep_fragments: true\n')
    _write(os.path.join(release[1], 'lock.yml'), 'minor_changes:\n  - uksm_facts - reads the lock.\n')
    _write(os.path.join(release[1], '1.0.0-release.yml'), 'release_summary: First release.\ntrivial:\n  - not shown\n')
    assert _check(release) == []


def test_fragment_kept_after_an_earlier_release_passes(release):
    _write(os.path.join(release[0], 'changelogs', 'config.yaml'), 'keep_fragments: true\n')
    _set_version(release[0], '1.1.0')
    _set_releases(release[0], {'1.0.0': RELEASE, '1.1.0': {'fragments': ['late.yml'], 'changes': {}}})
    _write(os.path.join(release[0], 'CHANGELOG.rst'), 'Notes\n=====\n\nv1.1.0\n======\n')
    _write(os.path.join(release[1], 'lock.yml'), 'minor_changes:\n  - uksm_facts - reads the lock.\n')
    assert [problem for problem in _check(release, metadata={}) if 'lock.yml' in problem] == []


def test_fragment_of_an_earlier_release_left_in_place_fails_when_not_kept(release):
    _set_version(release[0], '1.1.0')
    _set_releases(release[0], {'1.0.0': RELEASE, '1.1.0': {'fragments': [], 'changes': {}}})
    _write(os.path.join(release[0], 'CHANGELOG.rst'), 'Notes\n=====\n\nv1.1.0\n======\n')
    _write(os.path.join(release[1], 'lock.yml'), 'minor_changes:\n  - uksm_facts - reads the lock.\n')
    assert [problem for problem in _check(release, metadata={}) if 'lock.yml' in problem] == [
        '%s/lock.yml is not in release 1.1.0 of the changelog (minor_changes: uksm_facts - reads the lock.); '
        'run antsibull-changelog release --version 1.1.0 --update-existing --reload-plugins' % release[1]
    ]


def test_fragment_folded_in_twice_fails(release):
    _set_releases(release[0], {'1.0.0': dict(RELEASE, fragments=['lock.yml', 'lock.yml'])})
    assert _check(release) == ['lock.yml is listed twice in release 1.0.0']


def test_new_playbook_of_a_late_fragment_fails(release):
    _write(os.path.join(release[1], 'report.yml'), 'add object.playbook:\n  - name: report\n    description: Report.\n')
    (problem,) = _check(release)
    assert 'report.yml is not in release 1.0.0 of the changelog (add object.playbook report)' in problem


def test_new_module_missing_from_the_release_fails(release):
    metadata = json.loads(json.dumps(METADATA))
    metadata['all']['module']['litevirt.uksm.uksm_late'] = {'doc': {'version_added': '1.0.0'}}
    assert _check(release, metadata) == [
        'module uksm_late is new in 1.0.0 but its release does not name it; '
        'run antsibull-changelog release --version 1.0.0 --update-existing --reload-plugins'
    ]


def test_version_added_that_was_never_released_fails(release):
    metadata = json.loads(json.dumps(METADATA))
    metadata['all']['role']['litevirt.uksm.policy']['entry_points']['main']['version_added'] = '0.1.0'
    assert _check(release, metadata) == ['role policy: version_added 0.1.0 is not a released version']


def test_missing_knob_reference_page_fails(release):
    os.remove(os.path.join(release[0], 'docs', 'docsite', 'rst', 'knob-reference.rst'))
    assert _check(release) == ['docs/docsite/rst/knob-reference.rst is missing: the docs site has no knob reference']


def test_knob_reference_left_out_of_the_docs_site_index_fails(release):
    _write(
        os.path.join(release[0], 'docs', 'docsite', 'extra-docs.yml'),
        'sections:\n  - title: Guides\n    toctree:\n      - persist-policy\n      - {ref: rollout-from-ci}\n',
    )
    assert _check(release) == ['docs/docsite/extra-docs.yml does not list knob-reference in any section']


def test_missing_manifest_fails(release):
    os.remove(os.path.join(release[0], 'MANIFEST.json'))
    assert 'MANIFEST.json is missing: not a collection tarball' in _check(release)


def test_main_reports_each_problem_and_fails(release, capsys):
    os.remove(os.path.join(release[0], 'LICENSE'))
    assert release_contents.main([release[0], '--fragments', release[1]]) == 1
    assert capsys.readouterr().out.startswith('release-check: FAIL: LICENSE is missing')

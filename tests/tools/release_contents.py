# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a user of the release tarball must be able to trust, besides its links (release_links.py).

Run on the unpacked tarball (scripts/release-check.sh does):

    python tests/tools/release_contents.py DIR --fragments changelogs/fragments [--metadata DUMP]

- LICENSE is there and is the GPL-3.0 text, which the collection declares;
- MANIFEST.json's version is a semantic version, changelogs/changelog.yaml has a release for exactly
  that version and none after it, and CHANGELOG.rst has that release's section;
- no fragment of the source tree (--fragments) is missing from the released changelog: a late fragment
  needs ``antsibull-changelog release --version V --update-existing --reload-plugins``;
- every module, plugin and role that DUMP (``ansible-doc --metadata-dump``) documents as added in that
  version is named in its release, and none claims a version that is not released;
- the knob reference is a page of the docs site.

Prints one line per problem and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from typing import Any

import yaml

# sha256 of the GNU GPL version 3 text as the FSF publishes it (gpl-3.0.txt; Debian's common-licenses/GPL-3)
GPL3_SHA256 = '3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986'
# semver.org's regular expression for a semantic version
SEMVER = re.compile(
    r'^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)'
    r'(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?'
    r'(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$'
)
KNOB_REFERENCE_PAGE = 'knob-reference'
KNOB_REFERENCE_LABEL = 'ansible_collections.litevirt.uksm.docsite.knob_reference'
LATE_FRAGMENTS = 'antsibull-changelog release --version %s --update-existing --reload-plugins'


def _load_yaml(path: str) -> Any:
    """The document at PATH; None when there is no such file."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def licence_problems(root: str) -> list[str]:
    path = os.path.join(root, 'LICENSE')
    if not os.path.isfile(path):
        return ['LICENSE is missing: the collection declares GPL-3.0-or-later and must ship its text']
    with open(path, 'rb') as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    if digest != GPL3_SHA256:
        return ['LICENSE is not the GPL-3.0 text (sha256 %s, expected %s)' % (digest, GPL3_SHA256)]
    return []


def _precedence(version: str) -> tuple[int, int, int, int, str]:
    """Enough of semver's precedence to find the latest release: a pre-release sorts before its release."""
    match = SEMVER.match(version)
    if not match:
        return (-1, -1, -1, -1, version)
    major, minor, patch, pre = int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4)
    return (major, minor, patch, 0 if pre else 1, pre or '')


def version_problems(root: str) -> tuple[str | None, dict[str, Any], list[str]]:
    """The manifest's version, every release of changelogs/changelog.yaml by version; problems."""
    manifest = os.path.join(root, 'MANIFEST.json')
    if not os.path.isfile(manifest):
        return None, {}, ['MANIFEST.json is missing: not a collection tarball']
    with open(manifest, encoding='utf-8') as handle:
        version = str(json.load(handle)['collection_info']['version'])
    problems = []
    if not SEMVER.match(version):
        problems.append('MANIFEST.json version %r is not a semantic version (MAJOR.MINOR.PATCH)' % version)
    changes_path = os.path.join(root, 'changelogs', 'changelog.yaml')
    if not os.path.isfile(changes_path):
        return version, {}, problems + ['changelogs/changelog.yaml is missing']
    releases = {str(key): value for key, value in ((_load_yaml(changes_path) or {}).get('releases') or {}).items()}
    if version not in releases:
        problems.append(
            'changelogs/changelog.yaml has no release %s (it has: %s); run antsibull-changelog release --version %s'
            % (version, ', '.join(sorted(releases)) or 'none', version)
        )
    later = [name for name in releases if _precedence(name) > _precedence(version)]
    if later:
        problems.append('changelogs/changelog.yaml has releases after %s: %s' % (version, ', '.join(sorted(later))))
    changelog_rst = os.path.join(root, 'CHANGELOG.rst')
    if not os.path.isfile(changelog_rst):
        problems.append('CHANGELOG.rst is missing')
    else:
        with open(changelog_rst, encoding='utf-8') as handle:
            if not re.search(r'^v%s\n=+$' % re.escape(version), handle.read(), re.M):
                problems.append('CHANGELOG.rst has no section v%s' % version)
    return version, releases, problems


def _named(release: dict, section: str) -> list[str]:
    """Names listed by an ``add plugin.TYPE`` or ``add object.TYPE`` fragment section, as the release keeps them."""
    kind, plugin_type = section[len('add ') :].split('.', 1)
    if kind == 'plugin' and plugin_type == 'module':
        entries = release.get('modules') or []
    else:
        entries = (release.get('%ss' % kind) or {}).get(plugin_type) or []
    return [entry.get('name') for entry in entries]


def _missing_entries(fragment: dict, release: dict) -> list[str]:
    changes = release.get('changes') or {}
    missing = []
    for section, content in fragment.items():
        if section == 'trivial':  # antsibull-changelog leaves these out of the changelog
            continue
        if section == 'release_summary':
            if changes.get(section) != content:
                missing.append(section)
        elif section.startswith('add ') and '.' in section:
            missing += [
                '%s %s' % (section, entry.get('name'))
                for entry in content
                if entry.get('name') not in _named(release, section)
            ]
        else:
            missing += ['%s: %s' % (section, entry) for entry in content if entry not in (changes.get(section) or [])]
    return missing


def fragment_problems(root: str, fragments_dir: str, version: str, releases: dict[str, Any]) -> list[str]:
    """Fragments of the source tree that the released changelog does not contain, or contains twice."""
    config = _load_yaml(os.path.join(root, 'changelogs', 'config.yaml')) or {}
    release = releases.get(version) or {}
    listed = release.get('fragments') or []
    # with keep_fragments, the fragments of earlier releases stay; each must still read as its release does
    earlier = {
        name: content
        for other, content in releases.items()
        if other != version
        for name in ((content or {}).get('fragments') or [])
    }
    problems = [
        '%s is listed twice in release %s' % (name, version) for name in sorted(set(listed)) if listed.count(name) > 1
    ]
    names = sorted(os.listdir(fragments_dir)) if os.path.isdir(fragments_dir) else []
    for name in names:
        if not name.endswith(('.yml', '.yaml')):
            continue  # ignore_other_fragment_extensions: .keep and the like
        fragment = _load_yaml(os.path.join(fragments_dir, name)) or {}
        missing = _missing_entries(fragment, release)
        where = os.path.join(fragments_dir, name)
        kept = config.get('keep_fragments', False) and name in earlier
        if name not in listed and kept and not _missing_entries(fragment, earlier[name]):
            continue  # released earlier and kept, as configured: antsibull-changelog skips it
        if name not in listed or missing:
            problems.append(
                '%s is not in release %s of the changelog (%s); run %s'
                % (where, version, '; '.join(missing) or 'not listed', LATE_FRAGMENTS % version)
            )
        elif not config.get('keep_fragments', False):
            problems.append(
                '%s is released in %s but still there (keep_fragments is false): the next release would repeat it'
                % (where, version)
            )
    return problems


def _added_in(metadata: dict) -> dict[tuple[str, str], str]:
    """(plugin type, short name) to version_added of every module, plugin and role in an ansible-doc dump."""
    added = {}
    for plugin_type, plugins in metadata.get('all', {}).items():
        for name, doc in plugins.items():
            if not name.startswith('litevirt.uksm.'):
                continue
            if plugin_type == 'role':
                version_added = ((doc.get('entry_points') or {}).get('main') or {}).get('version_added')
            else:
                version_added = (doc.get('doc') or {}).get('version_added')
            added[(plugin_type, name.split('.', 2)[2])] = str(version_added)
    return added


def new_plugin_problems(metadata: dict, version: str, releases_path: str) -> list[str]:
    releases = {str(key): value for key, value in ((_load_yaml(releases_path) or {}).get('releases') or {}).items()}
    release = releases.get(version) or {}
    problems = []
    for (plugin_type, name), version_added in sorted(_added_in(metadata).items()):
        if version_added not in releases:
            problems.append('%s %s: version_added %s is not a released version' % (plugin_type, name, version_added))
        elif version_added == version:
            if plugin_type == 'module':
                entries = release.get('modules') or []
            elif plugin_type == 'role':
                entries = (release.get('objects') or {}).get('role') or []
            else:
                entries = (release.get('plugins') or {}).get(plugin_type) or []
            if name not in [entry.get('name') for entry in entries]:
                problems.append(
                    '%s %s is new in %s but its release does not name it; run %s'
                    % (plugin_type, name, version, LATE_FRAGMENTS % version)
                )
    return problems


def docs_site_problems(root: str) -> list[str]:
    page = os.path.join('docs', 'docsite', 'rst', KNOB_REFERENCE_PAGE + '.rst')
    if not os.path.isfile(os.path.join(root, page)):
        return ['%s is missing: the docs site has no knob reference' % page]
    problems = []
    with open(os.path.join(root, page), encoding='utf-8') as handle:
        if handle.readline().strip() != '.. _%s:' % KNOB_REFERENCE_LABEL:
            problems.append('%s does not start with the label %s' % (page, KNOB_REFERENCE_LABEL))
    index = _load_yaml(os.path.join(root, 'docs', 'docsite', 'extra-docs.yml')) or {}
    pages = [
        entry if isinstance(entry, str) else entry.get('ref')
        for section in index.get('sections') or []
        for entry in section.get('toctree') or []
    ]
    if KNOB_REFERENCE_PAGE not in pages:
        problems.append('docs/docsite/extra-docs.yml does not list %s in any section' % KNOB_REFERENCE_PAGE)
    return problems


def check(root: str, fragments_dir: str, metadata: dict | None) -> list[str]:
    problems = licence_problems(root)
    version, releases, found = version_problems(root)
    problems += found
    if version is not None:
        problems += fragment_problems(root, fragments_dir, version, releases)
        if metadata is not None:
            problems += new_plugin_problems(metadata, version, os.path.join(root, 'changelogs', 'changelog.yaml'))
    return problems + docs_site_problems(root)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the unpacked collection tarball')
    parser.add_argument('--fragments', required=True, help="the source tree's changelogs/fragments")
    parser.add_argument('--metadata', help='ansible-doc --metadata-dump of the installed collection')
    args = parser.parse_args(argv)
    metadata = None
    if args.metadata:
        with open(args.metadata, encoding='utf-8') as handle:
            metadata = json.load(handle)
    problems = check(args.root, args.fragments, metadata)
    for problem in problems:
        print('release-check: FAIL: %s' % problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release check's link and placeholder checker (tests/tools/release_links.py) on small trees."""

from __future__ import annotations

import release_links


def _tree(tmp_path, files):
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')
    return str(tmp_path)


def test_links_to_shipped_files_anchors_and_absolute_urls_pass(tmp_path):
    root = _tree(
        tmp_path,
        {
            'README.md': (
                '# Title\n\n## Pressure tiers\n\nSee [the role](roles/policy/README.md#role-variables), '
                '[tiers](#pressure-tiers), [licence](<LICENSE>) and [CPython](https://github.com/python/cpython).\n'
                '\n[ref]: docs/guide.rst\n'
            ),
            'LICENSE': 'text\n',
            'roles/policy/README.md': '# litevirt.uksm.policy\n\n## Role variables\n\nBack to [the top](../../README.md).\n',
            'docs/guide.rst': (
                '.. _label:\n\nGuide\n=====\n\nSee `the README <../README.md>`_, `a target <label_>`_ and '
                '`Ansible <https://docs.ansible.com/>`__.\n\n.. image:: ../LICENSE\n'
            ),
        },
    )
    assert release_links.check_tree(root) == []


def test_dangling_markdown_link_fails(tmp_path):
    root = _tree(tmp_path, {'README.md': 'See [the simulator](tests/simhost/README.md).\n'})
    assert release_links.check_tree(root) == [
        'README.md:1: link tests/simhost/README.md: tests/simhost/README.md is not in the collection'
    ]


def test_dangling_rst_link_fails(tmp_path):
    root = _tree(tmp_path, {'docs/docsite/rst/guide.rst': 'Read `the tests <../../../tests/vm/README.md>`_.\n'})
    assert release_links.check_tree(root) == [
        'docs/docsite/rst/guide.rst:1: link ../../../tests/vm/README.md: tests/vm/README.md is not in the collection'
    ]


def test_link_outside_the_collection_fails(tmp_path):
    root = _tree(tmp_path, {'README.md': 'See [the clone](../DEVELOPMENT.md).\n'})
    assert release_links.check_tree(root) == ['README.md:1: link ../DEVELOPMENT.md points outside the collection']


def test_anchor_without_heading_fails(tmp_path):
    root = _tree(tmp_path, {'README.md': '# Title\n\nSee [performance](#performance).\n'})
    assert release_links.check_tree(root) == [
        'README.md:3: link #performance: README.md has no heading for #performance'
    ]


def test_links_in_code_are_not_links(tmp_path):
    root = _tree(
        tmp_path,
        {'README.md': '```yaml\nx: "[a](missing.md)"\n```\n\nInline `[b](missing.md)` code.\n'},
    )
    assert release_links.check_tree(root) == []


def test_placeholder_url_fails(tmp_path):
    root = _tree(tmp_path, {'galaxy.yml': 'repository: https://example.invalid/litevirt/uksm\n'})
    assert release_links.check_tree(root) == [
        'galaxy.yml:1: placeholder URL https://example.invalid/litevirt/uksm (host example.invalid)'
    ]


def test_placeholder_hosts_of_every_kind_fail(tmp_path):
    root = _tree(
        tmp_path,
        {
            'docs/a.md': 'http://localhost:9100/metrics\n',
            'docs/b.rst': 'https://docs.example.com/x\n',
            'docs/c.txt': 'http://127.0.0.1/\n',
            'meta/d.yml': 'issues: litevirt.example.org/issues\n',
            'docs/e.md': 'Mail ops@hypervisors.invalid.\n',
            'docs/f.md': 'https://mirror.test/x\n',
        },
    )
    assert [problem.split(':')[0] for problem in release_links.check_tree(root)] == [
        'docs/a.md',
        'docs/b.rst',
        'docs/c.txt',
        'docs/e.md',
        'docs/f.md',
        'meta/d.yml',
    ]


def test_real_urls_and_localhost_as_a_host_pattern_pass(tmp_path):
    root = _tree(
        tmp_path,
        {
            'playbooks/report.yml': '- hosts: localhost\n  delegate_to: localhost\n',
            'plugins/x.py': '# see https://www.gnu.org/licenses/gpl-3.0.txt\nerror.invalid_value = 1\n',
        },
    )
    assert release_links.check_tree(root) == []


def test_binary_files_are_skipped(tmp_path):
    (tmp_path / 'image.png').write_bytes(b'\x89PNG\0https://example.com/')
    assert release_links.check_tree(str(tmp_path)) == []


def test_github_anchors_follow_headings():
    text = '# litevirt.uksm.policy\n\n## Replacing `ksmtuned`\n\n## Metrics\n\n## Metrics\n'
    assert release_links.github_anchors(text) == {'litevirtuksmpolicy', 'replacing-ksmtuned', 'metrics', 'metrics-1'}


def test_main_without_a_directory_fails(capsys):
    assert release_links.main([]) == 2
    assert 'usage' in capsys.readouterr().err

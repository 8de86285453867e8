# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The coverage gate reads ansible-test's Cobertura reports and holds every module_utils file to the floor."""

from __future__ import annotations

import coverage_floor


def _report(path, files):
    """A Cobertura report: file -> {line: hits}."""
    classes = ''.join(
        '<class filename="%s"><lines>%s</lines></class>'
        % (name, ''.join('<line number="%d" hits="%d"/>' % item for item in sorted(lines.items())))
        for name, lines in files.items()
    )
    path.write_text('<coverage><packages><package><classes>%s</classes></package></packages></coverage>' % classes)


def test_a_line_run_in_any_report_counts_and_only_plugins_are_read(tmp_path):
    _report(tmp_path / 'coverage=units=python-3.11.xml', {'plugins/module_utils/_host/a.py': {1: 1, 2: 0}})
    _report(
        tmp_path / 'coverage=units=python-3.8.xml', {'plugins/module_utils/_host/a.py': {2: 3}, 'tests/x.py': {1: 0}}
    )
    assert coverage_floor.line_hits(str(tmp_path)) == {'plugins/module_utils/_host/a.py': {1: True, 2: True}}


def test_a_module_utils_file_under_the_floor_fails_naming_it_expect_failure(tmp_path, capsys):
    _report(
        tmp_path / 'coverage.xml',
        {
            'plugins/module_utils/_plan/low.py': {line: int(line <= 8) for line in range(1, 11)},
            'plugins/module_utils/errors.py': {1: 1},
            'plugins/filter/fleet_csv.py': {1: 0, 2: 0},  # only module_utils files are held to the floor
        },
    )
    assert coverage_floor.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert 'plugins/module_utils/_plan/low.py' in out and '80.0%  < 90 %' in out
    assert out.rstrip().endswith('below 90 % line coverage from unit tests: plugins/module_utils/_plan/low.py')
    assert coverage_floor.main([str(tmp_path), '75']) == 0


def test_no_report_fails_saying_what_to_run_first_expect_failure(tmp_path, capsys):
    assert coverage_floor.main([str(tmp_path / 'absent')]) == 1
    assert 'run the ansible-test-units session first' in capsys.readouterr().out

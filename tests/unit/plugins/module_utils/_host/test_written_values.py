# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of what the collection wrote since boot to attributes the kernel raises by itself: kept
per backend beside the host lock, read at the first question only, and never trusted when damaged,
planted or unreadable (which only makes a raise look like drift)."""

from __future__ import annotations

from ansible_collections.litevirt.uksm.plugins.module_utils._host.paths import WRITTEN_FILE
from ansible_collections.litevirt.uksm.plugins.module_utils._host.written_values import WrittenValues
from ansible_collections.litevirt.uksm.tests.helpers.owners import NOBODY, give_away


def test_a_write_is_recorded_per_backend_and_read_back(tmp_path):
    root = str(tmp_path)
    assert WrittenValues(root, 'uksm').get('sleep_millisecs') is None
    WrittenValues(root, 'uksm').record('sleep_millisecs', 12)
    WrittenValues(root, 'ksm').record('sleep_millisecs', 20)
    assert WrittenValues(root, 'uksm').get('sleep_millisecs') == 12
    assert WrittenValues(root, 'ksm').get('sleep_millisecs') == 20
    path = tmp_path / WRITTEN_FILE
    assert path.read_text() == 'ksm sleep_millisecs 20\nuksm sleep_millisecs 12\n'
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700


def test_the_record_is_read_once(tmp_path):
    root = str(tmp_path)
    WrittenValues(root, 'uksm').record('sleep_millisecs', 12)
    record = WrittenValues(root, 'uksm')
    assert record.get('sleep_millisecs') == 12
    (tmp_path / WRITTEN_FILE).write_text('uksm sleep_millisecs 40\n')
    assert record.get('sleep_millisecs') == 12


def test_a_damaged_record_knows_nothing_of_what_it_garbles(tmp_path):
    root = str(tmp_path)
    WrittenValues(root, 'uksm').record('sleep_millisecs', 12)
    (tmp_path / WRITTEN_FILE).write_text('uksm sleep_millisecs -4\nuksm run\nuksm thrash_threshold 7\n\xff')
    record = WrittenValues(root, 'uksm')
    assert record.get('sleep_millisecs') is None and record.get('thrash_threshold') == 7


def test_a_record_another_user_could_have_planted_is_not_read(tmp_path):
    root = str(tmp_path)
    WrittenValues(root, 'uksm').record('sleep_millisecs', 12)
    give_away(tmp_path / WRITTEN_FILE, NOBODY)
    assert WrittenValues(root, 'uksm').get('sleep_millisecs') is None


def test_a_record_that_cannot_be_written_fails_nothing(tmp_path):
    root = str(tmp_path)
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'litevirt-uksm').write_text('a file where the directory should be')
    record = WrittenValues(root, 'uksm')
    record.record('sleep_millisecs', 12)  # no exception: the next run sees a raise as drift and writes once more
    assert record.get('sleep_millisecs') == 12

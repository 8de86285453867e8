# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wall time of each task of a playbook run, for the benchmark's scale cases (tests/bench/scale.py).

A task runs from its start to the start of the next one (or the end of its play): with the default linear
strategy, that is every host running it. Written as JSON, ``[[play, task, seconds], ...]``, to the file that
BENCH_TASK_TIMES names.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: bench_task_times
type: aggregate
short_description: Wall time of each task, for the benchmark
description:
  - Writes C([[play, task, seconds], ...]) to the file named by the environment variable C(BENCH_TASK_TIMES).
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_task_times'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._play = ''
        self._running = None
        self._times = []

    def _finish(self):
        if self._running:
            name, started = self._running
            self._times.append([self._play, name, round(time.monotonic() - started, 4)])
        self._running = None

    def v2_playbook_on_play_start(self, play):
        self._finish()
        self._play = play.get_name()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._finish()
        self._running = (task.get_name(), time.monotonic())

    def v2_playbook_on_stats(self, stats):
        self._finish()
        path = os.environ.get('BENCH_TASK_TIMES')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(self._times, handle)

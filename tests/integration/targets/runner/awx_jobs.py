# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the rollout and report playbooks as AWX runs a job: ansible_runner.run() on a private data dir.

Usage: awx_jobs.py HOSTS_DIR   (the simulated hosts are mounted there, one directory per variant)

Like AWX, each job gets a new private data dir (project/, inventory/, env/extravars) and passes
ansible-runner an event handler, a status handler and a finished callback; the job's artifacts are
the artifact_data of its events, as AWX keeps them. Three jobs: the rollout, the report, and a
rollout whose policy the hosts refuse, which must fail its job. Each check states what it proves.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

import ansible_runner

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTS = ['hv-uksm', 'hv-ksm', 'hv-ksm-old', 'hv-plain']
# the hosts with UKSM or KSM, which the policy changes; hv-plain has neither and is skipped
SHARING = ['hv-uksm', 'hv-ksm', 'hv-ksm-old']
# the job template's extra vars: the whole group, a canary, then batches of two
ROLLOUT_VARS = {'rollout_hosts': 'hypervisors', 'rollout_canary': 1, 'rollout_batch': 2}
ANSI = re.compile(r'\x1b\[[0-9;]*m')
RECAP = re.compile(
    r'^(\S+)\s*: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)'
)


class Job:
    """One job: its private data dir, ansible-runner's result and what the handlers saw."""

    def __init__(self, ident: str, playbook: str, hosts_dir: str, extravars: dict):
        self.ident, self.playbook = ident, playbook
        # beside the simulated hosts, in the directory runme.sh made
        self.private_data_dir = tempfile.mkdtemp(prefix='job-%s-' % ident, dir=hosts_dir)
        self.project = os.path.join(self.private_data_dir, 'project')
        self.artifact_dir = os.path.join(self.private_data_dir, 'artifacts', ident)
        self.events: list = []
        self.statuses: list = []
        self.artifacts: dict = {}
        self.job_cwd = None
        self.finished = False
        shutil.copytree(os.path.join(HERE, 'project'), self.project)
        shutil.copytree(os.path.join(HERE, 'inventory'), os.path.join(self.private_data_dir, 'inventory'))
        # what the test needs instead of SSH to real hypervisors: each host's sysroot, this interpreter
        local = {
            'all': {
                'vars': {
                    'ansible_connection': 'local',
                    'ansible_python_interpreter': sys.executable,
                    'uksm_policy_sysroot': hosts_dir + '/{{ variant }}',
                }
            }
        }
        with open(os.path.join(self.private_data_dir, 'inventory', 'local.json'), 'w', encoding='utf-8') as handle:
            json.dump(local, handle)
        self.result = ansible_runner.run(
            private_data_dir=self.private_data_dir,
            ident=ident,
            playbook=playbook,
            extravars=extravars,
            event_handler=self._event,
            status_handler=self._status,
            finished_callback=self._finished,
            quiet=True,
        )

    # AWX's handlers do the same with what they receive (awx/main/tasks/callback.py)
    def _event(self, event: dict) -> bool:
        self.events.append(event)
        if event.get('event_data', {}).get('artifact_data'):
            self.artifacts = event['event_data']['artifact_data']
        return True  # ansible-runner writes artifacts/<ident>/job_events/ too (AWX returns False)

    def _status(self, status: dict, runner_config) -> None:
        self.statuses.append(status['status'])
        if status['status'] == 'starting':
            self.job_cwd = runner_config.cwd

    def _finished(self, _runner) -> None:
        self.finished = True

    def of(self, kind: str, task: str | None = None) -> list:
        """The events of a kind, for a task when one is named."""
        return [
            event
            for event in self.events
            if event['event'] == kind and (task is None or event['event_data'].get('task') == task)
        ]

    def hosts(self, kind: str, task: str) -> list:
        return sorted(event['event_data']['host'] for event in self.of(kind, task))

    def stats(self) -> dict:
        (stats,) = self.of('playbook_on_stats')
        return stats['event_data']

    @property
    def stdout_path(self) -> str:
        return os.path.join(self.artifact_dir, 'stdout')

    def stdout(self) -> str:
        """ansible-runner's stdout file, without the colour codes."""
        return ANSI.sub('', read(self.stdout_path))

    def fail(self, message: str) -> None:
        """Stop with the check that failed and the end of the job's output."""
        tail = '\n'.join(self.stdout().splitlines()[-40:]) if os.path.isfile(self.stdout_path) else ''
        sys.exit('%s: %s\n--- end of the job output (%s) ---\n%s' % (self.ident, message, self.artifact_dir, tail))

    def check(self, condition: bool, what: str, detail: object = '') -> None:
        if not condition:
            self.fail('%s: %s' % (what, detail))
        print('%s: %s' % (self.ident, what))


def read(path: str) -> str:
    with open(path, encoding='utf-8') as handle:
        return handle.read()


# --- What every job must show, whatever its outcome ------------------------------------------
def check_runner_artifacts(job: Job, status: str, rc: int) -> None:
    """The status and rc, as the result, the handlers and ansible-runner's artifact files give them."""
    job.check(
        job.result.status == status and job.result.rc == rc,
        'runner status %s, rc %d' % (status, rc),
        (job.result.status, job.result.rc),
    )
    job.check(
        job.statuses == ['starting', 'running', status],
        'the status handler saw starting, running, ' + status,
        job.statuses,
    )
    job.check(job.finished, 'the finished callback was called')
    job.check(job.job_cwd == job.project, "the playbook ran in the project's directory (AWX's job_cwd)", job.job_cwd)
    job.check(
        read(os.path.join(job.artifact_dir, 'status')) == status, 'artifacts/%s/status says %s' % (job.ident, status)
    )
    job.check(read(os.path.join(job.artifact_dir, 'rc')) == str(rc), 'artifacts/%s/rc says %d' % (job.ident, rc))
    command = json.loads(read(os.path.join(job.artifact_dir, 'command')))
    job.check(
        command['command'][0] == 'ansible-playbook' and command['command'][-1] == job.playbook,
        'artifacts/%s/command is ansible-playbook %s' % (job.ident, job.playbook),
        command['command'],
    )

    # every event the handler saw is a file of job_events, numbered from 1 without a gap
    files = glob.glob(os.path.join(job.artifact_dir, 'job_events', '*.json'))
    on_disk = sorted((json.loads(read(path)) for path in files), key=lambda event: event['counter'])
    job.check(
        [event['counter'] for event in on_disk] == list(range(1, len(job.events) + 1)),
        'job_events holds %d events, numbered 1 to %d' % (len(job.events), len(job.events)),
        len(on_disk),
    )
    job.check(
        [(event['uuid'], event['event']) for event in on_disk]
        == [(event['uuid'], event['event']) for event in sorted(job.events, key=lambda event: event['counter'])],
        'job_events are the events the handler received',
    )
    job.check([event['event'] for event in on_disk][-1] == 'playbook_on_stats', 'the last event is playbook_on_stats')


def count_events(job: Job, kind: str, host: str, changed: bool = False) -> int:
    """Events of a kind for a host, only those of changed results when asked, never ignored errors."""
    return len(
        [
            event
            for event in job.of(kind)
            if event['event_data']['host'] == host
            and (not changed or event['event_data']['res'].get('changed'))
            and not event['event_data'].get('ignore_errors')
        ]
    )


def check_stats_match_events(job: Job) -> None:
    """playbook_on_stats counts what the host events say, and so does the recap in stdout."""
    stats = job.stats()
    for host in stats['processed']:
        counted = {
            'ok': count_events(job, 'runner_on_ok', host),
            'changed': count_events(job, 'runner_on_ok', host, changed=True),
            'skipped': count_events(job, 'runner_on_skipped', host),
            # Ansible counts a failure that a rescue section handled as rescued, not as failed
            'failures': count_events(job, 'runner_on_failed', host) - stats['rescued'].get(host, 0),
            'dark': count_events(job, 'runner_on_unreachable', host),
        }
        reported = {key: stats[key].get(host, 0) for key in counted}
        job.check(reported == counted, 'stats of %s match its events: %s' % (host, reported), counted)
        recap = [match.groups() for match in map(RECAP.match, job.stdout().splitlines()) if match and match[1] == host]
        expected = (
            host,
            reported['ok'],
            reported['changed'],
            reported['dark'],
            reported['failures'],
            reported['skipped'],
            stats['rescued'].get(host, 0),
        )
        job.check(
            recap == [tuple(str(value) for value in expected)], 'the recap of %s in stdout says the same' % host, recap
        )


# --- The rollout -------------------------------------------------------------------------------
def junit_cases(path: str) -> dict:
    return {case.get('name'): case for case in ET.parse(path).getroot().iter('testcase')}


def check_rollout_files_are_the_artifacts(job: Job) -> tuple:
    """summary.json and junit.xml where the job ran (the project directory), equal to the job's artifacts."""
    summary_path = os.path.join(job.project, 'uksm-rollout', 'summary.json')
    junit_path = os.path.join(job.project, 'uksm-rollout', 'junit.xml')
    job.check(
        os.path.isfile(summary_path) and os.path.isfile(junit_path),
        'summary.json and junit.xml are in project/uksm-rollout',
    )
    summary = json.loads(read(summary_path))
    job.check(
        sorted(job.artifacts) == ['uksm_rollout_junit', 'uksm_rollout_summary'],
        'the job has the artifacts uksm_rollout_summary and uksm_rollout_junit',
        sorted(job.artifacts),
    )
    job.check(job.artifacts['uksm_rollout_summary'] == summary, 'artifact uksm_rollout_summary is summary.json')
    job.check(job.artifacts['uksm_rollout_junit'] == read(junit_path), 'artifact uksm_rollout_junit is junit.xml')
    return summary, junit_cases(junit_path)


def rollout(hosts_dir: str) -> None:
    job = Job('rollout', 'rollout.yml', hosts_dir, ROLLOUT_VARS)
    check_runner_artifacts(job, 'successful', 0)
    stats = job.stats()
    job.check(sorted(stats['processed']) == sorted(HOSTS), 'every host was processed', stats['processed'])
    job.check(stats['failures'] == {} and stats['dark'] == {}, 'no host failed or was unreachable', stats)
    job.check(
        not job.of('runner_on_failed') and not job.of('runner_on_unreachable'),
        'no runner_on_failed or runner_on_unreachable event',
    )
    check_stats_match_events(job)
    job.check(
        job.hosts('runner_on_ok', 'Read UKSM/KSM facts before the rollout') == sorted(HOSTS),
        'runner_on_ok: pre-flight facts of every host',
    )
    applied = job.of('runner_on_ok', 'Apply the policy now and persist it')
    job.check(
        sorted(event['event_data']['host'] for event in applied if event['event_data']['res']['changed'])
        == sorted(SHARING),
        'runner_on_ok, changed: the policy applied on the UKSM and KSM hosts',
    )
    job.check(
        job.hosts('runner_on_ok', 'Verify that the host runs the policy and will again after a reboot')
        == sorted(SHARING),
        'runner_on_ok: each of them verified',
    )
    job.check(job.hosts('runner_on_ok', 'Record the result') == sorted(HOSTS), 'runner_on_ok: a result for every host')
    plays = [event['event_data']['play'] for event in job.of('playbook_on_play_start')]
    job.check(
        plays == ['Pre-flight'] + ['Roll the policy out, canary first'] * 3,
        'three batches: the canary, two hosts, one host',
        plays,
    )

    summary, cases = check_rollout_files_are_the_artifacts(job)
    rows = {row['host']: row for row in summary['hosts']}
    job.check(summary['passed'] and summary['failed_hosts'] == [], 'the summary says the rollout passed', summary)
    job.check(
        {host: (rows[host]['status'], rows[host]['batch']) for host in HOSTS}
        == {
            'hv-uksm': ('changed', 1),
            'hv-ksm': ('changed', 2),
            'hv-ksm-old': ('changed', 2),
            'hv-plain': ('skipped', 3),
        },
        'the summary has each host, its batch and status',
        rows,
    )
    job.check(
        sorted(cases) == sorted(HOSTS)
        and not [
            name for name, case in cases.items() if case.find('failure') is not None or case.find('error') is not None
        ],
        'junit.xml: a test case per host, none failed',
    )
    job.check(
        [name for name, case in cases.items() if case.find('skipped') is not None] == ['hv-plain'],
        'junit.xml: the host without UKSM/KSM is skipped',
    )


def expect_failure_rollout_with_a_refused_policy(hosts_dir: str) -> None:
    """A policy the hosts refuse fails the job: a runner that hid failures would pass this job."""
    refused = dict(ROLLOUT_VARS, uksm_policy_ksm_settings={'pages_to_scan': -1})
    job = Job('rollout-expected-failure', 'rollout.yml', hosts_dir, refused)
    print('%s: EXPECTED FAILURE: pages_to_scan -1 is refused by the KSM hosts of batch 2' % job.ident)
    check_runner_artifacts(job, 'failed', 2)
    stats = job.stats()
    job.check(
        stats['failures'] == {'hv-ksm': 1, 'hv-ksm-old': 1} and stats['rescued'] == stats['failures'],
        'stats: the two KSM hosts failed (once rescued into the summary)',
        stats,
    )
    job.check(stats['dark'] == {} and not job.of('runner_on_unreachable'), 'no host was unreachable')
    check_stats_match_events(job)
    refusing = ('Apply the policy now and persist it', 'Stop the rollout after this batch')
    failed = job.of('runner_on_failed')
    job.check(
        sorted((event['event_data']['task'], event['event_data']['host']) for event in failed)
        == sorted((task, host) for task in refusing for host in ('hv-ksm', 'hv-ksm-old')),
        'runner_on_failed: %s and %s, on the two KSM hosts only' % refusing,
        [(event['event_data']['task'], event['event_data']['host']) for event in failed],
    )
    messages = [event['event_data']['res']['msg'] for event in failed]
    job.check(
        all('pages_to_scan: -1 is out of range' in message for message in messages),
        'each failure event names the setting and the value',
        messages,
    )
    reached = sorted(
        {
            event['event_data']['host']
            for event in job.events
            if event['event'].startswith('runner_on_') and event['event_data'].get('play') != 'Pre-flight'
        }
    )
    job.check(reached == ['hv-ksm', 'hv-ksm-old', 'hv-uksm'], 'the batch after the failure was never reached', reached)
    job.check(
        read(os.path.join(hosts_dir, 'ksm', 'sys', 'kernel', 'mm', 'ksm', 'pages_to_scan')).strip() == '500',
        'the refused value was not written: pages_to_scan is still the first rollout\'s 500',
    )

    summary, cases = check_rollout_files_are_the_artifacts(job)
    job.check(
        not summary['passed'] and summary['failed_hosts'] == ['hv-ksm', 'hv-ksm-old'],
        'the summary says which hosts failed',
        summary,
    )
    failures = {name: case.find('failure') for name, case in cases.items() if case.find('failure') is not None}
    job.check(
        sorted(failures) == ['hv-ksm', 'hv-ksm-old']
        and all('pages_to_scan' in failure.get('message') for failure in failures.values()),
        'junit.xml marks the two KSM hosts failed, with the refused setting',
        failures,
    )
    skipped = cases['hv-plain'].find('skipped')
    job.check(skipped is not None and skipped.get('message') == 'not reached', 'junit.xml: hv-plain not reached')


# --- The report --------------------------------------------------------------------------------
def report(hosts_dir: str) -> None:
    job = Job('report', 'report.yml', hosts_dir, {})
    check_runner_artifacts(job, 'successful', 0)
    stats = job.stats()
    job.check(
        stats['failures'] == {} and stats['dark'] == {} and not job.of('runner_on_failed'),
        'no host failed or was unreachable',
        stats,
    )
    check_stats_match_events(job)
    job.check(job.hosts('runner_on_ok', 'Gather UKSM/KSM facts') == sorted(HOSTS), 'runner_on_ok: facts of every host')
    job.check(
        job.hosts('runner_on_ok', 'Write the report as HTML, CSV and JSON') == ['localhost'],
        'runner_on_ok: the report written on the controller',
    )

    out = os.path.join(job.project, 'uksm-report')
    job.check(
        sorted(os.listdir(out)) == ['report.csv', 'report.html', 'report.json'],
        'report.html, report.csv and report.json are in project/uksm-report',
        os.listdir(out),
    )
    data = json.loads(read(os.path.join(out, 'report.json')))
    job.check(
        data['totals']['hosts'] == 4 and data['totals']['drifted'] == 0 and data['totals']['without_interface'] == 1,
        'report.json: 4 hosts, none drifted after the rollout, one without UKSM/KSM',
        data['totals'],
    )
    with open(os.path.join(out, 'report.csv'), encoding='utf-8', newline='') as handle:
        job.check(sorted(row['host'] for row in csv.DictReader(handle)) == sorted(HOSTS), 'report.csv: a row per host')
    page = read(os.path.join(out, 'report.html'))
    job.check(all(host in page for host in HOSTS), 'report.html names every host')
    job.check(
        job.artifacts == {'uksm_report_totals': data['totals']},
        "the job's artifact is report.json's totals",
        job.artifacts,
    )


def main() -> None:
    hosts_dir = sys.argv[1]
    rollout(hosts_dir)
    report(hosts_dir)
    expect_failure_rollout_with_a_refused_policy(hosts_dir)
    print('awx_jobs: 3 jobs checked (rollout, report, rollout expected to fail)')


if __name__ == '__main__':
    main()

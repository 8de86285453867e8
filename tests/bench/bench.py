# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the collection's modules, role, boot applier and pressure tuner (README, Performance); a benchmark,
not a test.

Sets up simulated UKSM and KSM hosts (tests/simhost) under a temporary directory, writes an inventory
(local connection, one sysroot per host, default forks) and runs one playbook per case against every
host, interleaved and repeated: ping, facts, facts_bare, setup, tunable, tunable_bare, shell, role, ping,
... Each run is timed as wall time; the report is the median per case and its ratio to the median of ping,
and for each target a 90 % bootstrap interval of that ratio: a target inside it is within the machine's noise.
facts and tunable run where the boot unit's installer left the applier's package, as on every host the
role converged and on the guest (a module runs the files of its payload that the package holds from the
package's bytecode); facts_bare and tunable_bare run the same tasks with that package moved aside, so
that every file they import is compiled. The boot-time
applier and one idle evaluation of the pressure tuner are timed against bare Python start-up on the
same machine, interleaved with it. With --guest the same cases run over SSH against the QEMU guest of
tests/vm (the applier too, not the tuner). Writes a JSON results file and prints a table.

The ``scale`` case (tests/bench/scale.py) runs the report playbook, the rollout's summary step and the
filters behind both at 100, 300 and 1,000 hosts that are plain directories, each against ping at the same size.

Usage: python tests/bench/bench.py [--hosts 50] [--runs 5] [--guest] [--output build/bench/results.json]
  [--cases ping,facts,...,scale] [--scale-sizes 100,300,1000] [--scale-runs N] [--scale-forks 2,10]
with ANSIBLE_COLLECTIONS_PATH naming the installed collection (the Makefile exports it).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import scale

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# where the boot unit's installer puts the applier's package, from the collection's own paths
sys.path.insert(0, os.path.join(ROOT, 'plugins'))
from module_utils._host.paths import LOCK_DIR, PACKAGE_DIR, WRITTEN_FILE  # noqa: E402  pylint: disable=wrong-import-position

SIMHOST_DIR = os.path.join(ROOT, 'tests', 'simhost')
VM_SH = os.path.join(ROOT, 'tests', 'vm', 'vm.sh')
UNIT_FILE = 'etc/systemd/system/uksm-policy.service'
PRESSURE_UNIT_FILE = 'etc/systemd/system/uksm-pressure.service'
ASIDE = '.bench-aside'
GUEST_NAME = 'bench-guest'
GUEST_PORT = 2252

# Six writable attributes per interface and two sets of values; every value differs between the sets
# and set 1 is the state a freshly created simulated host starts with, so the first run (set 0) and
# every run after it write all six.
UKSM_ATTRS = ['max_cpu_percentage', 'cpu_ratios', 'abundant_threshold', 'thrash_threshold', 'sleep_millisecs', 'run']
UKSM_VALUES = [
    {
        'max_cpu_percentage': 60,
        'cpu_ratios': '10 30 MAX/4 MAX/1',
        'abundant_threshold': 20,
        'thrash_threshold': 60,
        'sleep_millisecs': 200,
        'run': 0,
    },
    {
        'max_cpu_percentage': 95,
        'cpu_ratios': '20 40 MAX/4 MAX/1',
        'abundant_threshold': 10,
        'thrash_threshold': 50,
        'sleep_millisecs': 100,
        'run': 1,
    },
]
KSM_ATTRS = [
    'pages_to_scan',
    'sleep_millisecs',
    'use_zero_pages',
    'max_page_sharing',
    'stable_node_chains_prune_millisecs',
    'advisor_max_cpu',
]
KSM_VALUES = [
    {
        'pages_to_scan': 300,
        'sleep_millisecs': 50,
        'use_zero_pages': 1,
        'max_page_sharing': 512,
        'stable_node_chains_prune_millisecs': 3000,
        'advisor_max_cpu': 50,
    },
    {
        'pages_to_scan': 100,
        'sleep_millisecs': 20,
        'use_zero_pages': 0,
        'max_page_sharing': 256,
        'stable_node_chains_prune_millisecs': 2000,
        'advisor_max_cpu': 70,
    },
]
# A kernel without the advisor (the guest's Debian 6.1): merge_across_nodes instead of advisor_max_cpu.
GUEST_KSM_ATTRS = KSM_ATTRS[:5] + ['merge_across_nodes']
# The fleet policy of the role case (as in the integration tests): a preset and overrides.
ROLE_VARS = {
    'uksm_policy_preset': 'balanced',
    'uksm_policy_uksm_settings': {'sleep_millisecs': 200, 'abundant_threshold': 20},
    'uksm_policy_ksm_settings': {'pages_to_scan': 500},
}
# In the guest the role and the tunable case share one kernel: the role keeps KSM off, an attribute
# the tunable case does not touch, so its re-runs stay idempotent.
GUEST_ROLE_VARS = {'uksm_policy_preset': 'off'}
# The first converge's pressure tier (role_first.yml): one tier for either interface; availability
# stays above it, so the tuner's timer is installed and nothing under pressure is written.
FIRST_TIERS = [
    {
        'available_below_percent': 5,
        'uksm_settings': {'cpu_governor': 'full'},
        'ksm_settings': {'run': 1},
    }
]
# The tuner case: a UKSM host whose persisted policy has two pressure tiers (as in the component tests);
# the simulated host's MemAvailable (79 % of MemTotal) is above every threshold plus the hysteresis,
# so every evaluation is idle: the tier stays the base and the live values hold it.
TUNER_BASE = {'cpu_governor': 'quiet', 'run': 1}
TUNER_TIERS = [
    {'available_below_percent': 30, 'settings': {'cpu_governor': 'medium'}},
    {'available_below_percent': 10, 'settings': {'cpu_governor': 'full', 'max_cpu_percentage': 95}},
]

# case -> (playbook, reference case, target ratio, what the target says); ratios are case / reference.
ANSIBLE_CASES = ['ping', 'facts', 'facts_bare', 'setup', 'tunable', 'tunable_bare', 'shell', 'role', 'role_first']
# cases that run another case's playbook: the same task on a host without the boot applier's package
PLAYBOOKS = {'facts_bare': 'facts.yml', 'tunable_bare': 'tunable.yml'}
# cases that write the six attributes: each run writes the other set than the run before it
WRITING_CASES = ('tunable', 'tunable_bare', 'shell')
# the cases run with the applier's package moved aside (on simulated hosts and on the guest)
BARE_CASES = ('facts_bare', 'tunable_bare')
# untimed plays around a case: (before, after). The first converge starts from a host without the policy
# and leaves the role case's policy behind, so that the role's re-runs stay idempotent.
AROUND = {'role_first': ('role_absent.yml', 'role.yml')}
# cases timed against bare Python start-up rather than ping
STARTUP_CASES = ['applier', 'tuner']
# the fleet-scale cases, with hosts and a ping of their own (scale.py)
SCALE_CASES = ['scale']
# (case, reference, target on simulated hosts, target on the QEMU guest): the role's idempotent re-run is
# one module round trip (uksm_policy); on the guest a kernel answers in microseconds where the simulator
# takes a FUSE round trip, so the module's own reads weigh less there
TARGETS = [
    ('facts', 'ping', 1.10, 1.05),
    ('facts_bare', 'ping', None, None),
    ('setup', 'ping', None, None),
    ('tunable', 'ping', 1.15, 1.08),
    ('tunable_bare', 'ping', None, None),
    ('tunable', 'shell', 0.25, 0.25),
    ('role', 'ping', 1.5, 1.3),
    ('role_first', 'ping', None, 2.5),
    ('applier', 'python3 -c pass', 1.5, 1.3),
    ('applier', 'python3 -I -S -B -c pass', None, None),
    ('tuner', 'python3 -c pass', 1.3, None),
    ('tuner', 'python3 -I -S -B -c pass', None, None),
]


def log(message: str) -> None:
    print('bench: %s' % message, file=sys.stderr, flush=True)


def simhost(*args: str) -> None:
    env = dict(os.environ, PYTHONPATH=SIMHOST_DIR)
    subprocess.run([sys.executable, '-m', 'simhost'] + list(args), env=env, check=True, stdout=subprocess.DEVNULL)


def cleanup(directory: str) -> None:
    subprocess.run(
        [os.path.join(SIMHOST_DIR, 'cleanup.sh'), directory],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def host_vars(backend: str, sysroot: str, role_sysroot: str, attrs: list, values: list) -> dict:
    return {
        'bench_sysroot': sysroot,
        'bench_role_sysroot': role_sysroot,
        'bench_backend': backend,
        'bench_attrs': attrs,
        'bench_values': values,
    }


def make_hosts(work: str, count: int, ksm_every: int) -> dict:
    """Start the simulated hosts; every host has a live sysroot and one for the role case."""
    hosts = {}
    jobs = []
    for index in range(1, count + 1):
        name = 'hv%03d' % index
        backend = 'ksm' if ksm_every and index % ksm_every == 0 else 'uksm'
        live = os.path.join(work, 'hosts', name, 'live')
        role = os.path.join(work, 'hosts', name, 'role')
        attrs, values = (KSM_ATTRS, KSM_VALUES) if backend == 'ksm' else (UKSM_ATTRS, UKSM_VALUES)
        hosts[name] = host_vars(backend, live, role, attrs, values)
        jobs += [(live, backend), (role, backend)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: simhost('up', job[0], '--variant', job[1]), jobs))
    for host in hosts.values():
        for sysroot in (host['bench_sysroot'], host['bench_role_sysroot']):
            for sub in ('etc/systemd/system', 'usr/lib', 'run'):
                os.makedirs(os.path.join(sysroot, sub), exist_ok=True)
    return hosts


def write_inventory(path: str, hosts: dict, common: dict) -> None:
    # JSON is YAML: the yaml inventory plugin reads it
    inventory = {'all': {'vars': common, 'hosts': hosts}}
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(inventory, handle, indent=1)


class Runner:
    """Runs one playbook per case and keeps the wall time of every run."""

    def __init__(self, inventory: str, env: dict, move_applier=None) -> None:
        self.inventory = inventory
        self.env = env
        self.times = {}  # case -> [seconds]
        # move_applier(away): the boot applier's package out of the hosts (True) or back (False), for
        # the bare cases (rename_packages, guest_mover)
        self.move_applier = move_applier
        # the set of values the writing cases left on the hosts (1: a new simulated host's)
        self.written_set = 1

    def play(self, case: str, playbook: str, extra: dict = None, timed: bool = True) -> float:
        command = ['ansible-playbook', '-i', self.inventory, os.path.join(HERE, playbook)]
        if extra:
            command += ['-e', json.dumps(extra)]
        start = time.monotonic()
        result = subprocess.run(
            command,
            env=self.env,
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        elapsed = time.monotonic() - start
        if result.returncode != 0:
            raise RuntimeError('%s failed (exit %d):\n%s' % (playbook, result.returncode, result.stdout[-4000:]))
        if timed:
            self.times.setdefault(case, []).append(elapsed)
        return elapsed

    def rounds(self, runs: int, cases: list) -> None:
        for number in range(runs):
            for case in [case for case in cases if case in ANSIBLE_CASES]:
                extra = None
                if case in WRITING_CASES:
                    # the other set than the hosts hold: every run writes all six
                    self.written_set = 1 - self.written_set
                    extra = {'bench_set': self.written_set}
                before, after = AROUND.get(case, (None, None))
                if before:
                    self.play(case, before, timed=False)
                if case in BARE_CASES:
                    if self.move_applier is None:
                        raise RuntimeError('%s needs a way to move the applier aside' % case)
                    self.move_applier(away=True)
                try:
                    elapsed = self.play(case, PLAYBOOKS.get(case, case + '.yml'), extra)
                finally:
                    if case in BARE_CASES:
                        self.move_applier(away=False)
                if after:
                    self.play(case, after, timed=False)
                log('round %d/%d %-12s %7.2f s' % (number + 1, runs, case, elapsed))


def rename_packages(sysroots: list):
    """move_applier for simulated hosts: the package of each sysroot renamed aside and back."""

    def move(away: bool) -> None:
        for sysroot in sysroots:
            package = os.path.join(sysroot, PACKAGE_DIR)
            os.rename(*((package, package + ASIDE) if away else (package + ASIDE, package)))

    return move


def guest_mover(command: list):
    """move_applier for the guest: ``mv`` run by ``command`` (vm.sh ssh), whose / has the package."""

    def move(away: bool) -> None:
        package = '/' + PACKAGE_DIR
        moved = [package, package + ASIDE] if away else [package + ASIDE, package]
        subprocess.run(command + ['mv', '-T'] + moved, check=True, stdout=subprocess.DEVNULL)

    return move


def ansible_env(extra: dict = None) -> dict:
    env = dict(os.environ)
    env.update(
        {
            'ANSIBLE_HOST_KEY_CHECKING': 'false',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'ANSIBLE_NOCOLOR': '1',
        }
    )
    env.update(extra or {})
    return env


def time_commands(commands: dict, runs: int, before=None) -> dict:
    """Interleaved runs of each command (a name -> argv mapping); ``before(name)`` runs untimed first."""
    times = {name: [] for name in commands}
    for _round in range(runs):
        for name, argv in commands.items():
            if before:
                before(name)
            start = time.monotonic()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.monotonic() - start)
    return times


def exec_start(unit_text: str) -> list:
    """The command systemd runs for the unit, as an argv."""
    for line in unit_text.splitlines():
        if line.startswith('ExecStart='):
            return shlex.split(line.split('=', 1)[1])
    raise RuntimeError('the installed unit has no ExecStart=')


def installed_command(sysroot: str, unit_file: str) -> list:
    """The command the installed unit runs, with its launcher and ``--sysroot`` in the simulated sysroot."""
    with open(os.path.join(sysroot, unit_file), encoding='utf-8') as handle:
        argv = exec_start(handle.read())
    # the unit names the launcher as the host sees it; here the host is the simulated sysroot
    return argv[:-1] + [os.path.join(sysroot, argv[-1].lstrip('/')), '--sysroot', sysroot]


def reboot(sysroot: str) -> None:
    """A reboot of a simulated host: the kernel's defaults back, and the collection's files under /run (a
    tmpfs on a real host: the lock, the record of written values, the tier in force) gone."""
    simhost('reboot', sysroot)
    shutil.rmtree(os.path.join(sysroot, LOCK_DIR), ignore_errors=True)


def applier_case(sysroot: str) -> tuple:
    """The boot applier, run exactly as the installed unit runs it, applying the full policy after a
    simulated reboot: (argv, what runs untimed before each run)."""
    argv = installed_command(sysroot, UNIT_FILE)
    # one untimed run shows that the applier does apply the policy after a reboot
    reboot(sysroot)
    shown = subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    log('applier after a reboot:\n' + shown.rstrip())
    if not os.path.exists(os.path.join(sysroot, WRITTEN_FILE)):
        raise RuntimeError('the applier recorded no written value after a reboot: the bench policy should set one')
    return argv, lambda: reboot(sysroot)


def tuner_case(work: str) -> tuple:
    """One idle evaluation of the pressure tuner, run exactly as its installed unit runs it, on a
    simulated UKSM host of its own with a persisted policy that has pressure tiers, availability above
    every threshold: (argv, None)."""
    sysroot = os.path.join(work, 'hosts', 'tuner')
    simhost('up', sysroot, '--variant', 'uksm')
    for sub in ('etc/systemd/system', 'usr/lib', 'run'):
        os.makedirs(os.path.join(sysroot, sub), exist_ok=True)
    inventory = os.path.join(work, 'tuner-inventory.yml')
    host = {'bench_sysroot': sysroot, 'bench_base': TUNER_BASE, 'bench_tiers': TUNER_TIERS}
    write_inventory(
        inventory, {'tuner': host}, {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    )
    log('tuner: persisting a policy with pressure tiers and installing the tuner (untimed)')
    Runner(inventory, ansible_env()).play('tuner', 'tuner.yml', timed=False)
    argv = installed_command(sysroot, PRESSURE_UNIT_FILE)
    # one untimed run shows that an evaluation is idle: exit 0 and no output (the tuner says what it writes)
    shown = subprocess.run(argv, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if shown.returncode != 0 or shown.stdout.strip():
        raise RuntimeError('the tuner is not idle on its bench host (exit %d):\n%s' % (shown.returncode, shown.stdout))
    log('tuner: idle (no output, exit 0)')
    return argv, None


def startup_cases(args: argparse.Namespace, work: str, applier_sysroot: str) -> dict:
    """The installed launchers against bare Python start-up, interleaved in one set of runs so that
    every ratio is to the same ``python3 -c pass``."""
    commands, before = {}, {}
    if 'applier' in args.cases:
        commands['applier'], before['applier'] = applier_case(applier_sysroot)
    if 'tuner' in args.cases:
        commands['tuner'], before['tuner'] = tuner_case(work)
    argv = next(iter(commands.values()))
    python = argv[0]
    commands['python3 -c pass'] = [python, '-c', 'pass']
    # the units' interpreter flags (-I -S -B), without the launcher and --sysroot
    commands['python3 -I -S -B -c pass'] = [python] + argv[1:-3] + ['-c', 'pass']

    def run_before(name: str) -> None:
        if before.get(name):
            before[name]()

    return time_commands(commands, max(args.runs, 5) * 4, run_before)


def summarise(times: dict) -> dict:
    return {
        case: {'runs': [round(value, 4) for value in values], 'median': round(statistics.median(values), 4)}
        for case, values in times.items()
    }


def ratio_interval(runs: list, reference_runs: list, resamples: int = 2000) -> tuple:
    """A 90 % bootstrap interval of the ratio of medians: the rounds resampled with replacement (paired
    where both cases ran the same rounds, interleaved), seeded, so the same runs give the same interval.
    It says how much of a ratio is the machine's noise: on the QEMU guest one run of ping varies by
    a fifth from round to round."""
    draw = random.Random(0)
    paired = len(runs) == len(reference_runs)
    ratios = []
    for _resample in range(resamples):
        picks = [draw.randrange(len(runs)) for _round in runs]
        others = picks if paired else [draw.randrange(len(reference_runs)) for _round in reference_runs]
        ratios.append(statistics.median(runs[i] for i in picks) / statistics.median(reference_runs[i] for i in others))
    ratios.sort()
    return round(ratios[resamples // 20], 3), round(ratios[resamples - 1 - resamples // 20], 3)


def verdicts(cases: dict, guest: bool = False) -> list:
    """Each target's ratio of medians, met or not, and its 90 % interval: a target inside the interval
    is within the machine's noise, whichever side the ratio fell on."""
    rows = []
    for case, reference, simulated, on_guest in TARGETS:
        target = on_guest if guest else simulated
        if case not in cases or reference not in cases:
            continue
        ratio = cases[case]['median'] / cases[reference]['median']
        low, high = ratio_interval(cases[case]['runs'], cases[reference]['runs'])
        rows.append(
            {
                'case': case,
                'against': reference,
                'ratio': round(ratio, 3),
                'interval_90': [low, high],
                'target': target,
                'met': None if target is None else ratio <= target,
                'within_noise': None if target is None else low <= target <= high,
            }
        )
    return rows


def table(title: str, cases: dict, rows: list) -> str:
    lines = [title, '%-24s %9s %7s %-16s %s' % ('case', 'median s', 'ratio', 'to', 'runs (s)')]
    for case, data in cases.items():
        reference = 'python3 -c pass' if case in STARTUP_CASES or case.startswith('python3') else 'ping'
        ratio = data['median'] / cases[reference]['median'] if reference in cases else float('nan')
        runs = ' '.join('%.3f' % value for value in data['runs'])
        lines.append('%-24s %9.3f %7.2f %-16s %s' % (case, data['median'], ratio, reference, runs))
    lines.append('')
    lines.append('%-12s %-24s %8s %13s %8s  %s' % ('target', 'against', 'ratio', '90% interval', 'target', 'met?'))
    for row in rows:
        target = '-' if row['target'] is None else '<= %.2f' % row['target']
        met = '-' if row['met'] is None else ('yes' if row['met'] else 'NO')
        if row['within_noise']:
            met += ', within noise'
        interval = '%.2f-%.2f' % tuple(row['interval_90'])
        lines.append(
            '%-12s %-24s %8.2f %13s %8s  %s' % (row['case'], row['against'], row['ratio'], interval, target, met)
        )
    return '\n'.join(lines)


def local_bench(args: argparse.Namespace, work: str) -> dict:
    log('starting %d simulated hosts (x2 sysroots) under %s' % (args.hosts, work))
    start = time.monotonic()
    hosts = make_hosts(work, args.hosts, args.ksm_every)
    log('hosts up in %.1f s' % (time.monotonic() - start))
    common = dict(
        ROLE_VARS, bench_first_tiers=FIRST_TIERS, ansible_connection='local', ansible_python_interpreter=sys.executable
    )
    inventory = os.path.join(work, 'inventory.yml')
    write_inventory(inventory, hosts, common)
    runner = Runner(inventory, ansible_env(), rename_packages([host['bench_sysroot'] for host in hosts.values()]))
    log('preparing: the role once on every host, the boot unit on the sysroots of facts and tunable (untimed)')
    runner.play('role', 'role.yml', timed=False)
    # facts and tunable run where the boot applier is installed, as on every host the role converged (and
    # on the guest); their _bare cases run the same with its package moved aside
    runner.play('boot_unit', 'boot_unit.yml', timed=False)
    runner.rounds(args.runs, args.cases)
    first = sorted(hosts)[0]
    times = dict(runner.times)
    if set(STARTUP_CASES) & set(args.cases):
        times.update(startup_cases(args, work, hosts[first]['bench_role_sysroot']))
    return {
        'hosts': args.hosts,
        'ksm_hosts': sum(1 for h in hosts.values() if h['bench_backend'] == 'ksm'),
        'cases': summarise(times),
    }


def guest_bench(args: argparse.Namespace, work: str) -> dict:
    """The same cases over SSH against the QEMU guest; the guest is stopped afterwards."""
    log('starting the QEMU guest %s on port %d' % (GUEST_NAME, args.guest_port))
    started = subprocess.run(
        [VM_SH, 'start', GUEST_NAME, str(args.guest_port)],
        check=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        if started.returncode != 0:
            return {'skipped': 'QEMU guest did not start: %s' % started.stdout.strip()[-300:]}
        waited = subprocess.run(
            [VM_SH, 'wait', GUEST_NAME, str(args.guest_port), '300'],
            check=False,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        if waited.returncode != 0:
            return {'skipped': 'QEMU guest did not answer SSH: %s' % waited.stdout.strip()[-300:]}
        key = subprocess.run([VM_SH, 'key'], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
        values = [{attr: KSM_VALUES[n].get(attr, 0) for attr in GUEST_KSM_ATTRS} for n in (0, 1)]
        values[0]['merge_across_nodes'] = 0
        values[1]['merge_across_nodes'] = 1
        common = dict(
            GUEST_ROLE_VARS,
            bench_first_tiers=FIRST_TIERS,
            ansible_host='127.0.0.1',
            ansible_port=args.guest_port,
            ansible_user='root',
            ansible_ssh_private_key_file=key,
            ansible_python_interpreter='/usr/bin/python3',
            ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
        )
        hosts = {GUEST_NAME: host_vars('ksm', '/', '/', GUEST_KSM_ATTRS, values)}
        inventory = os.path.join(work, 'guest.yml')
        write_inventory(inventory, hosts, common)
        runner = Runner(inventory, ansible_env(), guest_mover([VM_SH, 'ssh', GUEST_NAME, str(args.guest_port)]))
        log('guest up; preparing: the role once and the tunable values of set 1 (untimed)')
        runner.play('role', 'role.yml', timed=False)
        # start from set 1 so that the first timed run (set 0) writes all six
        runner.play('tunable', 'tunable.yml', {'bench_set': 1}, timed=False)
        runner.rounds(args.runs, args.cases)
        times = dict(runner.times)
        if 'applier' in args.cases:
            log('timing the applier inside the guest')
            times.update(guest_applier(args))
        return {'hosts': 1, 'cases': summarise(times)}
    finally:
        subprocess.run([VM_SH, 'stop', GUEST_NAME], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


GUEST_TIMER = r'''
import json, shlex, subprocess, sys, time
runs = int(sys.argv[1])
with open('/etc/systemd/system/uksm-policy.service') as handle:
    argv = [shlex.split(line.split('=', 1)[1]) for line in handle if line.startswith('ExecStart=')][0]
commands = {
    'applier': argv,
    'python3 -c pass': [argv[0], '-c', 'pass'],
    'python3 -I -S -B -c pass': argv[:-1] + ['-c', 'pass'],
}
times = {name: [] for name in commands}
for _ in range(runs):
    for name, argv in commands.items():
        if name == 'applier':
            # drift: KSM on, which the policy (preset off) turns off again
            with open('/sys/kernel/mm/ksm/run', 'w') as handle:
                handle.write('1\n')
        start = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times[name].append(time.monotonic() - start)
print(json.dumps(times))
'''


def guest_applier(args: argparse.Namespace) -> dict:
    """Times the applier inside the guest (wall time on the guest's clock, without SSH)."""
    result = subprocess.run(
        [VM_SH, 'ssh', GUEST_NAME, str(args.guest_port), 'python3', '-', str(max(args.runs, 5) * 4)],
        input=GUEST_TIMER,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_results(path: str, results: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1)
        handle.write('\n')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=50, help='simulated hosts (default 50; 0: none)')
    parser.add_argument('--runs', type=int, default=5, help='runs of each case (default 5)')
    parser.add_argument('--ksm-every', type=int, default=5, help='every Nth simulated host is KSM (default 5; 0: none)')
    parser.add_argument('--guest', action='store_true', help='also run the cases over SSH against the QEMU guest')
    parser.add_argument('--guest-port', type=int, default=GUEST_PORT, help='SSH port of the guest (2250-2259)')
    parser.add_argument(
        '--cases',
        default=','.join(ANSIBLE_CASES + STARTUP_CASES + SCALE_CASES),
        help='comma-separated cases to run, for profiling (default: all; ping is always run)',
    )
    parser.add_argument(
        '--scale-sizes',
        default=','.join(str(size) for size in scale.SIZES),
        help='fleet sizes of the scale case (default 100,300,1000)',
    )
    parser.add_argument('--scale-runs', type=int, help='runs of each scale case (default: --runs, at most 3)')
    parser.add_argument(
        '--scale-forks', default='', help='forks values to time the report with at the largest size (default: none)'
    )
    parser.add_argument('--output', default=os.path.join(ROOT, 'build', 'bench', 'results.json'))
    args = parser.parse_args()
    args.cases = ['ping'] + [case for case in args.cases.split(',') if case and case != 'ping']
    unknown = set(args.cases) - set(ANSIBLE_CASES + STARTUP_CASES + SCALE_CASES)
    if unknown:
        parser.error('unknown case(s): %s' % ', '.join(sorted(unknown)))
    collections = os.environ.get('ANSIBLE_COLLECTIONS_PATH', '')
    if not any(
        os.path.isdir(os.path.join(path, 'ansible_collections', 'litevirt', 'uksm'))
        for path in collections.split(':')
        if path
    ):
        log('ANSIBLE_COLLECTIONS_PATH does not hold litevirt.uksm; run `make bench` (or `make build` first)')
        return 2
    if shutil.which('ansible-playbook') is None:
        log('ansible-playbook not found on PATH')
        return 2

    results = {
        'date': datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds'),
        'machine': {
            'cpus': os.cpu_count(),
            'python': platform.python_version(),
            'platform': platform.platform(),
            'loadavg_before': os.getloadavg(),
        },
        'settings': {
            'hosts': args.hosts,
            'runs': args.runs,
            'ksm_every': args.ksm_every,
            'forks': 'default',
            'connection': 'local',
        },
    }
    report = []
    # the scale case alone needs none of the simulated hosts: it brings its own, and its own ping
    # --hosts 0: none (the guest or the scale case alone)
    if args.hosts and (set(args.cases) - set(SCALE_CASES) != {'ping'} or not set(args.cases) & set(SCALE_CASES)):
        work = tempfile.mkdtemp(prefix='uksm-bench-')
        try:
            local = local_bench(args, work)
        finally:
            cleanup(work)
            shutil.rmtree(work, ignore_errors=True)
        local['targets'] = verdicts(local['cases'])
        results['local'] = local
        report.append(
            table(
                'Simulated hosts: %d (%d KSM), local connection, %d runs'
                % (local['hosts'], local['ksm_hosts'], args.runs),
                local['cases'],
                local['targets'],
            )
        )
        # the simulated hosts' figures are kept even if a later part is interrupted
        write_results(args.output, results)
        print(report[-1] + '\n', flush=True)
    results['guest'] = {'skipped': 'not requested (--guest, BENCH_GUEST=1)'}
    if 'scale' in args.cases:
        runs = args.scale_runs or min(args.runs, 3)
        sizes = [int(size) for size in args.scale_sizes.split(',') if size]
        forks = [int(value) for value in args.scale_forks.split(',') if value]
        results['settings'].update(scale_sizes=sizes, scale_runs=runs, scale_forks=forks)
        work = tempfile.mkdtemp(prefix='uksm-bench-scale-')
        try:
            results['scale'] = scale.scale_bench(ansible_env(), work, sizes, runs, forks)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results['scale']['loadavg_after'] = os.getloadavg()
        report.append(scale.table(results['scale'], runs))
        write_results(args.output, results)
        print(report[-1] + '\n', flush=True)

    if args.guest:
        work = tempfile.mkdtemp(prefix='uksm-bench-guest-')
        try:
            guest = guest_bench(args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if 'cases' in guest:
            guest['targets'] = verdicts(guest['cases'], guest=True)
            report.append(table('QEMU guest over SSH, %d runs' % args.runs, guest['cases'], guest['targets']))
        else:
            report.append('QEMU guest: skipped (%s)' % guest['skipped'])
        results['guest'] = guest
        write_results(args.output, results)
    else:
        report.append('QEMU guest: skipped (not requested; --guest or make bench BENCH_GUEST=1)')
    print(report[-1])
    print('\nresults: %s' % args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())

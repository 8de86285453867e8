# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet-scale cases of the benchmark (tests/bench/bench.py, case ``scale``): the report playbook, the
rollout's summary step and the filters behind both, at 100, 300 and 1,000 hosts.

A host here is a plain directory tree (tests/helpers/sysroot_tree.py), not a FUSE mount: uksm_facts only
reads, so regular files serve, and a thousand of them are made in seconds. Each host gets its own figures
from a random generator seeded by its index (memory saved over four decades, CPU time of its thread,
memory available), every fifth host is KSM, every tenth has a persisted policy its live values drifted
from, every 25th has no sharing thread and every 40th no UKSM/KSM interface; a size gives the same fleet in
every run.

At each size, interleaved and repeated: ``ping`` (the floor: one module round trip per host), ``report``
(the litevirt.uksm.report playbook as users run it) and ``rollout-summary`` (rollout_summary.yml: each host
records a result, then the rollout's summary step runs once over every host, as after each batch). The
callback in callback_plugins/ times each task, which splits the report into the facts gathered on the hosts
(``report gather``, what forks spread) and what the controller then does alone (``report write``: hostvars,
the filters, three files), and gives the summary step of the rollout its own figure (``summary step``).
``filters`` times the filters themselves in this process, over the facts of the same hosts (uksm_facts'
own gather()): fleet_summary, fleet_csv and fleet_html, then rollout_summary and rollout_junit over a
rollout of those hosts in batches of 25 %. When Chromium is installed, the report of each size is opened in
it (tests/integration/targets/report/browse_report.py): load, sort and filter times. With --scale-forks the
report is also timed at the largest size with each of those forks values.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'helpers'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration', 'targets', 'report'))

import browse_report  # tests/integration/targets/report, put on the path above
import sysroot_tree  # tests/helpers, put on the path above

SIZES = [100, 300, 1000]
PLAYBOOK_CASES = ('ping', 'report', 'rollout-summary')
CLOCK = os.sysconf('SC_CLK_TCK')
DRIFTED_POLICY = {'uksm': '[uksm]\nsleep_millisecs = 200\n', 'ksm': '[ksm]\npages_to_scan = 500\n'}
POLICY_HEADER = '# Managed by the litevirt.uksm Ansible collection (uksm_tunable persist, policy role).\n\n'
# the parts of a playbook's run, by the tasks the callback timed: (case, part) -> (play, task) names; None: all
PARTS = {
    ('report', 'report gather'): ('Gather UKSM/KSM facts from the fleet', None),
    ('report', 'report write'): ('Write the fleet report', None),
    ('rollout-summary', 'summary step'): (None, 'Write the summary of every host, as after a batch of the rollout'),
}


def log(message: str) -> None:
    print('bench: %s' % message, file=sys.stderr, flush=True)


def plain_host(root: str, index: int) -> None:
    """One host's sysroot of regular files, its figures drawn from a generator seeded by ``index``."""
    draw = random.Random(index)
    os.makedirs(root, exist_ok=True)
    sysroot_tree.meminfo(root, zero_kib=0, available_percent=round(draw.uniform(5, 90), 1))
    if index % 40 == 0:
        return  # no UKSM/KSM interface
    backend = 'ksm' if index % 5 == 0 else 'uksm'
    sharing = int(10 ** draw.uniform(3, 7))  # 4 MiB to 40 GiB saved
    counters = {'pages_sharing': sharing, 'pages_shared': max(1, sharing // draw.randint(2, 60)), 'run': 1}
    if backend == 'ksm':
        sysroot_tree.ksm(root, **counters)
    else:
        sysroot_tree.uksm(root, **counters)
    if index % 25:
        thread, pid = ('ksmd' if backend == 'ksm' else 'uksmd'), 40 + index % 7
        sysroot_tree.process(root, pid, thread)
        uptime = draw.uniform(3600, 90 * 86400)
        # the thread's share of one CPU since boot: 0.001 % to 5 %
        ticks = max(1, int(uptime * 10 ** draw.uniform(-5, -1.3) * CLOCK))
        sysroot_tree.thread_cpu(root, pid, thread, ticks // 3, ticks - ticks // 3, 100, '%.2f 1.00' % uptime)
    if index % 10 == 3:
        sysroot_tree.put(root, 'etc/litevirt-uksm/policy.conf', POLICY_HEADER + DRIFTED_POLICY[backend])


def make_plain_hosts(work: str, count: int) -> dict:
    """``count`` plain-directory hosts under ``work``: inventory name -> host variables."""
    hosts = {}
    for index in range(1, count + 1):
        name = 'hv%04d' % index
        root = os.path.join(work, name)
        plain_host(root, index)
        hosts[name] = {'uksm_sysroot': root}
    return hosts


def write_inventory(path: str, hosts: dict) -> None:
    # JSON is YAML: the yaml inventory plugin reads it
    common = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump({'all': {'vars': common, 'hosts': hosts}}, handle, indent=1)


def timed_env(env: dict, times_file: str) -> dict:
    """The environment of a run whose task times the callback writes to ``times_file``."""
    return dict(
        env,
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, 'callback_plugins'),
        ANSIBLE_CALLBACKS_ENABLED='bench_task_times',
        BENCH_TASK_TIMES=times_file,
    )


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def play(env: dict, inventory: str, playbook: str, extra: dict, forks: int = 0) -> tuple:
    """(wall seconds, [[play, task, seconds], ...], CPU seconds of every process of the run) of one
    ansible-playbook run; a failed run stops the benchmark with its output."""
    times_file = os.path.join(os.path.dirname(inventory), 'task-times.json')
    command = ['ansible-playbook', '-i', inventory, playbook, '-e', json.dumps(extra)]
    if forks:
        command += ['--forks', str(forks)]
    cpu = cpu_of_children()
    start = time.monotonic()
    result = subprocess.run(
        command,
        env=timed_env(env, times_file),
        check=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    elapsed = time.monotonic() - start
    cpu = cpu_of_children() - cpu
    if result.returncode != 0:
        raise RuntimeError('%s failed (exit %d):\n%s' % (playbook, result.returncode, result.stdout[-4000:]))
    with open(times_file, encoding='utf-8') as handle:
        return elapsed, json.load(handle), cpu


# An interpreter for the managed hosts that runs the module with the real one and adds the CPU time it took
# (its own start-up included) to a file: what the controller spends is then the run's CPU time less that.
TIMED_PYTHON = """#!%(python)s -I
import resource, subprocess, sys
done = subprocess.run([%(python)r] + sys.argv[1:])
used = sum(getattr(resource.getrusage(who), kind) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
           for kind in ('ru_utime', 'ru_stime'))
with open(%(log)r, 'a') as log:
    log.write('%%.6f\\n' %% used)
sys.exit(done.returncode)
"""


def controller_share(env: dict, size: dict) -> dict:
    """One report run at this size whose modules count their own CPU time: the CPU seconds of the whole run,
    of the modules (as the hosts would spend them), and of the controller (the rest), per host in ms."""
    place = os.path.dirname(size['place']['inventory'])
    modules_log, python = os.path.join(place, 'module-cpu.log'), os.path.join(place, 'timed-python')
    with open(python, 'w', encoding='utf-8') as handle:
        handle.write(TIMED_PYTHON % {'python': sys.executable, 'log': modules_log})
    os.chmod(python, 0o755)
    extra = {'report_dir': size['place']['report_dir'], 'ansible_python_interpreter': python}
    elapsed, _tasks, cpu = play(env, size['place']['inventory'], 'litevirt.uksm.report', extra)
    with open(modules_log, encoding='utf-8') as handle:
        modules = [float(line) for line in handle]
    count = size['hosts']
    log(
        'scale %5d hosts, report with timed modules %8.2f s: %d module runs, %.1f of %.1f CPU seconds'
        % (count, elapsed, len(modules), sum(modules), cpu)
    )
    return {
        'module_runs': len(modules),
        'cpu_s': round(cpu, 2),
        'modules_cpu_s': round(sum(modules), 2),
        'controller_cpu_s': round(cpu - sum(modules), 2),
        'controller_cpu_ms_per_host': round(1000 * (cpu - sum(modules)) / count, 1),
        'modules_cpu_ms_per_host': round(1000 * sum(modules) / count, 1),
    }


def parts_of(case: str, tasks: list) -> dict:
    """Seconds of each part of a case's run, from its task times."""
    found = {}
    for (owner, part), (play_name, task_name) in PARTS.items():
        if owner == case:
            found[part] = sum(
                seconds
                for played, task, seconds in tasks
                if (play_name is None or played == play_name) and (task_name is None or task == task_name)
            )
    return found


def collection_module(name: str):
    """A module of the installed collection (the one ANSIBLE_COLLECTIONS_PATH names), imported here."""
    for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(':'):
        if (
            path
            and os.path.isdir(os.path.join(path, 'ansible_collections', 'litevirt', 'uksm'))
            and path not in sys.path
        ):
            sys.path.insert(0, path)
    return importlib.import_module('ansible_collections.litevirt.uksm.plugins.' + name)


def rollout_hostvars(names: list, facts: dict) -> dict:
    """What the rollout leaves in hostvars for these hosts, every host reached, in batches of 25 %."""
    batch = max(1, len(names) // 4)
    variables = {}
    for position, name in enumerate(names):
        fact = facts[name]
        preflight = {'available': fact['available'], 'backend': fact['backend'], 'drift': fact['policy']['drift']}
        status = 'skipped' if not fact['available'] else 'changed' if fact['policy']['drift'] else 'ok'
        first = names[position - position % batch]
        result = {'status': status, 'changes': [], 'tier': None, 'batch': first, 'reason': ''}
        variables[name] = {'rollout_preflight': preflight, 'rollout_result': result}
    return variables


def time_filters(hosts: dict, runs: int) -> dict:
    """Seconds per filter (median of at least 5 runs) over the facts gather() reads from these hosts."""
    gather = collection_module('module_utils.facts').gather
    fleet = collection_module('plugin_utils.fleet')
    fleet_html = collection_module('plugin_utils.fleet_html')
    rollout = collection_module('plugin_utils.rollout')
    facts = {name: gather(variables['uksm_sysroot']) for name, variables in hosts.items()}
    names = sorted(facts)
    variables = rollout_hostvars(names, facts)
    summary = fleet.summarize(facts)
    rolled = rollout.summarize(variables, names, False)
    steps = {
        'fleet_summary': lambda: fleet.summarize(facts),
        'fleet_csv': lambda: fleet.to_csv(summary),
        'fleet_html': lambda: fleet_html.to_html(summary),
        'rollout_summary': lambda: rollout.summarize(variables, names, False),
        'rollout_junit': lambda: rollout.junit(rolled),
    }
    times: dict = {step: [] for step in steps}
    for _round in range(max(runs, 5)):
        for step, call in steps.items():
            start = time.perf_counter()
            call()
            times[step].append(time.perf_counter() - start)
    medians = {step: statistics.median(values) for step, values in times.items()}
    medians['total'] = sum(medians.values())
    return medians


def render(report_dir: str, work: str, runs: int) -> dict:
    """Chromium's figures for a report (medians): load, sort and filter times in ms, and its wall time."""
    if shutil.which('chromium') is None:
        return {'skipped': 'chromium is not installed'}
    figures: dict = {}
    for _round in range(runs):
        result = browse_report.browse(os.path.join(report_dir, 'report.html'), os.path.join(work, 'chromium'))
        if result.get('error') or not result.get('tools_shown'):
            raise RuntimeError('the report did not work in Chromium: %s' % result.get('error'))
        for key in ('loaded_ms', 'layout_ms', 'sort_ms', 'filter_ms', 'chromium_wall_s'):
            figures.setdefault(key, []).append(result[key])
    return {key: round(statistics.median(values), 1) for key, values in figures.items()}


def summarise(values: list, count: int, ping: float) -> dict:
    median = statistics.median(values)
    return {
        'runs': [round(value, 3) for value in values],
        'median': round(median, 3),
        'per_host_ms': round(1000 * median / count, 3),
        'ratio_to_ping': round(median / ping, 4),
    }


def scale_size(env: dict, work: str, count: int, runs: int) -> dict:
    """Every scale case at one fleet size: medians, per-host cost, ratios to ping, page size, render."""
    start = time.monotonic()
    place = os.path.join(work, 'size-%d' % count)
    hosts = make_plain_hosts(os.path.join(place, 'hosts'), count)
    inventory = os.path.join(place, 'inventory.yml')
    write_inventory(inventory, hosts)
    log('scale: %d plain-directory hosts in %.1f s' % (count, time.monotonic() - start))
    report_dir = os.path.join(place, 'report')
    playbooks = {
        'ping': (os.path.join(HERE, 'ping.yml'), {}),
        'report': ('litevirt.uksm.report', {'report_dir': report_dir}),
        'rollout-summary': (os.path.join(HERE, 'rollout_summary.yml'), {'bench_summary_dir': place + '/rollout'}),
    }
    times: dict = {}
    cpu_times: dict = {}
    for number in range(runs):
        for case in PLAYBOOK_CASES:
            playbook, extra = playbooks[case]
            elapsed, tasks, cpu = play(env, inventory, playbook, extra)
            times.setdefault(case, []).append(elapsed)
            cpu_times.setdefault(case, []).append(cpu)
            for part, seconds in parts_of(case, tasks).items():
                times.setdefault(part, []).append(seconds)
            log('scale %5d hosts, round %d/%d %-16s %8.2f s' % (count, number + 1, runs, case, elapsed))
    with open(os.path.join(report_dir, 'report.json'), encoding='utf-8') as handle:
        covered = json.load(handle)['totals']['hosts']
    if covered != count:
        raise RuntimeError('the report of %d hosts covers %d' % (count, covered))
    ping = statistics.median(times['ping'])
    cases = {case: summarise(values, count, ping) for case, values in times.items()}
    for case, values in cpu_times.items():
        cases[case]['cpu_ms_per_host'] = round(1000 * statistics.median(values) / count, 1)
    filters = time_filters(hosts, runs)
    cases['filters'] = summarise([filters['total']], count, ping)
    cases['filters']['steps_ms'] = {step: round(1000 * seconds, 2) for step, seconds in filters.items()}
    files = {
        name: os.path.getsize(os.path.join(report_dir, name)) for name in ('report.html', 'report.csv', 'report.json')
    }
    return {
        'hosts': count,
        'cases': cases,
        'files_bytes': files,
        'chromium': render(report_dir, place, runs),
        'place': {'inventory': inventory, 'report_dir': report_dir},
    }


def forks_cases(env: dict, size: dict, forks: list, runs: int) -> dict:
    """The report at one size with the default forks and each of ``forks``, interleaved: medians, the gather
    and write parts, and ratios to ping at default forks."""
    times: dict = {}
    for number in range(runs):
        for value in [0] + forks:
            extra = {'report_dir': size['place']['report_dir']}
            elapsed, tasks, _cpu = play(env, size['place']['inventory'], 'litevirt.uksm.report', extra, value)
            name = str(value) if value else 'default'
            times.setdefault(name, {}).setdefault('report', []).append(elapsed)
            for part, seconds in parts_of('report', tasks).items():
                times[name].setdefault(part, []).append(seconds)
            log(
                'scale %5d hosts, forks %7s, round %d/%d report %8.2f s'
                % (size['hosts'], name, number + 1, runs, elapsed)
            )
    ping = size['cases']['ping']['median']
    return {
        name: {case: summarise(values, size['hosts'], ping) for case, values in parts.items()}
        for name, parts in times.items()
    }


def scale_bench(env: dict, work: str, sizes: list, runs: int, forks: list) -> dict:
    results: dict = {'sizes': [scale_size(env, work, count, runs) for count in sizes]}
    results['controller'] = dict(controller_share(env, results['sizes'][-1]), hosts=sizes[-1])
    if forks:
        results['forks'] = {'hosts': sizes[-1], 'report': forks_cases(env, results['sizes'][-1], forks, runs)}
    for size in results['sizes']:
        del size['place']
    # linear: the cost per host at the largest size over that at the smallest (1.0: linear)
    first, last = results['sizes'][0]['cases'], results['sizes'][-1]['cases']
    results['per_host_growth'] = {
        case: round(last[case]['per_host_ms'] / first[case]['per_host_ms'], 3) for case in first if case in last
    }
    return results


def table(results: dict, runs: int) -> str:
    lines = [
        'Fleet scale: plain-directory hosts, local connection, default forks, %d runs (medians)' % runs,
        '%6s %-16s %10s %12s %9s %12s' % ('hosts', 'case', 'median s', 'ms per host', 'to ping', 'CPU ms/host'),
    ]
    for size in results['sizes']:
        for case, data in size['cases'].items():
            cpu = data.get('cpu_ms_per_host')
            lines.append(
                '%6d %-16s %10.3f %12.3f %9.3f %12s'
                % (
                    size['hosts'],
                    case,
                    data['median'],
                    data['per_host_ms'],
                    data['ratio_to_ping'],
                    '-' if cpu is None else '%.1f' % cpu,
                )
            )
    lines.append('')
    lines.append('%6s %-40s %s' % ('hosts', 'filters in process, ms', 'report files, KiB; in Chromium, ms'))
    for size in results['sizes']:
        steps = size['cases']['filters']['steps_ms']
        files = ' '.join('%s %.0f' % (name.split('.')[1], count / 1024) for name, count in size['files_bytes'].items())
        shown = size['chromium']
        browser = (
            'load %.0f, sort %.0f, filter %.0f' % (shown['loaded_ms'], shown['sort_ms'], shown['filter_ms'])
            if 'loaded_ms' in shown
            else shown.get('skipped', '')
        )
        lines.append(
            '%6d %-40s %s; %s' % (size['hosts'], ' '.join('%s %.1f' % item for item in steps.items()), files, browser)
        )
    first, last = results['sizes'][0]['hosts'], results['sizes'][-1]['hosts']
    lines.append(
        'cost per host at %d hosts over that at %d (1.00: linear): %s'
        % (last, first, ', '.join('%s %.2f' % item for item in results['per_host_growth'].items()))
    )
    share = results['controller']
    lines.append(
        'report of %d hosts, CPU per host: %.1f ms in the modules (the hosts\' part over SSH), %.1f ms on the '
        'controller' % (share['hosts'], share['modules_cpu_ms_per_host'], share['controller_cpu_ms_per_host'])
    )
    for value, parts in results.get('forks', {}).get('report', {}).items():
        lines.append(
            'report of %d hosts at forks %7s: %8.3f s (gather %.3f, write %.3f), %.2f to ping at default forks'
            % (
                results['forks']['hosts'],
                value,
                parts['report']['median'],
                parts['report gather']['median'],
                parts['report write']['median'],
                parts['report']['ratio_to_ping'],
            )
        )
    return '\n'.join(lines)

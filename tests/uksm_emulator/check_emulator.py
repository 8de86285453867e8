# -*- coding: utf-8 -*-
# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the uksm_emu kernel module against the UKSM contract (shared/spec/kernel-abi.md, section 2).

Run INSIDE a test guest, as root, with uksm_emu freshly loaded (or restored to its defaults, which
this script does at its end):

    python3 check_emulator.py [--ko /path/uksm_emu.ko] [--list] [--verbose]

Every write is one os.write() on an O_WRONLY descriptor, newline-terminated unless the case is
about the newline. One line is printed per check (PASS, FAIL or SKIP) and a summary last; the exit
status is 0 only if no check failed. With --ko the script also unloads and reloads the module
(insmod/rmmod), which the module-lifecycle and hazard_ratio_kill checks need; without it those are
skipped. --list prints the check names and what each one covers, and touches nothing.

Standard library only, Python 3.8 or later. NEVER run it against a real UKSM kernel: it writes
eval_intervals hundreds of times and cpu_ratios with exact kmalloc-size byte counts, which corrupt
a real UKSM kernel's memory (that is what it checks the emulator does not do).
"""

import argparse
import errno
import glob
import os
import re
import subprocess
import sys
import threading
import time

BASE = '/sys/kernel/mm/uksm'
MODULE = 'uksm_emu'
PARAM = '/sys/module/%s/parameters/hazard_ratio_kill' % MODULE

WRITABLE = (
    'run',
    'sleep_millisecs',
    'cpu_governor',
    'max_cpu_percentage',
    'cpu_ratios',
    'eval_intervals',
    'abundant_threshold',
    'thrash_threshold',
)
READ_ONLY = (
    'pages_shared',
    'pages_sharing',
    'pages_unshared',
    'full_scans',
    'pages_scanned',
    'ema_per_page_time',
    'hash_strength',
    'sleep_times',
)
KSM_ONLY = (
    'pages_to_scan',
    'pages_volatile',
    'merge_across_nodes',
    'use_zero_pages',
    'ksm_zero_pages',
    'max_page_sharing',
    'stable_node_chains',
    'stable_node_dups',
    'stable_node_chains_prune_millisecs',
    'general_profit',
    'smart_scan',
)

DEFAULTS = {
    'run': '1\n',
    'sleep_millisecs': '100\n',
    'cpu_governor': '[full] medium low quiet \n',
    'max_cpu_percentage': '95\n',
    'cpu_ratios': '20 40 MAX/4 MAX/1 \n',
    'eval_intervals': '1000 500 200 50 \n',
    'abundant_threshold': '10\n',
    'thrash_threshold': '50\n',
}

GOVERNORS = ('full', 'medium', 'low', 'quiet')
PRESETS = {  # governor: (cpu_ratios, eval_intervals, max_cpu_percentage) as read back
    'full': ('20 40 MAX/4 MAX/1 \n', '1000 500 200 50 \n', '95\n'),
    'medium': ('20 30 MAX/4 MAX/1 \n', '1000 500 400 100 \n', '50\n'),
    'low': ('10 20 MAX/2 MAX/1 \n', '1500 1000 1000 250 \n', '20\n'),
    'quiet': ('10 20 40 75 \n', '2000 1000 1000 1000 \n', '1\n'),
}

# Integer attributes: (maximum accepted value); all accept 0.
INTEGER_MAX = {
    'run': 1,
    'sleep_millisecs': 1000,
    'max_cpu_percentage': 100,
    'abundant_threshold': 99,
    'thrash_threshold': 99,
}

STAT_FORMATS = {
    'pages_shared': r'\d+',
    'pages_sharing': r'\d+',
    'pages_unshared': r'\d+',
    'full_scans': r'\d+',
    'pages_scanned': r'(\d+)(?: \* 2\^(\d+))?',
    'ema_per_page_time': r'\d+',
    'hash_strength': r'\d+',
    'sleep_times': r'\d+',
}

# Malformed kstrtoul input: EINVAL for every integer attribute (1 is a valid value for all of them).
KSTRTOUL_BAD = (
    b'-1\n',
    b'-0\n',
    b' 1\n',
    b'1 \n',
    b'1 ',
    b'1\t\n',
    b'\t1\n',
    b'\n',
    b'x\n',
    b'1x\n',
    b'0x1\n',
    b'1.0\n',
    b'1\n\n',
    b'\n1\n',
    b'++1\n',
    b'+-1\n',
    b'+\n',
    b'1,\n',
    b'1\r\n',
    b'99999999999999999999999\n',
)

# Bad cpu_ratios writes (all EINVAL), named after what is wrong with them.
RATIOS_BAD = (
    ('3 tokens', b'20 40 MAX/4\n'),
    ('5 tokens', b'20 40 MAX/4 MAX/1 5\n'),
    ('doubled separator', b'20  40 MAX/4 MAX/1\n'),
    ('missing separator before MAX', b'20 40MAX/4 MAX/1\n'),
    ('missing separator between MAX tokens', b'20 40 MAX/4MAX/1\n'),
    ('leading space (empty first token)', b' 20 40 MAX/4 MAX/1\n'),
    ('empty token in the middle', b'20 40  MAX/1\n'),
    ('trailing space and newline', b'20 40 MAX/4 MAX/1 \n'),
    ('trailing space, no newline', b'20 40 MAX/4 MAX/1 '),
    ('zero', b'0 40 MAX/4 MAX/1\n'),
    ('zero last', b'20 40 MAX/4 0\n'),
    ('MAX/0', b'20 40 MAX/0 MAX/1\n'),
    ('10001', b'10001 40 MAX/4 MAX/1\n'),
    ('MAX/10001', b'20 40 MAX/10001 MAX/1\n'),
    ('MAX/ without N', b'20 40 MAX/ MAX/1\n'),
    ('newline not on the last token', b'20\n40 MAX/4 MAX/1\n'),
    ('newline after a middle token', b'20 40\n MAX/4 MAX/1\n'),
    ('two trailing newlines', b'20 40 MAX/4 MAX/1\n\n'),
    ('minus sign', b'-20 40 MAX/4 MAX/1\n'),
    ('MAX/minus', b'20 40 MAX/-4 MAX/1\n'),
    ('MAX without slash', b'20 40 MAX4 MAX/1\n'),
    ('commas', b'20,40,MAX/4,MAX/1\n'),
    ('tab separator', b'20\t40 MAX/4 MAX/1\n'),
    ('only a newline', b'\n'),
    ('letters', b'a b c d\n'),
)

EVAL_BAD = (
    ('3 tokens', b'1000 500 200\n'),
    ('5 tokens', b'1000 500 200 50 10\n'),
    ('doubled separator', b'1000  500 200 50\n'),
    ('leading space', b' 1000 500 200 50\n'),
    ('minus sign', b'-1 500 200 50\n'),
    ('letters', b'a b c d\n'),
    ('bad last token (error after the first token)', b'1000 500 200 x\n'),
    ('bad middle token', b'1000 5x0 200 50\n'),
    ('decimal point', b'1.5 500 200 50\n'),
    ('tab separator', b'1000\t500 200 50\n'),
    ('only a newline', b'\n'),
)

KERNEL_LOG_BAD = re.compile(
    r'\bBUG\b|WARNING:|Oops|general protection|Invalid object pointer|'
    r'divide error|Call Trace|list_(add|del) corruption|refcount_t:|'
    r'KASAN|Poison overwritten|Redzone|Object padding|INFO: task|'
    r'blocked for more than|soft lockup|rcu.*stall|use-after-free'
)


class Fail(Exception):
    """A check failed."""


class Skip(Exception):
    """A check does not apply in this run."""


# ------------------------------------------------------------------------------------------------
# sysfs access

WRITE_LOG = []  # (attr, data, errno or 0) of every write this script made


def path(attr):
    return os.path.join(BASE, attr)


def read(attr):
    with open(path(attr), 'rb') as f:
        return f.read().decode('ascii', 'replace')


def write(attr, data):
    """One os.write() of data on an O_WRONLY fd: 0 when it succeeded, else the errno."""
    try:
        fd = os.open(path(attr), os.O_WRONLY)
    except OSError as e:
        WRITE_LOG.append((attr, data, e.errno))
        return e.errno
    try:
        n = os.write(fd, data)
        if n != len(data):
            raise Fail('%s: short write %d of %d bytes for %r' % (attr, n, len(data), data))
        res = 0
    except OSError as e:
        res = e.errno
    finally:
        os.close(fd)
    WRITE_LOG.append((attr, data, res))
    return res


def ename(err):
    return 'success' if err == 0 else errno.errorcode.get(err, str(err))


def expect_ok(attr, data):
    err = write(attr, data)
    if err:
        raise Fail('%s <- %r: %s, expected success' % (attr, data, ename(err)))


def expect_err(attr, data, want=errno.EINVAL):
    err = write(attr, data)
    if err != want:
        raise Fail('%s <- %r: %s, expected %s' % (attr, data, ename(err), ename(want)))


def expect_read(attr, want, context=''):
    got = read(attr)
    if got != want:
        raise Fail('%s reads %r, expected %r%s' % (attr, got, want, context))


def expect_write_read(attr, data, want):
    expect_ok(attr, data)
    expect_read(attr, want, ' after writing %r' % (data,))


def uksmd_pids():
    pids = []
    for comm in glob.glob('/proc/[0-9]*/comm'):
        try:
            with open(comm) as f:
                if f.read() == 'uksmd\n':
                    pids.append(int(comm.split('/')[2]))
        except OSError:
            pass  # the process went away
    return pids


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def hazard_param():
    try:
        with open(PARAM) as f:
            return f.read().strip() == 'Y'
    except OSError:
        return False


# ------------------------------------------------------------------------------------------------
# Models of the contract


class Ctx:
    """What the checks learn as they run."""

    def __init__(self, ko):
        self.ko = ko
        self.tick_ms = None  # jiffies_to_msecs(1), derived from the rounding of sleep_millisecs
        try:
            self.kmsg_start = current_load_seq()
        except OSError:
            self.kmsg_start = None


def expected_int_read(ctx, attr, v):
    if attr == 'sleep_millisecs':
        t = ctx.tick_ms
        return '%d\n' % (-(-v // t) * t)
    if attr == 'max_cpu_percentage':
        return '%d\n' % (10 if v < 10 else 99 if v == 100 else v)
    return '%d\n' % v


def max_n_readback(n):
    return 'MAX/%d' % (10000 // (10000 // n))


def need_tick(ctx):
    if ctx.tick_ms is None:
        expect_ok('sleep_millisecs', b'1\n')
        t = int(read('sleep_millisecs'))
        if t not in (1, 4, 10):
            raise Fail('sleep_millisecs 1 reads %d: not one tick of HZ 1000, 250 or 100' % t)
        ctx.tick_ms = t
    return ctx.tick_ms


# ------------------------------------------------------------------------------------------------
# The checks

CHECKS = []  # (name, description, function(ctx))


def check(name, desc):
    def deco(fn):
        CHECKS.append((name, desc, fn))
        return fn

    return deco


def add(name, desc, fn):
    CHECKS.append((name, desc, fn))


@check('dir.present', '/sys/kernel/mm/uksm exists (mm_kobj child "uksm")')
def _dir_present(ctx):
    if not os.path.isdir(BASE):
        raise Fail('%s is not a directory' % BASE)


@check('dir.exactly-16-attributes', 'the directory holds exactly the 16 UKSM attributes')
def _dir_attrs(ctx):
    got = sorted(os.listdir(BASE))
    want = sorted(WRITABLE + READ_ONLY)
    if got != want:
        raise Fail('missing %s, unexpected %s' % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))


@check(
    'dir.no-ksm-only-attributes',
    'no pages_to_scan, pages_volatile, merge_across_nodes, advisor_* or zero-page attribute',
)
def _dir_no_ksm(ctx):
    bad = [n for n in os.listdir(BASE) if n in KSM_ONLY or n.startswith('advisor_') or 'zero' in n]
    if bad:
        raise Fail('KSM-only attributes present: %s' % bad)


@check('detect.cpu_governor-file', 'detection file /sys/kernel/mm/uksm/cpu_governor is a file')
def _detect(ctx):
    if not os.path.isfile(path('cpu_governor')):
        raise Fail('no regular file %s' % path('cpu_governor'))


def _mode_check(attr, want):
    def fn(ctx):
        st = os.stat(path(attr))
        if not (st.st_mode & 0o170000) == 0o100000:
            raise Fail('%s is not a regular file' % attr)
        if st.st_mode & 0o7777 != want:
            raise Fail('%s mode %04o, expected %04o' % (attr, st.st_mode & 0o7777, want))

    return fn


for _a in WRITABLE:
    add('mode.%s' % _a, '%s is a regular file of mode 0644' % _a, _mode_check(_a, 0o644))
for _a in READ_ONLY:
    add('mode.%s' % _a, '%s is a regular file of mode 0444' % _a, _mode_check(_a, 0o444))


PF_KTHREAD = 0x00200000


def is_kernel_thread(pid):
    with open('/proc/%d/stat' % pid) as f:
        rest = f.read().rsplit(')', 1)[1].split()
    return int(rest[6]) & PF_KTHREAD != 0  # field 9, flags


@check(
    'kthread.uksmd-present',
    'exactly one process named exactly "uksmd" is in /proc/*/comm, and it is a kernel thread (PF_KTHREAD)',
)
def _uksmd(ctx):
    pids = uksmd_pids()
    if len(pids) != 1:
        raise Fail('processes with comm "uksmd": %s' % pids)
    if not is_kernel_thread(pids[0]):
        raise Fail('uksmd (pid %d) is not a kernel thread' % pids[0])


def _default_check(attr):
    def fn(ctx):
        expect_read(attr, DEFAULTS[attr], ' (needs a freshly loaded module)')

    return fn


for _a in WRITABLE:
    add('default.%s' % _a, '%s reads %r at load (kernel default)' % (_a, DEFAULTS[_a]), _default_check(_a))


def _stat_format(attr):
    def fn(ctx):
        got = read(attr)
        if not re.match(r'^%s\n$' % STAT_FORMATS[attr], got):
            raise Fail('%s reads %r, not %s + newline' % (attr, got, STAT_FORMATS[attr]))

    return fn


for _a in READ_ONLY:
    add('stats.%s.format' % _a, '%s reads as %s followed by a newline' % (_a, STAT_FORMATS[_a]), _stat_format(_a))


@check('stats.full_scans.starts-at-1', 'full_scans is at least 1 (it starts at 1)')
def _full_scans(ctx):
    v = int(read('full_scans'))
    if v < 1:
        raise Fail('full_scans reads %d' % v)


@check('stats.hash_strength.range', 'hash_strength is in 1..(PAGE_SIZE/4+10)')
def _hash_strength(ctx):
    v = int(read('hash_strength'))
    top = os.sysconf('SC_PAGE_SIZE') // 4 + 10
    if not 1 <= v <= top:
        raise Fail('hash_strength %d outside 1..%d' % (v, top))


def _eacces(attr):
    def fn(ctx):
        for flags in (os.O_WRONLY, os.O_RDWR):
            try:
                fd = os.open(path(attr), flags)
            except OSError as e:
                if e.errno != errno.EACCES:
                    raise Fail(
                        'open(%s, %s): %s, expected EACCES'
                        % (attr, 'O_WRONLY' if flags == os.O_WRONLY else 'O_RDWR', ename(e.errno))
                    ) from e
                continue
            os.close(fd)
            raise Fail('open(%s) for writing succeeded as root' % attr)

    return fn


for _a in READ_ONLY:
    add('readonly.%s.eacces' % _a, 'opening %s for writing fails with EACCES as root' % _a, _eacces(_a))


# ---- integer attributes (kstrtoul) ----


def _int_accepts_forms(attr):
    def fn(ctx):
        need_tick(ctx)
        want = expected_int_read(ctx, attr, 1)
        for data in (b'1\n', b'1', b'+1\n', b'+1', b'01\n', b'0\n', b'0'):
            v = int(data.strip(b'\n+') or b'0')
            expect_write_read(attr, data, expected_int_read(ctx, attr, v))
        expect_write_read(attr, b'+1\n', want)

    return fn


def _int_rejects_malformed(attr):
    def fn(ctx):
        expect_ok(attr, b'1\n')
        before = read(attr)
        for data in KSTRTOUL_BAD:
            expect_err(attr, data)
            expect_read(attr, before, ' after the rejected write %r' % (data,))

    return fn


def _int_range(attr):
    top = INTEGER_MAX[attr]

    def fn(ctx):
        need_tick(ctx)
        for v in range(0, top + 1):
            expect_write_read(attr, b'%d\n' % v, expected_int_read(ctx, attr, v))
        before = read(attr)
        for v in (top + 1, top + 2, 1000 if top < 1000 else 1001, 4096, 2**32, 2**32 + 1, 2**64 - 1):
            if v <= top:
                continue
            expect_err(attr, b'%d\n' % v)
            expect_read(attr, before, ' after the rejected write of %d' % v)

    return fn


for _a in INTEGER_MAX:
    add(
        '%s.kstrtoul.accepted-forms' % _a,
        '%s accepts digits with an optional leading + and an optional single trailing newline' % _a,
        _int_accepts_forms(_a),
    )
    add(
        '%s.kstrtoul.malformed-einval' % _a,
        '%s: minus, spaces, trailing space, tab, CR, hex, two newlines, letters, overflow -> '
        'EINVAL, value unchanged' % _a,
        _int_rejects_malformed(_a),
    )
    add(
        '%s.range' % _a,
        '%s accepts every value 0..%d (read back per the contract) and '
        'rejects %d and larger with EINVAL' % (_a, INTEGER_MAX[_a], INTEGER_MAX[_a] + 1),
        _int_range(_a),
    )


@check('run.no-2', 'run rejects 2 with EINVAL (there is no 2)')
def _run_no_2(ctx):
    expect_err('run', b'2\n')


@check('run.pause-keeps-uksmd', 'run 0 reads 0 and uksmd stays (paused, not killed); run 1 reads 1')
def _run_pause(ctx):
    expect_write_read('run', b'0\n', '0\n')
    time.sleep(0.3)
    if not uksmd_pids():
        raise Fail('uksmd gone after run=0')
    expect_write_read('run', b'1\n', '1\n')
    if not uksmd_pids():
        raise Fail('uksmd gone after run=1')


@check('run.writes-return-promptly', '50 run writes toggling 0/1 each return within 1 s')
def _run_prompt(ctx):
    for i in range(50):
        t0 = time.monotonic()
        expect_ok('run', b'%d\n' % (i % 2))
        if time.monotonic() - t0 > 1.0:
            raise Fail('run write %d took %.2f s' % (i, time.monotonic() - t0))
    expect_write_read('run', b'1\n', '1\n')


@check(
    'sleep_millisecs.hz-derived',
    'one tick is 1, 4 or 10 ms (HZ 1000/250/100), derived from '
    'the read-back of sleep_millisecs 1; it agrees with /boot/config-$(uname -r) if present',
)
def _hz(ctx):
    ctx.tick_ms = None
    t = need_tick(ctx)
    cfg = '/boot/config-%s' % os.uname().release
    try:
        with open(cfg) as f:
            m = re.search(r'^CONFIG_HZ=(\d+)$', f.read(), re.M)
    except OSError:
        m = None
    if m and 1000 // int(m.group(1)) != t:
        raise Fail('%s says HZ=%s but one tick reads %d ms' % (cfg, m.group(1), t))
    print('   (tick %d ms: HZ=%d%s)' % (t, 1000 // t, ', as in %s' % cfg if m else ''))


@check(
    'sleep_millisecs.rounds-up-to-tick',
    'every value 0..1000 reads back rounded up to a '
    'multiple of the tick (exact at HZ=1000, multiples of 4 at 250, of 10 at 100)',
)
def _sleep_round(ctx):
    t = need_tick(ctx)
    for v in range(0, 1001):
        expect_write_read('sleep_millisecs', b'%d\n' % v, '%d\n' % (-(-v // t) * t))


@check('sleep_millisecs.hz250-5-reads-8', 'at HZ=250 sleep_millisecs 5 reads 8 (skipped at other HZ)')
def _sleep_5(ctx):
    if need_tick(ctx) != 4:
        raise Skip('HZ is %d, not 250' % (1000 // ctx.tick_ms))
    expect_write_read('sleep_millisecs', b'5\n', '8\n')
    expect_write_read('sleep_millisecs', b'100\n', '100\n')


@check('sleep_millisecs.1001-einval', 'sleep_millisecs rejects 1001 with EINVAL')
def _sleep_1001(ctx):
    expect_err('sleep_millisecs', b'1001\n')


@check('max_cpu_percentage.clamps', '0..9 are stored as 10, 100 as 99, 10..99 as written; 101 is EINVAL')
def _clamp(ctx):
    for v in range(0, 10):
        expect_write_read('max_cpu_percentage', b'%d\n' % v, '10\n')
    expect_write_read('max_cpu_percentage', b'100\n', '99\n')
    expect_write_read('max_cpu_percentage', b'10\n', '10\n')
    expect_write_read('max_cpu_percentage', b'99\n', '99\n')
    expect_err('max_cpu_percentage', b'101\n')


@check('thresholds.100-einval', 'abundant_threshold and thrash_threshold reject 100 with EINVAL, accept 99 and 0')
def _thresholds(ctx):
    for a in ('abundant_threshold', 'thrash_threshold'):
        expect_write_read(a, b'99\n', '99\n')
        expect_write_read(a, b'0\n', '0\n')
        expect_err(a, b'100\n')
        expect_read(a, '0\n', ' after the rejected 100')


# ---- cpu_governor ----


def _gov_text(active):
    return ''.join(('[%s] ' if g == active else '%s ') % g for g in GOVERNORS) + '\n'


def _dirty():
    """Move cpu_ratios, eval_intervals and max_cpu_percentage off every preset."""
    expect_write_read('cpu_ratios', b'1 2 3 4\n', '1 2 3 4 \n')
    expect_write_read('eval_intervals', b'7 8 9 10\n', '7 8 9 10 \n')
    expect_write_read('max_cpu_percentage', b'33\n', '33\n')


def _expect_preset(g, context):
    ratios, evals, maxcpu = PRESETS[g]
    expect_read('cpu_ratios', ratios, context)
    expect_read('eval_intervals', evals, context)
    expect_read('max_cpu_percentage', maxcpu, context)


def _gov_format(g):
    def fn(ctx):
        expect_write_read('cpu_governor', b'%s\n' % g.encode(), _gov_text(g))

    return fn


def _gov_preset(g):
    def fn(ctx):
        _dirty()
        expect_ok('cpu_governor', b'%s\n' % g.encode())
        _expect_preset(g, ' after writing cpu_governor %s' % g)

    return fn


for _g in GOVERNORS:
    add(
        'cpu_governor.read-format.%s' % _g,
        'with %s active, cpu_governor reads %r' % (_g, _gov_text(_g)),
        _gov_format(_g),
    )
for _g in GOVERNORS:
    add(
        'cpu_governor.preset.%s' % _g,
        'writing %s resets cpu_ratios to %r, eval_intervals to %r '
        'and max_cpu_percentage to %s' % ((_g,) + tuple(x.replace('\n', r'\n') for x in PRESETS[_g])),
        _gov_preset(_g),
    )


@check(
    'cpu_governor.rewrite-of-current-resets',
    'writing the current governor again still resets the three others to its preset (every governor)',
)
def _gov_rewrite(ctx):
    for g in GOVERNORS:
        expect_ok('cpu_governor', b'%s\n' % g.encode())
        _dirty()
        expect_write_read('cpu_governor', b'%s\n' % g.encode(), _gov_text(g))
        _expect_preset(g, ' after re-writing the current governor %s' % g)


@check('cpu_governor.quiet-max_cpu-reads-1', 'after quiet, max_cpu_percentage reads 1; a direct write of 1 reads 10')
def _quiet_1(ctx):
    expect_ok('cpu_governor', b'quiet\n')
    expect_read('max_cpu_percentage', '1\n', ' after cpu_governor quiet')
    expect_write_read('max_cpu_percentage', b'1\n', '10\n')


@check(
    'cpu_governor.prefix-accepted',
    'prefix match: fullxyz -> full, mediumx -> medium, lowest -> low, quieter -> quiet, a name without newline',
)
def _gov_prefix(ctx):
    for data, g in (
        (b'quiet\n', 'quiet'),
        (b'fullxyz\n', 'full'),
        (b'mediumx\n', 'medium'),
        (b'lowest\n', 'low'),
        (b'quieter\n', 'quiet'),
        (b'fullxyz', 'full'),
        (b'low', 'low'),
        (b'medium', 'medium'),
    ):
        expect_write_read('cpu_governor', data, _gov_text(g))


@check(
    'cpu_governor.readback-text-selects-full',
    'writing the read-back text "full [medium] low quiet " is accepted and selects full (prefix match)',
)
def _gov_readback(ctx):
    expect_ok('cpu_governor', b'medium\n')
    expect_write_read('cpu_governor', _gov_text('medium').encode(), _gov_text('full'))


@check(
    'cpu_governor.no-match-einval',
    '" full", "Full", "FULL", "ful", "xfull", "[full]", '
    'an empty line, "none" -> EINVAL, governor unchanged (case-sensitive prefix match)',
)
def _gov_bad(ctx):
    expect_ok('cpu_governor', b'low\n')
    for data in (
        b' full\n',
        b'Full\n',
        b'FULL\n',
        b'ful\n',
        b'xfull\n',
        b'[full]\n',
        b'\n',
        b'none\n',
        b'Medium\n',
        b'LOW\n',
        b'qu\n',
        b'\tquiet\n',
    ):
        expect_err('cpu_governor', data)
        expect_read('cpu_governor', _gov_text('low'), ' after the rejected %r' % (data,))
    expect_ok('cpu_governor', b'full\n')


# ---- cpu_ratios ----


@check(
    'cpu_ratios.accepted',
    '4 single-space-separated tokens N or MAX/N, newline optional, '
    'leading + allowed (+20, MAX/+4); read back with a trailing space',
)
def _ratios_ok(ctx):
    for data, want in (
        (b'20 40 MAX/4 MAX/1\n', '20 40 MAX/4 MAX/1 \n'),
        (b'10 20 40 75\n', '10 20 40 75 \n'),
        (b'20 30 MAX/4 MAX/1', '20 30 MAX/4 MAX/1 \n'),
        (b'1 1 1 1\n', '1 1 1 1 \n'),
        (b'9999 9999 9999 9999\n', '9999 9999 9999 9999 \n'),
        (b'MAX/10000 MAX/100 MAX/2 MAX/1\n', 'MAX/10000 MAX/100 MAX/2 MAX/1 \n'),
        (b'+20 40 MAX/+4 MAX/1\n', '20 40 MAX/4 MAX/1 \n'),
        (b'MAX/1 MAX/1 MAX/1 MAX/1\n', 'MAX/1 MAX/1 MAX/1 MAX/1 \n'),
    ):
        expect_write_read('cpu_ratios', data, want)


@check(
    'cpu_ratios.accepts-10000',
    'a positive 10000 is accepted and reads back 10000 (uksmd '
    'must survive it unless hazard_ratio_kill=1; skipped when it is set)',
)
def _ratios_10000(ctx):
    if hazard_param():
        raise Skip('module loaded with hazard_ratio_kill=1 (see hazard.* checks with --ko)')
    expect_write_read('cpu_ratios', b'10 20 40 10000\n', '10 20 40 10000 \n')
    time.sleep(0.3)
    if not uksmd_pids():
        raise Fail('uksmd gone after a cpu_ratios value of 10000 without hazard_ratio_kill')
    expect_ok('cpu_ratios', b'20 40 MAX/4 MAX/1\n')


@check('cpu_ratios.positive-n-reads-n', 'every N in 1..9999 reads back as N')
def _ratios_n(ctx):
    for n in range(1, 10000):
        expect_write_read('cpu_ratios', b'1 2 3 %d\n' % n, '1 2 3 %d \n' % n)


@check('cpu_ratios.max-n-all', 'every MAX/N, N 1..10000, reads back as MAX/(10000 // (10000 // N))')
def _ratios_max_all(ctx):
    for n in range(1, 10001):
        expect_write_read('cpu_ratios', b'1 2 MAX/%d MAX/1\n' % n, '1 2 %s MAX/1 \n' % max_n_readback(n))


@check('cpu_ratios.max-n-exact-up-to-100', 'MAX/N reads back exactly for N <= 100')
def _ratios_max_exact(ctx):
    for n in range(1, 101):
        expect_write_read('cpu_ratios', b'10 20 40 MAX/%d\n' % n, '10 20 40 MAX/%d \n' % n)


@check('cpu_ratios.max-150-reads-151', 'MAX/150 reads back as MAX/151')
def _ratios_150(ctx):
    expect_write_read('cpu_ratios', b'20 40 MAX/150 MAX/1\n', '20 40 MAX/151 MAX/1 \n')


@check(
    'cpu_ratios.write-back-of-read-fails',
    'writing back what was read ("... MAX/1 \\n", trailing space) fails with EINVAL',
)
def _ratios_writeback(ctx):
    expect_ok('cpu_ratios', b'20 40 MAX/4 MAX/1\n')
    text = read('cpu_ratios')
    expect_err('cpu_ratios', text.encode())
    expect_read('cpu_ratios', text, ' after writing back the read text')


def _ratios_bad(what, data):
    def fn(ctx):
        expect_ok('cpu_ratios', b'20 40 MAX/4 MAX/1\n')
        expect_err('cpu_ratios', data)
        expect_read('cpu_ratios', '20 40 MAX/4 MAX/1 \n', ' after the rejected %r' % (data,))

    return fn


for _what, _data in RATIOS_BAD:
    add(
        'cpu_ratios.einval.%s' % re.sub(r'[^a-z0-9]+', '-', _what.lower()).strip('-'),
        'cpu_ratios <- %r (%s) -> EINVAL, value unchanged' % (_data, _what),
        _ratios_bad(_what, _data),
    )


# ---- eval_intervals ----


@check(
    'eval_intervals.accepted',
    '4 unsigned decimals with single spaces, newline optional; read '
    'back with a trailing space; 0 allowed; no range check',
)
def _evals_ok(ctx):
    for data, want in (
        (b'1000 500 200 50\n', '1000 500 200 50 \n'),
        (b'0 0 0 0\n', '0 0 0 0 \n'),
        (b'1 2 3 4', '1 2 3 4 \n'),
        (b'99999 1 100000 7\n', '99999 1 100000 7 \n'),
        (b'4294967295 4294967295 0 1\n', '4294967295 4294967295 0 1 \n'),
    ):
        expect_write_read('eval_intervals', data, want)


@check(
    'eval_intervals.truncated-above-2^32-1',
    'values above 2^32-1 are silently truncated (2^32 -> 0, 2^32+1 -> 1, 2^33-1 -> 4294967295, 2^64-1 -> 4294967295)',
)
def _evals_trunc(ctx):
    expect_write_read(
        'eval_intervals', b'4294967296 4294967297 8589934591 18446744073709551615\n', '0 1 4294967295 4294967295 \n'
    )
    expect_write_read('eval_intervals', b'5000000000 1 2 3\n', '705032704 1 2 3 \n')


def _evals_bad(what, data):
    def fn(ctx):
        expect_ok('eval_intervals', b'1000 500 200 50\n')
        expect_err('eval_intervals', data)
        expect_read('eval_intervals', '1000 500 200 50 \n', ' after the rejected %r' % (data,))

    return fn


for _what, _data in EVAL_BAD:
    add(
        'eval_intervals.einval.%s' % re.sub(r'[^a-z0-9]+', '-', _what.lower()).strip('-'),
        'eval_intervals <- %r (%s) -> EINVAL, value unchanged' % (_data, _what),
        _evals_bad(_what, _data),
    )


# ---- hazards that the emulator must NOT reproduce ----


@check(
    'safety.eval_intervals-repeated-writes',
    '600 eval_intervals writes (valid, and invalid '
    'after the first token) all get the right answer; valid writes still work afterwards '
    '(real UKSM corrupts memory and then fails valid writes)',
)
def _evals_repeat(ctx):
    for i in range(300):
        expect_write_read(
            'eval_intervals', b'%d %d %d %d\n' % (i, i + 1, i * 7, 50), '%d %d %d 50 \n' % (i, i + 1, i * 7)
        )
        expect_err('eval_intervals', b'%d 2 x 4\n' % i)
    expect_write_read('eval_intervals', b'1000 500 200 50\n', '1000 500 200 50 \n')


def _pad_ratios(size):
    """A valid cpu_ratios write of exactly size bytes, newline included (padded with zeros)."""
    head = b'1 2 3 '
    zeros = size - len(head) - 2  # the last token is 0...01 plus the newline
    if zeros < 0:
        head = b'1 1 1 '
        zeros = size - len(head) - 2
    data = head + b'0' * zeros + b'1\n'
    assert len(data) == size, (size, data)
    return data, head.decode() + '1 \n'


@check(
    'safety.cpu_ratios-kmalloc-size-writes',
    'cpu_ratios writes of exactly 8, 16, 32, 64, 96, '
    '128, 192 and 256 bytes, 20 times each, all accepted and read back right (real UKSM reads '
    'past its buffer then)',
)
def _ratios_kmalloc(ctx):
    for size in (8, 16, 32, 64, 96, 128, 192, 256):
        data, want = _pad_ratios(size)
        for _round in range(20):
            expect_write_read('cpu_ratios', data, want)
    expect_write_read('cpu_ratios', b'100 200 300 40\n', '100 200 300 40 \n')  # 16 bytes, unpadded
    expect_write_read('cpu_ratios', b'20 40 MAX/4 MAX/1\n', '20 40 MAX/4 MAX/1 \n')


def _slab_active():
    total = 0
    with open('/proc/slabinfo') as f:
        for line in f:
            if line.startswith('kmalloc-') or line.startswith('kmalloc-rcl-'):
                total += int(line.split()[1])
    return total


@check(
    'safety.cpu_ratios-no-leak',
    '4000 cpu_ratios writes (half invalid) grow the kmalloc-* '
    'active objects of /proc/slabinfo by less than 1000 (real UKSM leaks one per write)',
)
def _ratios_leak(ctx):
    try:
        before = _slab_active()
    except OSError as e:
        raise Skip('/proc/slabinfo: %s' % e) from e
    for i in range(2000):
        expect_ok('cpu_ratios', b'%d 40 MAX/4 MAX/1\n' % (1 + i % 30))
        expect_err('cpu_ratios', b'%d 40 MAX/4 MAX/1 \n' % (1 + i % 30))
    after = _slab_active()
    print('   (kmalloc-* active objects: %d before, %d after)' % (before, after))
    if after - before >= 1000:
        raise Fail('kmalloc-* active objects grew by %d over 4000 writes' % (after - before))
    expect_ok('cpu_ratios', b'20 40 MAX/4 MAX/1\n')


@check(
    'safety.repeated-writes-every-attribute',
    '200 rounds of valid writes to all 8 writable attributes, all accepted and read back right',
)
def _repeat_all(ctx):
    t = need_tick(ctx)
    for i in range(200):
        g = GOVERNORS[i % 4]
        expect_write_read('cpu_governor', b'%s\n' % g.encode(), _gov_text(g))
        _expect_preset(g, ' (round %d)' % i)
        expect_write_read('max_cpu_percentage', b'%d\n' % (10 + i % 90), '%d\n' % (10 + i % 90))
        expect_write_read(
            'cpu_ratios', b'%d 40 MAX/%d MAX/1\n' % (1 + i, 1 + i % 100), '%d 40 MAX/%d MAX/1 \n' % (1 + i, 1 + i % 100)
        )
        expect_write_read('eval_intervals', b'%d 0 0 %d\n' % (i, i * 1000), '%d 0 0 %d \n' % (i, i * 1000))
        expect_write_read('abundant_threshold', b'%d\n' % (i % 100), '%d\n' % (i % 100))
        expect_write_read('thrash_threshold', b'%d\n' % (99 - i % 100), '%d\n' % (99 - i % 100))
        v = i * 5 % 1001
        expect_write_read('sleep_millisecs', b'%d\n' % v, '%d\n' % (-(-v // t) * t))
        expect_write_read('run', b'%d\n' % (i % 2), '%d\n' % (i % 2))
    expect_write_read('run', b'1\n', '1\n')


@check('kthread.uksmd-survives-writes', 'uksmd is still running after all of the writes above')
def _uksmd_alive(ctx):
    if not uksmd_pids():
        raise Fail('no uksmd')


@check(
    'errno.never-ebusy',
    'no write of this run got EBUSY, and every failed write got EINVAL (or EACCES on a read-only attribute)',
)
def _no_ebusy(ctx):
    busy = [w for w in WRITE_LOG if w[2] == errno.EBUSY]
    if busy:
        raise Fail('%d writes got EBUSY, first %r' % (len(busy), busy[0]))
    other = [w for w in WRITE_LOG if w[2] not in (0, errno.EINVAL) and not (w[2] == errno.EACCES and w[0] in READ_ONLY)]
    if other:
        raise Fail('%d writes got an unexpected errno, first %r -> %s' % (len(other), other[0][:2], ename(other[0][2])))
    print('   (%d writes checked)' % len(WRITE_LOG))


def restore_defaults():
    # Order of the contract: governor (resets three others), then the rest, run last.
    expect_ok('cpu_governor', b'full\n')
    expect_ok('sleep_millisecs', b'100\n')
    expect_ok('abundant_threshold', b'10\n')
    expect_ok('thrash_threshold', b'50\n')
    expect_ok('run', b'1\n')


@check('restore.defaults', 'the defaults are written back (full, 100, 10, 50, run 1) and read back as at load')
def _restore(ctx):
    restore_defaults()
    for a in WRITABLE:
        expect_read(a, DEFAULTS[a])


# ---- module lifecycle and the optional hazard (need --ko) ----


def _rmmod():
    r = subprocess.run(
        ['rmmod', MODULE],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=60,
        check=False,
    )
    if r.returncode:
        raise Fail('rmmod %s: rc %d %s' % (MODULE, r.returncode, r.stdout.strip()))


def _insmod(ctx, *params):
    r = subprocess.run(
        ['insmod', ctx.ko] + list(params),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        timeout=60,
        check=False,
    )
    if r.returncode:
        raise Fail('insmod %s %s: rc %d %s' % (ctx.ko, ' '.join(params), r.returncode, r.stdout.strip()))


def _need_ko(ctx):
    if not ctx.ko:
        raise Skip('needs --ko PATH (unloads and reloads the module)')


def _unloaded():
    return not os.path.exists(BASE) and not uksmd_pids()


@check('module.unload-clean', 'rmmod succeeds; /sys/kernel/mm/uksm and uksmd are gone within 5 s')
def _unload(ctx):
    _need_ko(ctx)
    _rmmod()
    if not wait_for(_unloaded, 5):
        raise Fail('after rmmod: dir present %s, uksmd pids %s' % (os.path.exists(BASE), uksmd_pids()))


@check('module.reload-defaults', 'insmod again: the 16 attributes, the defaults and uksmd are back')
def _reload(ctx):
    _need_ko(ctx)
    if os.path.exists(BASE):
        _rmmod()
    _insmod(ctx)
    if not wait_for(uksmd_pids, 5):
        raise Fail('no uksmd after insmod')
    if sorted(os.listdir(BASE)) != sorted(WRITABLE + READ_ONLY):
        raise Fail('attributes after reload: %s' % sorted(os.listdir(BASE)))
    for a in WRITABLE:
        expect_read(a, DEFAULTS[a], ' after reload')


@check('hazard.max-1-keeps-uksmd', 'with hazard_ratio_kill=1: MAX/1 (a stored -10000) and 9999 do not stop uksmd')
def _hazard_max1(ctx):
    _need_ko(ctx)
    _rmmod()
    wait_for(_unloaded, 5)
    _insmod(ctx, 'hazard_ratio_kill=1')
    if not hazard_param():
        raise Fail('%s does not read Y' % PARAM)
    if not wait_for(uksmd_pids, 5):
        raise Fail('no uksmd after insmod hazard_ratio_kill=1')
    expect_write_read('cpu_ratios', b'MAX/1 MAX/1 MAX/1 MAX/1\n', 'MAX/1 MAX/1 MAX/1 MAX/1 \n')
    expect_write_read('cpu_ratios', b'9999 9999 9999 9999\n', '9999 9999 9999 9999 \n')
    time.sleep(0.5)
    if not uksmd_pids():
        raise Fail('uksmd died without a positive 10000')


@check(
    'hazard.ratio-10000-kills-uksmd',
    'with hazard_ratio_kill=1: a positive cpu_ratios value of 10000 is accepted and uksmd is gone within 2 s',
)
def _hazard_kill(ctx):
    _need_ko(ctx)
    if not hazard_param():
        raise Fail('module not loaded with hazard_ratio_kill=1 (previous check failed?)')
    expect_write_read('cpu_ratios', b'10 20 40 10000\n', '10 20 40 10000 \n')
    if not wait_for(lambda: not uksmd_pids(), 2):
        raise Fail('uksmd still running 2 s after a cpu_ratios value of 10000')


@check(
    'hazard.run-never-blocks-without-uksmd',
    'with uksmd gone, run writes 0 and 1 still return at once (real UKSM blocks forever; the emulator must not)',
)
def _hazard_run(ctx):
    _need_ko(ctx)
    if uksmd_pids():
        raise Skip('uksmd is running (previous check failed?)')
    result = {}

    def writer():
        result['r'] = [write('run', b'0\n'), write('run', b'1\n')]

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():
        print(
            'FAIL hazard.run-never-blocks-without-uksmd: a run write blocked for 5 s; '
            'aborting (the blocked thread cannot be interrupted)',
            flush=True,
        )
        os._exit(3)  # pylint: disable=protected-access
    if result['r'] != [0, 0]:
        raise Fail('run writes returned %s' % [ename(e) for e in result['r']])
    expect_read('run', '1\n')


@check(
    'hazard.unload-after-uksmd-died',
    'rmmod works after uksmd died; insmod without the parameter brings uksmd and the defaults back',
)
def _hazard_unload(ctx):
    _need_ko(ctx)
    _rmmod()
    if not wait_for(_unloaded, 5):
        raise Fail('after rmmod: dir present %s' % os.path.exists(BASE))
    _insmod(ctx)
    if hazard_param():
        raise Fail('hazard_ratio_kill still Y after a plain insmod')
    if not wait_for(uksmd_pids, 5):
        raise Fail('no uksmd after insmod')
    for a in WRITABLE:
        expect_read(a, DEFAULTS[a], ' after reload')


def kmsg_records():
    """The kernel log records still in the ring buffer, as (sequence number, message text)."""
    records = []
    fd = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            try:
                rec = os.read(fd, 16384)
            except BlockingIOError:
                break
            except BrokenPipeError:
                continue  # records were overwritten under us
            if not rec:
                break
            head, _sep, msg = rec.decode('utf-8', 'replace').partition(';')
            seq = int(head.split(',')[1])
            for line in msg.rstrip('\n').split('\n'):
                records.append((seq, line))
    finally:
        os.close(fd)
    return records


def current_load_seq():
    """Sequence number where the kernel log of the currently loaded uksm_emu begins: just after
    the 'unloaded' message of the previous load, or the oldest record."""
    records = kmsg_records()
    loaded = [i for i, (_seq, m) in enumerate(records) if m.startswith('%s: loaded' % MODULE)]
    if not loaded:
        return records[0][0] if records else 0
    unloaded = [i for i, (_seq, m) in enumerate(records[: loaded[-1]]) if m.startswith('%s: unloaded' % MODULE)]
    return records[unloaded[-1] + 1][0] if unloaded else records[0][0]


@check(
    'kernel-log.clean',
    'the kernel log since this load of uksm_emu (including the loads and '
    'unloads of --ko) holds no BUG, WARNING, Oops, slab corruption, divide error, hung task or '
    'lockup report',
)
def _kmsg(ctx):
    if ctx.kmsg_start is None:
        raise Skip('/dev/kmsg could not be read at the start')
    lines = [m for seq, m in kmsg_records() if seq >= ctx.kmsg_start]
    bad = [m for m in lines if KERNEL_LOG_BAD.search(m)]
    if bad:
        raise Fail('%d suspicious kernel log lines, first: %s' % (len(bad), bad[:5]))
    print('   (%d kernel log lines checked)' % len(lines))


@check('kthread.uksmd-present-at-end', 'uksmd is running when the script ends')
def _uksmd_end(ctx):
    if not uksmd_pids():
        raise Fail('no uksmd at the end')


# ------------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    ap.add_argument('--list', action='store_true', help='print the check names and exit')
    ap.add_argument(
        '--ko',
        help='path of uksm_emu.ko: also check unload/reload and the hazard_ratio_kill parameter (uses rmmod/insmod)',
    )
    ap.add_argument('--verbose', action='store_true', help='print each check\'s description')
    args = ap.parse_args(argv)

    names = [c[0] for c in CHECKS]
    assert len(names) == len(set(names)), 'duplicate check names'
    if args.list:
        for name, desc, _fn in CHECKS:
            print('%-58s %s' % (name, desc))
        print('%d checks' % len(CHECKS))
        return 0

    if os.geteuid() != 0:
        print('check_emulator.py must run as root (EACCES must hold even for root)', file=sys.stderr)
        return 2
    if not os.path.isdir('/sys/module/%s' % MODULE):
        print('module %s is not loaded' % MODULE, file=sys.stderr)
        return 2
    if args.ko and not os.path.isfile(args.ko):
        print('--ko %s: no such file' % args.ko, file=sys.stderr)
        return 2

    ctx = Ctx(os.path.abspath(args.ko) if args.ko else None)
    passed = failed = skipped = 0
    t0 = time.monotonic()
    for name, desc, fn in CHECKS:
        if args.verbose:
            print('---- %s: %s' % (name, desc))
        try:
            fn(ctx)
        except Skip as e:
            skipped += 1
            print('SKIP %s: %s' % (name, e), flush=True)
        except Fail as e:
            failed += 1
            print('FAIL %s: %s' % (name, e), flush=True)
        except OSError as e:
            failed += 1
            print('FAIL %s: %s' % (name, e), flush=True)
        else:
            passed += 1
            print('PASS %s' % name, flush=True)
    # Leave the module as the contract's defaults, whatever happened above.
    try:
        if os.path.isdir(BASE):
            restore_defaults()
    except (Fail, OSError) as e:
        print('warning: could not restore the defaults: %s' % e)
    print(
        'uksm_emu: %d passed, %d failed, %d skipped (%d checks, %.1f s)'
        % (passed, failed, skipped, len(CHECKS), time.monotonic() - t0)
    )
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())

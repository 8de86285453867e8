# Copyright: (c) 2026, litevirt.uksm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the uksm_emu kernel module against the UKSM contract (docs/kernel-interfaces.md, section 2).

Run INSIDE a test guest, as root, with uksm_emu freshly loaded (or restored to its defaults, which
this script does at its end):

    python3 check_emulator.py [--ko /path/uksm_emu.ko] [--list] [--verbose]

Every write is one os.write() on an O_WRONLY descriptor, newline-terminated unless the case is
about the newline. One line is printed per check (PASS, FAIL or SKIP) and a summary last; the exit
status is 0 only if no check failed. With --ko the script also unloads and reloads the module
(insmod/rmmod), which the module-lifecycle and hazard_ratio_kill checks need; without it those are
skipped. --list prints the check names and what each one covers, and touches nothing.

The raise.* checks drive uksmd's raise of a short sleep_millisecs (section 2.5) through the
emulator's two test controls, /sys/module/uksm_emu/parameters/ema_per_page_time (the ema, which
does not move by itself) and .../eval_round (the evaluation round; uksmd advances it every 32
batches). Every other check that reads sleep_millisecs accepts the value written, rounded to the
tick, or a raise that section 2.5 allows with the live rung 0 and ema.

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
PARAMS = '/sys/module/%s/parameters' % MODULE
PARAM = PARAMS + '/hazard_ratio_kill'
EMA_PARAM = 'ema_per_page_time'  # in PARAMS: the ema of section 2.5, set by a test (ns)
ROUND_PARAM = 'eval_round'  # in PARAMS: the evaluation round of section 2.5
TEST_PARAMS = (EMA_PARAM, ROUND_PARAM)
EMA_DEFAULT = 500  # the kernel's initial ema, the emulator's default and the value of a reset
EMA_MAX = 100000  # a larger ema is reset to EMA_DEFAULT at the next batch
BATCHES_PER_ROUND = 32  # the emulator's uksmd advances the evaluation round every 32 batches
# A sleep that is never raised at ema 500 under full (rung 0 ratio 20) at any HZ (budget(40 ms) is
# 80160 ns at HZ 250), for the checks that count whole rounds: 32 batches of it take about 1.3 s.
ROUND_SLEEP = 40

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


def wait_for(pred, timeout, interval=0.05):
    end = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(interval)


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


# ---- section 2.5: uksmd raises a short sleep_millisecs ----
# Written from the contract: one tick is t ms (HZ = 1000 / t, t in 1, 4, 10), so the kernel's
# conversions are exact ceilings.


def ms_to_jiffies(ms, t):
    return -(-ms // t)


def jiffies_to_usecs(j, t):
    return j * t * 1000


def usecs_to_jiffies(us, t):
    return -(-us // (t * 1000))


def rung_real_ratio(stored, max_cpu):
    """rung_real_ratio(): N for a positive rung; for MAX/N, stored as -(10000 // N),
    (10000 // N) * max_cpu_percentage // 100, or 1 where that is 0."""
    if stored > 0:
        return stored
    return (-stored * max_cpu // 100) or 1


def budget(j, r, t):
    """Step 4: the ns rung 0 may spend per sleep, in integer arithmetic from left to right."""
    return 1000 * jiffies_to_usecs(j, t) // (10000 - r) * r


def raise_once(j, r, ema, t):
    """Step 4 applied to a sleep of j jiffies: the sleep after it. A real ratio of 10000 divides
    by zero in the kernel (it kills uksmd); the emulator does not raise then."""
    if r >= 10000:
        return j
    if budget(j, r, t) < ema:
        return usecs_to_jiffies(ema * (10000 - r) // r // 1000, t) + 1
    return j


def raise_chain(ms, r, ema, t):
    """The values (ms) sleep_millisecs reads after a write of ms, batch after batch, with a fixed
    ema: the written value rounded to the tick, then each raise until one no longer raises."""
    j = ms_to_jiffies(ms, t)
    chain = [j]
    while len(chain) < 100:
        n = raise_once(chain[-1], r, ema, t)
        if n == chain[-1]:
            break
        chain.append(n)
    return [x * t for x in chain]


def settled(ms, r, ema, t):
    """What sleep_millisecs reads once uksmd's batches have raised a written ms as far as they do."""
    return raise_chain(ms, r, ema, t)[-1]


def param_path(name):
    return os.path.join(PARAMS, name)


def read_param(name):
    with open(param_path(name), 'rb') as f:
        return int(f.read().decode('ascii'))


def write_param(name, data):
    """One os.write() of data on the module parameter: 0 or the errno."""
    fd = os.open(param_path(name), os.O_WRONLY)
    try:
        os.write(fd, data)
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def set_param(name, value):
    err = write_param(name, b'%d\n' % value)
    if err:
        raise Fail('%s <- %d: %s, expected success' % (param_path(name), value, ename(err)))


def live_rung0_ratio():
    """rung_real_ratio() of the live rung 0, from what cpu_ratios and max_cpu_percentage read.
    A MAX/M read back is taken as stored -(10000 // M), which is exact for MAX/N with N <= 100."""
    tok = read('cpu_ratios').split(' ')[0]
    stored = -(10000 // int(tok[4:])) if tok.startswith('MAX/') else int(tok)
    return rung_real_ratio(stored, int(read('max_cpu_percentage')))


def sleep_model(ctx):
    """For the live rung 0 and ema: a function giving, for a written value, the set of what
    sleep_millisecs may read after it (section 2.5): the written value rounded up to the tick,
    or any raise uksmd's batches make of it. Step 2 may reset the ema to 500 meanwhile."""
    t = need_tick(ctx)
    r = live_rung0_ratio()
    ema = read_param(EMA_PARAM)
    emas = {EMA_DEFAULT, ema if ema <= EMA_MAX else EMA_DEFAULT}

    def allowed(ms):
        return {'%d\n' % v for e in emas for v in raise_chain(ms, r, e, t)}

    return allowed


def expect_sleep_read(ctx, ms, context='', model=None):
    allowed = (model or sleep_model(ctx))(ms)
    got = read('sleep_millisecs')
    if got not in allowed:
        raise Fail('sleep_millisecs reads %r, expected one of %s%s' % (got, sorted(allowed, key=int), context))


def expect_int_write_read(ctx, attr, data, v, model=None):
    """Write data (the value v) and read it back as the contract says; for sleep_millisecs the
    read may also be a raise of section 2.5 (model: a sleep_model() of the live state)."""
    if attr != 'sleep_millisecs':
        expect_write_read(attr, data, expected_int_read(ctx, attr, v))
        return
    expect_ok(attr, data)
    expect_sleep_read(ctx, v, ' after writing %r' % (data,), model)


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


@check(
    'raise.params-mode-0644',
    'the test controls %s/{%s,%s} are regular files of mode 0644' % (PARAMS, EMA_PARAM, ROUND_PARAM),
)
def _raise_params(ctx):
    for name in TEST_PARAMS:
        st = os.stat(param_path(name))
        if st.st_mode & 0o170000 != 0o100000 or st.st_mode & 0o7777 != 0o644:
            raise Fail('%s: mode %o, expected a regular file of mode 0644' % (param_path(name), st.st_mode))


@check(
    'raise.default-ema-500',
    'at load the ema is 500 (the initial value of the kernel): the parameter and the statistic '
    'ema_per_page_time both read 500; eval_round reads at least 1 (it starts at 1)',
)
def _raise_defaults(ctx):
    if read_param(EMA_PARAM) != EMA_DEFAULT:
        raise Fail('%s reads %d (needs a freshly loaded module)' % (param_path(EMA_PARAM), read_param(EMA_PARAM)))
    expect_read('ema_per_page_time', '%d\n' % EMA_DEFAULT, ' (needs a freshly loaded module)')
    if read_param(ROUND_PARAM) < 1:
        raise Fail('%s reads %d' % (param_path(ROUND_PARAM), read_param(ROUND_PARAM)))


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
        model = sleep_model(ctx) if attr == 'sleep_millisecs' else None
        for data in (b'1\n', b'1', b'+1\n', b'+1', b'01\n', b'0\n', b'0'):
            v = int(data.strip(b'\n+') or b'0')
            expect_int_write_read(ctx, attr, data, v, model)
        expect_int_write_read(ctx, attr, b'+1\n', 1, model)

    return fn


def _expect_unchanged(ctx, attr, before, last, context, model):
    """After a rejected write: attr still reads before (sleep_millisecs: or a raise of the last
    value written, section 2.5)."""
    if attr == 'sleep_millisecs':
        expect_sleep_read(ctx, last, context, model)
    else:
        expect_read(attr, before, context)


def _int_rejects_malformed(attr):
    def fn(ctx):
        model = sleep_model(ctx) if attr == 'sleep_millisecs' else None
        expect_ok(attr, b'1\n')
        before = read(attr)
        for data in KSTRTOUL_BAD:
            expect_err(attr, data)
            _expect_unchanged(ctx, attr, before, 1, ' after the rejected write %r' % (data,), model)

    return fn


def _int_range(attr):
    top = INTEGER_MAX[attr]

    def fn(ctx):
        need_tick(ctx)
        model = sleep_model(ctx) if attr == 'sleep_millisecs' else None
        for v in range(0, top + 1):
            expect_int_write_read(ctx, attr, b'%d\n' % v, v, model)
        before = read(attr)
        for v in (top + 1, top + 2, 1000 if top < 1000 else 1001, 4096, 2**32, 2**32 + 1, 2**64 - 1):
            if v <= top:
                continue
            expect_err(attr, b'%d\n' % v)
            _expect_unchanged(ctx, attr, before, top, ' after the rejected write of %d' % v, model)

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
    'multiple of the tick (exact at HZ=1000, multiples of 4 at 250, of 10 at 100), or raised as section 2.5 allows',
)
def _sleep_round(ctx):
    t = need_tick(ctx)
    model = sleep_model(ctx)
    raised = 0
    for v in range(0, 1001):
        expect_int_write_read(ctx, 'sleep_millisecs', b'%d\n' % v, v, model)
        raised += read('sleep_millisecs') != '%d\n' % (-(-v // t) * t)
    if raised:
        print('   (%d of 1001 read back raised by uksmd, as section 2.5 allows)' % raised)


@check('sleep_millisecs.hz250-5-reads-8', 'at HZ=250 sleep_millisecs 5 reads 8 (skipped at other HZ)')
def _sleep_5(ctx):
    if need_tick(ctx) != 4:
        raise Skip('HZ is %d, not 250' % (1000 // ctx.tick_ms))
    model = sleep_model(ctx)
    expect_int_write_read(ctx, 'sleep_millisecs', b'5\n', 5, model)
    expect_int_write_read(ctx, 'sleep_millisecs', b'100\n', 100, model)


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
    need_tick(ctx)
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
        expect_int_write_read(ctx, 'sleep_millisecs', b'%d\n' % v, v)
        expect_write_read('run', b'%d\n' % (i % 2), '%d\n' % (i % 2))
    expect_write_read('run', b'1\n', '1\n')


@check('kthread.uksmd-survives-writes', 'uksmd is still running after all of the writes above')
def _uksmd_alive(ctx):
    if not uksmd_pids():
        raise Fail('no uksmd')


# ---- section 2.5: uksmd raises a short sleep_millisecs ----


def sleep_times():
    return int(read('sleep_times'))


def wait_batches(n, context=''):
    """Wait until uksmd has run n whole batches that began after this call (sleep_times counts
    the sleeps between batches); the timeout allows for n + 2 sleeps of up to 1.1 s each."""
    target = sleep_times() + n + 1
    if not wait_for(lambda: sleep_times() >= target, (n + 2) * 1.1 + 3):
        raise Fail(
            'uksmd ran no %d batches in time%s (sleep_times %d, wanted %d)' % (n, context, sleep_times(), target)
        )


def sleep_ms():
    return int(read('sleep_millisecs'))


def expect_sleep_stays(want, batches, context=''):
    """sleep_millisecs reads want now and after each of the next batches."""
    for i in range(batches + 1):
        if i:
            wait_batches(1, context)
        got = sleep_ms()
        if got != want:
            raise Fail('sleep_millisecs reads %d, expected %d%s (batch %d)' % (got, want, context, i))


def raise_setup(ctx, sleep=12, ema=EMA_DEFAULT, ratios=None, round_=1, max_cpu=None):
    """uksmd running, governor full (rung 0 ratio 20) or the ratios (and max_cpu_percentage)
    given, round_ started, the ema written, and sleep written last: what a raise does from here
    on depends on this state only (a write of sleep_millisecs sets both sleeps)."""
    t = need_tick(ctx)
    expect_ok('run', b'1\n')
    expect_ok('cpu_governor', b'full\n')
    if ratios:
        expect_ok('cpu_ratios', ratios)
    if max_cpu:
        expect_ok('max_cpu_percentage', max_cpu)
    set_param(ROUND_PARAM, round_)
    set_param(EMA_PARAM, ema)
    expect_ok('sleep_millisecs', b'%d\n' % sleep)
    return t


def raise_to(ctx, want, context=''):
    """Wait (batch by batch, at most 3) until sleep_millisecs reads want."""
    for _i in range(3):
        if sleep_ms() == want:
            return
        wait_batches(1, context)
    if sleep_ms() != want:
        raise Fail('sleep_millisecs reads %d, expected %d%s' % (sleep_ms(), want, context))


def poll_series(stop_after, pred=None, interval=0.002):
    """Read sleep_millisecs (and eval_round before and after) until pred(value) holds or for
    stop_after seconds: [(seconds since start, round before, value, round after)]."""
    t0 = time.monotonic()
    out = []
    while True:
        r0 = read_param(ROUND_PARAM)
        v = sleep_ms()
        r1 = read_param(ROUND_PARAM)
        out.append((time.monotonic() - t0, r0, v, r1))
        if (pred and pred(v)) or time.monotonic() - t0 > stop_after:
            return out
        time.sleep(interval)


def series_text(series):
    """'12 at +0 ms, 52 at +15 ms' (each value when it was first read)."""
    parts = []
    last = None
    for at, _r0, v, _r1 in series:
        if v != last:
            parts.append('%d at +%d ms' % (v, at * 1000))
            last = v
    return ', '.join(parts) + ' (%d reads over %d ms)' % (len(series), series[-1][0] * 1000)


@check(
    'raise.params-parse',
    'both test controls parse like kstrtoul (+7, 7 without newline accepted; -1, x, "7 ", empty, '
    '2^64 rejected with EINVAL, value unchanged); the ema parameter is what ema_per_page_time reads',
)
def _raise_params_parse(ctx):
    expect_ok('run', b'0\n')  # no batch may move them meanwhile
    try:
        for name in TEST_PARAMS:
            for data, want in ((b'+7\n', 7), (b'77', 77), (b'123456\n', 123456)):
                err = write_param(name, data)
                if err or read_param(name) != want:
                    raise Fail('%s <- %r: %s, reads %d, expected %d' % (name, data, ename(err), read_param(name), want))
            for data in (b'-1\n', b'x\n', b'7 \n', b'\n', b'18446744073709551616\n', b'0x10\n'):
                err = write_param(name, data)
                if err != errno.EINVAL:
                    raise Fail('%s <- %r: %s, expected EINVAL' % (name, data, ename(err)))
                if read_param(name) != 123456:
                    raise Fail('%s reads %d after the rejected %r' % (name, read_param(name), data))
        for v in (1, 90000, 100000, 100001, 4000000000):
            set_param(EMA_PARAM, v)
            expect_read('ema_per_page_time', '%d\n' % v, ' after writing %d to the ema parameter' % v)
    finally:
        set_param(EMA_PARAM, EMA_DEFAULT)
        set_param(ROUND_PARAM, 1)
        expect_ok('run', b'1\n')


@check(
    'raise.ema-does-not-move',
    'an ema written (12345) reads the same in the parameter and the statistic over 6 batches '
    '(rounds not a multiple of 256)',
)
def _raise_ema_still(ctx):
    raise_setup(ctx, sleep=ROUND_SLEEP, ema=12345, round_=1)  # budget(40 ms) > 12345: never raised
    for i in range(7):
        if i:
            wait_batches(1)
        if read_param(EMA_PARAM) != 12345 or read('ema_per_page_time') != '12345\n':
            raise Fail(
                'after %d batches: parameter %d, statistic %r' % (i, read_param(EMA_PARAM), read('ema_per_page_time'))
            )


@check(
    'raise.eval_round-advanced-by-uksmd',
    'uksmd advances eval_round by one every %d batches (counted by sleep_times), and not while run is 0'
    % BATCHES_PER_ROUND,
)
def _raise_round_moves(ctx):
    raise_setup(ctx, sleep=12, round_=1)
    s0 = sleep_times()
    set_param(ROUND_PARAM, 1)
    wait_batches(4 * BATCHES_PER_ROUND + 1)
    r = read_param(ROUND_PARAM)
    s1 = sleep_times()
    want = (s1 - s0) / BATCHES_PER_ROUND
    if abs((r - 1) - want) > 1:
        raise Fail('eval_round went from 1 to %d over about %d batches' % (r, s1 - s0))
    expect_ok('run', b'0\n')
    time.sleep(0.05)
    r = read_param(ROUND_PARAM)
    time.sleep(0.3)
    r2 = read_param(ROUND_PARAM)
    expect_ok('run', b'1\n')
    if r2 != r:
        raise Fail('eval_round moved from %d to %d while run was 0' % (r, r2))
    print('   (eval_round 1 -> %d over %d sleeps)' % (read_param(ROUND_PARAM), s1 - s0))


@check(
    'raise.eval_round-write-starts-round',
    'a write of eval_round starts that round: at %d ms a batch (read every 2 ms) it ends %d batches later '
    '(%d if a batch was just beginning), wherever uksmd was in its own round (written 3 and 16 batches '
    'into one)' % (ROUND_SLEEP, BATCHES_PER_ROUND, BATCHES_PER_ROUND - 1),
)
def _raise_round_write(ctx):
    raise_setup(ctx, sleep=ROUND_SLEEP)
    wait_batches(1)  # uksmd sleeps ROUND_SLEEP ms a batch from here
    round_timeout = 2 * BATCHES_PER_ROUND * ROUND_SLEEP / 1000 + 3
    r = read_param(ROUND_PARAM)
    if not wait_for(lambda r=r: read_param(ROUND_PARAM) != r, round_timeout, 0.002):
        raise Fail('eval_round stays %d' % r)
    seen = []
    for skew in (3, 16):
        # uksmd has just begun a round of its own (advanced by itself, not written)
        s = sleep_times()
        wait_for(lambda want=s + skew: sleep_times() >= want, round_timeout, 0.002)
        set_param(ROUND_PARAM, 100 + skew)
        s0 = sleep_times()
        if not wait_for(lambda r=100 + skew: read_param(ROUND_PARAM) != r, round_timeout, 0.002):
            raise Fail('eval_round %d never ended' % (100 + skew))
        k = sleep_times() - s0
        seen.append(k)
        if k not in (BATCHES_PER_ROUND - 1, BATCHES_PER_ROUND, BATCHES_PER_ROUND + 1):
            raise Fail('eval_round %d written %d batches into a round ended after %d sleeps' % (100 + skew, skew, k))
    print('   (rounds written ended after %s sleeps)' % seen)


@check(
    'raise.deterministic-12-to-52',
    'governor full (rung 0 ratio 20), sleep_millisecs 12, ema 500: reads 12 over 3 batches; ema 90000: '
    'raised after one batch (52 at HZ=250: 90000*9980/20/1000 = 44910 us -> 12 jiffies + 1) and stays there',
)
def _raise_52(ctx):
    t = raise_setup(ctx, sleep=12)
    before = ms_to_jiffies(12, t) * t
    expect_sleep_stays(before, 3, ' with ema 500')
    want = settled(12, 20, 90000, t)
    if t == 4 and want != 52:
        raise Fail('the model gives %d, not 52, at HZ=250' % want)
    set_param(EMA_PARAM, 90000)
    series = poll_series(1.5 + 2 * 0.012, pred=lambda v: v != before)
    print('   (ema 90000 written; sleep_millisecs read %s)' % series_text(series))
    if series[-1][2] != want:
        raise Fail(
            'sleep_millisecs reads %d after the raise, expected %d (%s)' % (series[-1][2], want, series_text(series))
        )
    expect_sleep_stays(want, 5, ' (raised, ema 90000)')


@check(
    'raise.stays-until-round-multiple-of-8',
    'raised to 52 (ema 90000), then eval_round 15 and ema 500: reads 52 through round 15 (%d batches) until '
    'uksmd reaches round 16, then the written 12 (restore, no raise at ema 500) and stays; again with rounds '
    'set by the test: round 17 keeps 52, round 24 restores 12' % BATCHES_PER_ROUND,
)
def _raise_restore(ctx):
    t = raise_setup(ctx, sleep=12, ema=90000)
    high = settled(12, 20, 90000, t)
    low = ms_to_jiffies(12, t) * t
    raise_to(ctx, high)
    # the round first: in a round of 8k the ema of 90000 raises again at once; 15, not 13: three
    # rounds of 32 batches of 52 ms would take 5 s
    set_param(ROUND_PARAM, 15)
    set_param(EMA_PARAM, 500)
    series = poll_series(5 + 2 * BATCHES_PER_ROUND * high / 1000, pred=lambda v: v == low)
    for _at, r0, v, r1 in series:
        if v == high and r0 > 16:
            raise Fail('still %d at round %d: %s' % (v, r0, series_text(series)))
        if v == low and r1 < 16:
            raise Fail('restored to %d at round %d, before round 16: %s' % (v, r1, series_text(series)))
        if v not in (high, low):
            raise Fail('read %d: %s' % (v, series_text(series)))
    if series[-1][2] != low:
        raise Fail('not restored to %d: %s' % (low, series_text(series)))
    print('   (eval_round 15, ema 500: read %s; restored at round %d)' % (series_text(series), series[-1][3]))
    expect_sleep_stays(low, 3, ' (restored, ema 500)')

    set_param(EMA_PARAM, 90000)
    raise_to(ctx, high, ' (ema 90000 again)')
    set_param(ROUND_PARAM, 17)
    set_param(EMA_PARAM, 500)
    expect_sleep_stays(high, 2, ' in round 17, ema 500')
    set_param(ROUND_PARAM, 24)
    wait_batches(1)
    expect_sleep_stays(low, 2, ' after round 24 began')


@check(
    'raise.round-of-8-raises-again',
    'during a round that is a multiple of 8, with ema 90000 still, each batch puts 12 back and raises it '
    'again at once: every read in round 8 (%d batches, read every 2 ms until round 9 begins) is the raised '
    'value' % BATCHES_PER_ROUND,
)
def _raise_again(ctx):
    t = raise_setup(ctx, sleep=12, ema=90000)
    high = settled(12, 20, 90000, t)
    raise_to(ctx, high)
    set_param(ROUND_PARAM, 8)
    ended = []

    def round_8_over(_v):
        if read_param(ROUND_PARAM) != 8:
            ended.append(True)
        return bool(ended)

    series = poll_series(2 * BATCHES_PER_ROUND * high / 1000 + 1, pred=round_8_over)
    in_round = [x for x in series if x[1] == 8 and x[3] == 8]
    bad = [x for x in series if x[2] != high]
    if bad:
        raise Fail('read %d in round %d..%d: %s' % (bad[0][2], bad[0][1], bad[0][3], series_text(series)))
    if not in_round:
        raise Fail('no read during round 8')
    if not ended:
        raise Fail('round 8 did not end within %.1f s: %s' % (series[-1][0], series_text(series)))
    print('   (%d reads inside round 8, all %d)' % (len(in_round), high))


@check(
    'raise.write-sets-saved',
    'a write sets both sleeps: raised to 52, ema 500, write 200 (reads 200), round 8: reads 200, not the 12 written before',
)
def _raise_saved(ctx):
    t = raise_setup(ctx, sleep=12, ema=90000)
    raise_to(ctx, settled(12, 20, 90000, t))
    set_param(ROUND_PARAM, 9)
    set_param(EMA_PARAM, 500)
    expect_ok('sleep_millisecs', b'200\n')
    expect_read('sleep_millisecs', '200\n', ' right after the write')
    set_param(ROUND_PARAM, 8)
    expect_sleep_stays(200, 2, ' in round 8 after writing 200')


@check(
    'raise.no-raise-200',
    'sleep_millisecs 200 with ema 500, then with ema 100000 and in rounds 8 and 256: reads 200, never raised',
)
def _raise_200(ctx):
    raise_setup(ctx, sleep=200, ema=500)
    expect_sleep_stays(200, 3, ' with ema 500')
    set_param(EMA_PARAM, 100000)
    expect_sleep_stays(200, 2, ' with ema 100000')
    set_param(ROUND_PARAM, 8)
    expect_sleep_stays(200, 1, ' in round 8')
    set_param(ROUND_PARAM, 256)
    expect_sleep_stays(200, 1, ' in round 256')


@check(
    'raise.ema-above-100000-reset',
    'ema 100001 is reset to 500 at the next batch (parameter and statistic) before step 4, so 12 is not '
    'raised; ema 100000 is kept and raises 12 to the bound (56 at HZ=250)',
)
def _raise_reset(ctx):
    t = raise_setup(ctx, sleep=12, ema=500)
    low = ms_to_jiffies(12, t) * t
    expect_sleep_stays(low, 1)
    set_param(EMA_PARAM, 100001)
    wait_batches(1)
    if read_param(EMA_PARAM) != 500:
        raise Fail('ema parameter reads %d one batch after 100001' % read_param(EMA_PARAM))
    expect_read('ema_per_page_time', '500\n', ' one batch after 100001')
    expect_sleep_stays(low, 2, ' (ema 100001 reset to 500 before step 4)')
    set_param(EMA_PARAM, 100000)
    want = settled(12, 20, 100000, t)
    raise_to(ctx, want, ' with ema 100000')
    if read_param(EMA_PARAM) != 100000:
        raise Fail('ema 100000 was not kept: reads %d' % read_param(EMA_PARAM))


@check(
    'raise.round-256-resets-ema',
    'eval_round 256 (or 512): at the next batch ema reads 500 and a raised 52 goes back to 12 (256 is a '
    'multiple of 8); an ema written during round 256 is reset again; in round 257 an ema of 90000 stays',
)
def _raise_256(ctx):
    t = raise_setup(ctx, sleep=12, ema=90000)
    high = settled(12, 20, 90000, t)
    low = ms_to_jiffies(12, t) * t
    raise_to(ctx, high)
    set_param(ROUND_PARAM, 256)
    wait_batches(1)
    if read_param(EMA_PARAM) != 500:
        raise Fail('ema reads %d in round 256' % read_param(EMA_PARAM))
    expect_read('ema_per_page_time', '500\n', ' in round 256')
    expect_read('sleep_millisecs', '%d\n' % low, ' in round 256')
    # a round 512 of 32 batches of 100 ms (never raised at any ema at ratio 20), so that a write of
    # the ema lands inside it
    raise_setup(ctx, sleep=100, ema=500)
    wait_batches(1)
    set_param(ROUND_PARAM, 512)
    set_param(EMA_PARAM, 90000)
    wait_batches(1)
    if read_param(ROUND_PARAM) != 512 or read_param(EMA_PARAM) != 500:
        raise Fail(
            'ema 90000 written in round 512 reads %d in round %d' % (read_param(EMA_PARAM), read_param(ROUND_PARAM))
        )
    set_param(ROUND_PARAM, 257)
    set_param(EMA_PARAM, 90000)
    wait_batches(2)
    if read_param(EMA_PARAM) != 90000:
        raise Fail('ema 90000 reads %d in round 257' % read_param(EMA_PARAM))


@check(
    'raise.live-rung0',
    'step 4 uses the live rung 0: sleep 12, ema 90000 with cpu_ratios "40 40 MAX/4 MAX/1" reads 28 at HZ=250; '
    'cpu_ratios back to 20 raises it further (52); 40 again does not lower it (only grows between restores)',
)
def _raise_live(ctx):
    t = raise_setup(ctx, sleep=12, ema=90000, ratios=b'40 40 MAX/4 MAX/1\n')
    at40 = settled(12, 40, 90000, t)
    raise_to(ctx, at40, ' at ratio 40')
    expect_sleep_stays(at40, 2, ' at ratio 40')
    set_param(ROUND_PARAM, 2)
    expect_ok('cpu_ratios', b'20 40 MAX/4 MAX/1\n')
    at20 = settled(at40, 20, 90000, t)
    raise_to(ctx, at20, ' after cpu_ratios 20 40 MAX/4 MAX/1')
    expect_ok('cpu_ratios', b'40 40 MAX/4 MAX/1\n')
    expect_sleep_stays(at20, 2, ' after cpu_ratios 40 again (not lowered)')
    print('   (HZ=%d: %d at ratio 40, %d after ratio 20)' % (1000 // t, at40, at20))


@check('raise.paused-no-batch', 'with run 0 there is no batch: 12 with ema 90000 stays 12; run 1 raises it')
def _raise_paused(ctx):
    t = raise_setup(ctx, sleep=200, ema=500)
    expect_ok('run', b'0\n')
    time.sleep(0.25)  # let a batch that was under way end
    expect_ok('sleep_millisecs', b'12\n')
    set_param(EMA_PARAM, 90000)
    time.sleep(0.5)
    low = ms_to_jiffies(12, t) * t
    got = sleep_ms()
    expect_ok('run', b'1\n')
    if got != low:
        raise Fail('sleep_millisecs reads %d while paused, expected %d' % (got, low))
    raise_to(ctx, settled(12, 20, 90000, t), ' after run 1')


@check(
    'raise.zero-and-one-jiffy',
    'D = 0 (budget 0) is raised after the first batch even with ema 1, by one jiffy (the smallest raise); '
    'with ema 500 to 8 ms at HZ=250',
)
def _raise_zero(ctx):
    t = raise_setup(ctx, sleep=0, ema=1)
    raise_to(ctx, t, ' (0 with ema 1)')
    expect_sleep_stays(t, 2, ' (0 with ema 1)')
    t = raise_setup(ctx, sleep=0, ema=500)
    raise_to(ctx, settled(0, 20, 500, t), ' (0 with ema 500)')


# The table of section 2.5: rung 0 real ratio -> (the largest D that can be raised, the highest
# value read), at HZ 1000 / 250 / 100, with the largest ema step 4 can use (100000).
BOUND_TABLE = {
    1: ((999, 1001), (996, 1004), (990, 1010)),
    10: ((99, 101), (96, 104), (90, 110)),
    20: ((49, 51), (48, 56), (40, 60)),
    40: ((24, 26), (24, 32), (20, 40)),
}
BOUND_SETUPS = (  # (r, cpu_ratios, max_cpu_percentage written after it or None)
    (1, b'MAX/10000 40 MAX/4 MAX/1\n', b'10\n'),  # (10000 // 10000) * 10 // 100 = 0 -> 1
    (10, b'10 20 MAX/2 MAX/1\n', None),
    (10, b'MAX/100 40 MAX/4 MAX/1\n', b'10\n'),  # 100 * 10 // 100 = 10
    (20, b'20 40 MAX/4 MAX/1\n', None),
    (40, b'40 40 MAX/4 MAX/1\n', None),
)


@check(
    'raise.bound-table',
    'the bound table of section 2.5 at the live HZ, with ema 100000, for rung 0 ratios 1 (MAX/10000 at '
    'max_cpu 10), 10 (and MAX/100 at 10), 20 and 40: D = 0 and the largest D that can be raised read the '
    'highest value; one tick more is never raised',
)
def _raise_bounds(ctx):
    t = need_tick(ctx)
    col = {1: 0, 4: 1, 10: 2}[t]
    notes = []
    try:
        for r, ratios, maxcpu in BOUND_SETUPS:
            top_d, highest = BOUND_TABLE[r][col]
            # the model, written from the formula, must agree with the table of the contract
            if settled(top_d, r, EMA_MAX, t) != highest or settled(0, r, EMA_MAX, t) != highest:
                raise Fail('model and table disagree for r=%d' % r)
            if top_d + t <= 1000 and settled(top_d + t, r, EMA_MAX, t) != top_d + t:
                raise Fail('model: %d is raised at r=%d' % (top_d + t, r))
            raise_setup(ctx, sleep=top_d, ema=EMA_MAX, ratios=ratios, max_cpu=maxcpu)
            if live_rung0_ratio() != r:
                raise Fail('rung 0 real ratio %d, expected %d' % (live_rung0_ratio(), r))
            ctxt = ' (r=%d, D=%d, ema 100000)' % (r, top_d)
            raise_to(ctx, highest, ctxt)
            expect_sleep_stays(highest, 1, ctxt)
            expect_ok('sleep_millisecs', b'0\n')
            raise_to(ctx, highest, ' (r=%d, D=0, ema 100000)' % r)
            if top_d + t <= 1000:
                expect_ok('sleep_millisecs', b'%d\n' % (top_d + t))
                expect_sleep_stays(top_d + t, 2, ' (r=%d, D=%d, ema 100000: not raised)' % (r, top_d + t))
            notes.append('r=%d: %d -> %d' % (r, top_d, highest))
    finally:
        expect_ok('cpu_governor', b'full\n')
        set_param(EMA_PARAM, EMA_DEFAULT)
        expect_ok('sleep_millisecs', b'100\n')
    print('   (HZ=%d: %s)' % (1000 // t, ', '.join(notes)))


@check(
    'raise.cleanup',
    'back to ema 500, governor full, sleep_millisecs 100: reads 100 over 2 batches',
)
def _raise_cleanup(ctx):
    raise_setup(ctx, sleep=100, ema=EMA_DEFAULT)
    expect_sleep_stays(100, 2)


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
    if os.path.exists(param_path(EMA_PARAM)):
        set_param(EMA_PARAM, EMA_DEFAULT)
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
        text=True,
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
        text=True,
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


@check(
    'raise.params-reset-on-reload',
    'after the reload the ema parameter and statistic read 500 again; insmod ema_per_page_time=90000 '
    'eval_round=3 starts with those (parameters given to insmod hold)',
)
def _raise_reload(ctx):
    _need_ko(ctx)
    if read_param(EMA_PARAM) != EMA_DEFAULT or read('ema_per_page_time') != '%d\n' % EMA_DEFAULT:
        raise Fail('ema after reload: parameter %d, statistic %r' % (read_param(EMA_PARAM), read('ema_per_page_time')))
    _rmmod()
    wait_for(_unloaded, 5)
    _insmod(ctx, 'ema_per_page_time=90000', 'eval_round=3')
    try:
        expect_ok('run', b'0\n')
        if read_param(EMA_PARAM) != 90000 or read('ema_per_page_time') != '90000\n':
            raise Fail('insmod ema_per_page_time=90000: reads %d' % read_param(EMA_PARAM))
        if not 3 <= read_param(ROUND_PARAM) <= 10:
            raise Fail('insmod eval_round=3: reads %d' % read_param(ROUND_PARAM))
    finally:
        _rmmod()
        wait_for(_unloaded, 5)
        _insmod(ctx)


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

"""Check the spec's KSM table (docs/kernel-interfaces.md, section 3) against a real kernel.

Run as root inside a test guest, never on a machine that matters: it writes /sys/kernel/mm/ksm
and puts every value back at the end. With --shared, pages must be shared already (the EBUSY rows).
Prints one line per check and exits 1 if any fails. Standard library only.
"""

import errno
import os
import sys

KSM = '/sys/kernel/mm/ksm'
results = []


def path(name):
    return os.path.join(KSM, name)


def read(name):
    with open(path(name)) as handle:
        return handle.read()


def write(name, text):
    """One write() call; the errno name, or None on success."""
    fd = os.open(path(name), os.O_WRONLY)
    try:
        os.write(fd, text.encode())
        return None
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))
    finally:
        os.close(fd)


def check(name, ok, detail=''):
    results.append(ok)
    print('%s %s%s' % ('PASS' if ok else 'FAIL', name, (': ' + detail) if detail and not ok else ''))


def expect_write(name, text, want, reads=None):
    got = write(name, text)
    label = '%s <- %r gives %s' % (name, text, want or 'success')
    if reads is None or got:
        check(label, got == want, 'got %s' % (got or 'success'))
    else:
        value = read(name)
        check(label + ' and reads %r' % reads, got == want and value == reads, 'got %s, reads %r' % (got, value))


def main():
    shared = '--shared' in sys.argv
    present = sorted(os.listdir(KSM))
    saved = {name: read(name).strip() for name in present if os.stat(path(name)).st_mode & 0o200}
    try:
        for name in present:
            text = read(name)
            check(
                '%s reads one decimal and a newline' % name,
                text.endswith('\n') and text[:-1].lstrip('-').isdigit(),
                repr(text),
            )
        if not shared:
            expect_write('run', '3\n', 'EINVAL')
            expect_write('run', '1\n', None, '1\n')
            expect_write('run', '0\n', None, '0\n')
            expect_write('pages_to_scan', '200\n', None, '200\n')
            expect_write('pages_to_scan', '-1\n', 'EINVAL')
            expect_write('sleep_millisecs', '100000\n', None, '100000\n')
            expect_write('use_zero_pages', 'y\n', None, '1\n')
            expect_write('use_zero_pages', 'off\n', None, '0\n')
            expect_write('use_zero_pages', 'maybe\n', 'EINVAL')
            expect_write('max_page_sharing', '1\n', 'EINVAL')
            expect_write('max_page_sharing', '2\n', None, '2\n')
            expect_write('stable_node_chains_prune_millisecs', '3000\n', None, '3000\n')
            if 'merge_across_nodes' in present:
                expect_write('merge_across_nodes', '2\n', 'EINVAL')
        else:
            check('pages are shared', int(read('pages_shared')) > 0, read('pages_shared'))
            for name in ('merge_across_nodes', 'max_page_sharing'):
                if name not in present:
                    continue
                current = read(name)
                expect_write(name, current, None, current)  # the current value never fails
                changed = (
                    '0\n'
                    if name == 'merge_across_nodes' and current == '1\n'
                    else ('1\n' if name == 'merge_across_nodes' else '%d\n' % (int(current) + 1))
                )
                expect_write(name, changed, 'EBUSY', None)
    finally:
        for name, value in saved.items():
            if name == 'run':
                continue
            if read(name).strip() != value:
                write(name, value + '\n')
        write('run', saved['run'] + '\n')
    failed = results.count(False)
    print('%d checks, %d failed' % (len(results), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())

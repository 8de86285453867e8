#!/usr/bin/env bash
# Install the Debian packages the tests and the demo need, only those missing.
# fuse3/libfuse3-3: the simulated host's sysfs is a FUSE filesystem (tests/simhost).
# python3-minimal: /usr/bin/python3, which the unprivileged-user tests run as nobody.
# systemd: systemctl --root and systemd-analyze verify for the boot unit (systemd need not run).
# qemu-system-x86, qemu-utils, mmdebstrap, e2fsprogs, openssh-client: the real-kernel guest (tests/vm).
# gcc, make: the UKSM emulator module, built against the guest kernel's headers (tests/uksm_emulator).
# chromium: renders the fleet report headless and screenshots it (tests/integration/targets/report).
# The shellcheck program: ansible-test sanity's shellcheck test, skipped without it.
#
# Another apt run (unattended-upgrades on any real host) may hold apt's locks: this waits for it,
# saying who holds them, up to SETUP_APT_LOCK_TIMEOUT seconds (600), then fails naming the holder.
# `apt-get -o DPkg::Lock::Timeout` alone does not do it: `apt-get update` fails at once on the
# lists lock. SETUP_APT_LOCKS overrides the lock files (tests only).
set -euo pipefail
packages=(fuse3 libfuse3-3 systemd python3-minimal qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client gcc make chromium shellcheck)
lock_timeout=${SETUP_APT_LOCK_TIMEOUT:-600}
read -r -a locks <<<"${SETUP_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock}"

# "process PID (COMMAND) on FILE" for a process holding one of the lock files, or nothing. apt takes
# them with fcntl(F_SETLK); F_GETLK names the holder without taking the lock (/proc/locks does not
# list them in every sandbox).
lock_holder() {
  python3 - "${locks[@]}" <<'PYTHON'
import fcntl, os, struct, sys

for path in sys.argv[1:]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        continue
    try:
        found = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 0, 0, 0))
    except OSError:
        continue
    finally:
        os.close(fd)
    kind, _, _, _, pid = struct.unpack('hhqqi', found)
    if kind != fcntl.F_UNLCK:
        try:
            with open('/proc/%d/comm' % pid) as comm:
                name = comm.read().strip()
        except OSError:
            name = 'gone'
        print('process %d (%s) on %s' % (pid, name, path))
        break
PYTHON
}

# Wait until no one holds apt's locks; fail after the deadline.
wait_for_apt() {
  local holder said=''
  while holder=$(lock_holder) && [ -n "$holder" ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "setup-host: $holder still holds apt's lock after ${lock_timeout} s; try again when it is done" >&2
      exit 1
    fi
    if [ -z "$said" ]; then
      echo "setup-host: waiting up to ${lock_timeout} s for $holder to release apt's lock" >&2
      said=1
    fi
    sleep 2
  done
  if [ -n "$said" ]; then echo "setup-host: apt's lock is free" >&2; fi
}

# Run an apt-get command, waiting for the locks before it and again if another run takes them in between.
apt_get() {
  while true; do
    wait_for_apt
    if apt-get -o DPkg::Lock::Timeout=5 "$@"; then return 0; fi
    if [ -z "$(lock_holder)" ] || [ "$(date +%s)" -ge "$deadline" ]; then return 1; fi
  done
}

# --pythons: the Pythons of .python-version (pyenv's file), which make test needs every one of (the demo only
# the first); run by make test before its gates. pyenv's shims find them (PYENV_DIR: this clone's
# .python-version), else pythonX.Y must be on PATH; Debian 12's packages have none but 3.11. Said at once,
# rather than by nox minutes into make test. SETUP_PYTHON_VERSIONS names another list (tests only).
if [ "${1:-}" = --pythons ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  missing_pythons=()
  while read -r version _; do
    case $version in '' | '#'*) continue ;; esac
    PYENV_DIR=$root "python$version" -c '' 2>/dev/null || missing_pythons+=("$version")
  done <"${SETUP_PYTHON_VERSIONS:-$root/.python-version}"
  if [ ${#missing_pythons[@]} -gt 0 ]; then
    echo "setup-host: Python ${missing_pythons[*]} not found (.python-version); make test needs every one:" \
      "install them with pyenv (pyenv install ${missing_pythons[*]}) or put python${missing_pythons[0]} and the others on PATH" >&2
    exit 1
  fi
  exit 0
fi

if [ "${1:-}" = --wait-only ]; then  # the lock wait alone (tests)
  deadline=$(($(date +%s) + lock_timeout))
  wait_for_apt
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-host: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  deadline=$(($(date +%s) + lock_timeout))
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup-host: installed ${missing[*]}"
fi

#!/usr/bin/env bash
# Install the Debian packages the tests and the demo need, only those missing.
# fuse3/libfuse3-3: the simulated host's sysfs is a FUSE filesystem (tests/simhost).
# python3-minimal: /usr/bin/python3, which the unprivileged-user tests run as nobody.
# systemd: systemctl --root and systemd-analyze verify for the boot unit (systemd need not run).
# qemu-system-x86, qemu-utils, mmdebstrap, e2fsprogs, openssh-client: the real-kernel guest (tests/vm).
# gcc, make: the UKSM emulator module, built against the guest kernel's headers (tests/uksm_emulator).
# chromium: renders the fleet report headless and screenshots it (tests/integration/targets/report).
# The shellcheck program: ansible-test sanity's shellcheck test, skipped without it.
set -euo pipefail
packages=(fuse3 libfuse3-3 systemd python3-minimal qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client gcc make chromium shellcheck)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-host: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  # another apt run (unattended-upgrades) may hold the dpkg lock: wait for it, up to 10 minutes
  lock_wait=(-o DPkg::Lock::Timeout=600)
  apt-get "${lock_wait[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup-host: installed ${missing[*]}"
fi

#!/usr/bin/env bash
# The cached guest image: built once per set of inputs, outside the clone.
# Usage: image.sh dir       print the image directory, building the image first if needed
#        image.sh key       print the cache key (inputs: the build script, the package list,
#                           the host's apt sources and the kernel version apt resolves today)
#        image.sh packages  print the package list
#        image.sh sources   print the apt sources file given to mmdebstrap
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${LITEVIRT_UKSM_CACHE:-$HOME/.cache/litevirt-uksm}"
packages=systemd-sysv,udev,dbus,zstd,python3,openssh-server,linux-image-amd64,initramfs-tools,iproute2,kmod
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list

key() {
  { cat "$here/build-image.sh" "$sources"; echo "$packages"
    apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p'
  } | sha256sum | cut -c1-16
}

case "${1:-dir}" in
  packages) echo "$packages" ;;
  sources) echo "$sources" ;;
  key) key ;;
  dir)
    dir="$cache/images/$(key)"
    if [ ! -f "$dir/.complete" ]; then
      rm -rf "$dir.tmp"
      echo "image.sh: building the guest image in $dir (about 2 minutes)" >&2
      start=$(date +%s)
      "$here/build-image.sh" "$dir.tmp" >&2
      touch "$dir.tmp/.complete"
      rm -rf "$dir"
      mv "$dir.tmp" "$dir"
      echo "image.sh: built in $(( $(date +%s) - start )) s" >&2
    fi
    echo "$dir"
    ;;
  *) echo "usage: image.sh dir|key|packages|sources" >&2; exit 2 ;;
esac

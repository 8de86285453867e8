#!/usr/bin/env bash
# Build a minimal Debian guest image from Debian packages only, with the host's own apt sources.
# Usage: build-image.sh OUTDIR
# Writes OUTDIR/{vmlinuz,initrd.img,root.ext4,id_ed25519,id_ed25519.pub,kernel-release}.
# Why it is made this way (keys baked in, dbus for reboot, networkd without wait-online, a small zstd
# initramfs): tests/vm/README.md, "Why the guest is made this way".
set -euo pipefail
out="${1:?usage: build-image.sh OUTDIR}"
here="$(cd "$(dirname "$0")" && pwd)"
sources="$("$here/image.sh" sources)"
packages="$("$here/image.sh" packages)"
mkdir -p "$out"
root="$out/rootfs"
rm -rf "$root" "$out/id_ed25519" "$out/id_ed25519.pub"
ssh-keygen -q -t ed25519 -N '' -f "$out/id_ed25519" -C litevirt-uksm-test-guest
# the hooks' "$1" is the rootfs, expanded by mmdebstrap, not here
# shellcheck disable=SC2016
mmdebstrap --mode=root --variant=apt --quiet \
  --aptopt='APT::Install-Recommends "false"' \
  --include="$packages" \
  --customize-hook='echo test-guest > "$1/etc/hostname"' \
  --customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 test-guest\n" > "$1/etc/hosts"' \
  --customize-hook='printf "/dev/vda / ext4 errors=remount-ro 0 1\n" > "$1/etc/fstab"' \
  --customize-hook='mkdir -p "$1/etc/systemd/network" && printf "[Match]\nName=en*\n\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/20-wired.network"' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd' \
  --customize-hook='chroot "$1" systemctl mask systemd-networkd-wait-online.service' \
  --customize-hook="mkdir -m700 -p \"\$1/root/.ssh\" && cp '$out/id_ed25519.pub' \"\$1/root/.ssh/authorized_keys\" && chmod 600 \"\$1/root/.ssh/authorized_keys\"" \
  --customize-hook='chroot "$1" passwd -d root >/dev/null' \
  --customize-hook='printf "MODULES=list\nCOMPRESS=zstd\n" > "$1/etc/initramfs-tools/conf.d/test-guest.conf"; printf "virtio_pci\nvirtio_blk\nvirtio_net\next4\n" >> "$1/etc/initramfs-tools/modules"; chroot "$1" update-initramfs -u -k all >/dev/null 2>&1' \
  --customize-hook='ls "$1"/etc/ssh/ssh_host_*_key >/dev/null' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  bookworm "$root" "$sources"
cp -L "$root/vmlinuz" "$out/vmlinuz"
cp -L "$root/initrd.img" "$out/initrd.img"
basename "$(ls -d "$root"/lib/modules/*)" > "$out/kernel-release"
size=$(( $(du -sm "$root" | cut -f1) * 3 / 2 + 256 ))
mkfs.ext4 -q -F -L root -d "$root" "$out/root.ext4" "${size}M"
rm -rf "$root"

#!/usr/bin/env bash
# Build uksm_emu.ko for one Debian kernel release, on the host, from Debian's own header packages.
#
#   tests/uksm_emulator/build.sh KERNEL_RELEASE OUTDIR      e.g. build.sh 6.1.0-56-amd64 /tmp/out
#
# The release of the guest kernel is what `apt-cache depends linux-image-amd64` names
# (linux-image-6.1.0-NN-amd64 -> 6.1.0-NN-amd64). Nothing is assumed on the machine except
# apt: gcc and make are installed when missing, and the three header packages are downloaded with
# `apt-get download` into ${LITEVIRT_UKSM_CACHE:-$HOME/.cache/litevirt-uksm}/headers/<release>/
# (reused when present) and unpacked there with `dpkg -x`. The module is built in a temporary copy
# of this directory, so the work tree stays clean; only uksm_emu.ko is copied to OUTDIR.
set -euo pipefail

usage() { echo "usage: $0 KERNEL_RELEASE OUTDIR   (KERNEL_RELEASE like 6.1.0-56-amd64)" >&2; exit 2; }
die() { echo "build.sh: $*" >&2; exit 1; }

REL=${1:-}; OUT=${2:-}
if [ -z "$REL" ] || [ -z "$OUT" ]; then usage; fi
[[ $REL =~ ^([0-9]+)\.([0-9]+)\.[0-9]+-[0-9]+(-[a-z0-9]+)*-amd64$ ]] \
    || die "unexpected kernel release '$REL' (want e.g. 6.1.0-56-amd64)"
MAJMIN="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"   # 6.1         -> linux-kbuild-6.1
ABI=${REL%-amd64}                                # 6.1.0-56    -> linux-headers-6.1.0-56-common

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${LITEVIRT_UKSM_CACHE:-$HOME/.cache/litevirt-uksm}
HDIR=$CACHE/headers/$REL
ROOT=$HDIR/root
KDIR=$ROOT/usr/src/linux-headers-$REL

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# 1. Tools: the host gcc (Debian 12's gcc-12 is the compiler the bookworm kernel was built with).
missing=()
command -v make >/dev/null || missing+=(make)
command -v gcc >/dev/null || missing+=(gcc)
[ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
command -v dpkg >/dev/null || die "dpkg not found: this script needs a Debian-like host"
if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# 2. Headers: download and unpack once per release. A lock keeps parallel builds from racing,
#    and a stamp written last marks a complete unpack.
mkdir -p "$HDIR"
exec 9>"$HDIR/.lock"
flock 9
if [ ! -e "$HDIR/.unpacked" ] || [ ! -f "$KDIR/Makefile" ]; then
    PKGS=("linux-headers-$REL" "linux-headers-$ABI-common" "linux-kbuild-$MAJMIN")
    have_all() { for p in "${PKGS[@]}"; do ls "$HDIR/${p}"_*.deb >/dev/null 2>&1 || return 1; done; }
    download() {
        # linux-kbuild-X.Y is shared by every X.Y ABI: take the build of the headers' version when
        # the archive still has it, else its current one.
        local ver
        ver=$(apt-cache show "linux-headers-$REL" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
        (cd "$HDIR" && apt-get download -q "${PKGS[0]}" "${PKGS[1]}") 2>&1 || return 1
        if [ -n "$ver" ] && (cd "$HDIR" && apt-get download -q "${PKGS[2]}=$ver") >/dev/null 2>&1; then
            return 0
        fi
        (cd "$HDIR" && apt-get download -q "${PKGS[2]}") 2>&1
    }
    if ! have_all; then
        rm -f "$HDIR"/*.deb
        if ! out=$(download); then
            # A fresh machine has no package lists yet: update once and retry.
            $SUDO apt-get update -qq
            out=$(download) || { echo "$out" >&2; die "apt-get download ${PKGS[*]} failed"; }
        fi
    fi
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    for p in "${PKGS[@]}"; do
        deb=$(find "$HDIR" -maxdepth 1 -name "${p}_*.deb" | sort -V | tail -n1)
        [ -n "$deb" ] || die "no $p .deb in $HDIR"
        dpkg -x "$deb" "$ROOT"
    done
    [ -f "$KDIR/Makefile" ] || die "$KDIR/Makefile missing after unpacking"
    # The arch package's Makefile includes the -common tree by its absolute /usr/src path.
    sed -i "s|^include /usr/src/|include $ROOT/usr/src/|" "$KDIR/Makefile"
    touch "$HDIR/.unpacked"
fi
flock -u 9

# Is mm_kobj (the parent of /sys/kernel/mm/uksm) exported to GPL modules by this kernel?
grep -qP '^0x[0-9a-f]+\tmm_kobj\tvmlinux\tEXPORT_SYMBOL_GPL' "$KDIR/Module.symvers" \
    || grep -qP '\tmm_kobj\tvmlinux\tEXPORT_SYMBOL' "$KDIR/Module.symvers" \
    || die "mm_kobj is not exported by $REL (see $KDIR/Module.symvers); uksm_emu needs it"

# 3. Build in a temporary copy of the sources.
BUILD=$(mktemp -d "${TMPDIR:-/tmp}/uksm-emu-build.XXXXXX")
trap 'rm -rf "$BUILD"' EXIT
cp "$SRC/uksm_emu.c" "$SRC/Kbuild" "$BUILD/"
log=$BUILD/build.log
if ! make -C "$KDIR" M="$BUILD" modules >"$log" 2>&1; then
    cat "$log" >&2
    die "module build failed"
fi
cat "$log"
# Kbuild prints "warning:" for compiler and modpost warnings; the emulator must build clean.
if grep -E '(^|[^a-z])(warning|error):' "$log" | grep -v 'Skipping BTF generation' >&2; then
    die "the build printed warnings (above)"
fi
mkdir -p "$OUT"
cp "$BUILD/uksm_emu.ko" "$OUT/uksm_emu.ko"
echo "build.sh: $OUT/uksm_emu.ko built for $REL"

#!/usr/bin/env bash
# Run a test guest under QEMU (TCG: the /dev/kvm of these machines is PVM and hangs stock kernels).
# Usage: vm.sh start NAME PORT [IMAGEDIR]   boot a throwaway overlay of the cached image, SSH on 127.0.0.1:PORT
#        vm.sh wait  NAME PORT [SECONDS]    wait until SSH answers (default 300 s)
#        vm.sh ssh   NAME PORT COMMAND...   run a command in the guest as root
#        vm.sh stop  NAME                   power off and delete the overlay
#        vm.sh key   [IMAGEDIR]             print the SSH private key of the image
# The overlay, pid, monitor socket and serial console log are in $LITEVIRT_UKSM_CACHE/run/NAME.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${LITEVIRT_UKSM_CACHE:-$HOME/.cache/litevirt-uksm}"
command="${1:-}"
shift || true

image_dir() { if [ -n "${1:-}" ]; then echo "$1"; else "$here/image.sh" dir; fi; }
run_dir() { echo "$cache/run/${1:?NAME}"; }
ssh_guest() {  # PORT KEY COMMAND...
  local port="$1" key="$2"
  shift 2
  ssh -i "$key" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=3 -o ServerAliveInterval=3 -o ServerAliveCountMax=3 -o LogLevel=ERROR root@127.0.0.1 "$@"
}
# the guest's console is systemd's, in colour: its escape codes are dropped before they reach a log
console_tail() {
  tail -n 25 "$1/console.log" 2>/dev/null | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/^/  console: /' >&2 || true
}

case "$command" in
  start)
    name="${1:?NAME}"; port="${2:?PORT}"; img="$(image_dir "${3:-}")"
    run="$(run_dir "$name")"
    if [ -f "$run/qemu.pid" ] && kill -0 "$(cat "$run/qemu.pid")" 2>/dev/null; then
      echo "vm.sh: $name is already running (pid $(cat "$run/qemu.pid"))" >&2; exit 1
    fi
    rm -rf "$run"; mkdir -p "$run"
    echo "$img" > "$run/image"
    qemu-img create -q -f qcow2 -b "$img/root.ext4" -F raw "$run/overlay.qcow2"
    if ! qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64 -m "${VM_MEMORY:-1024}" -smp 2 \
        -name "$name" -nodefaults -no-user-config -vga none -display none \
        -monitor unix:"$run/mon.sock",server,nowait \
        -chardev file,id=con0,path="$run/console.log" -serial chardev:con0 \
        -kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "root=/dev/vda rw console=ttyS0" \
        -drive file="$run/overlay.qcow2",if=virtio,format=qcow2,cache=unsafe \
        -netdev user,id=n0,hostfwd=tcp:127.0.0.1:"$port"-:22 -device virtio-net-pci,netdev=n0 \
        -device virtio-rng-pci -daemonize -pidfile "$run/qemu.pid" 2> "$run/qemu.err"; then
      echo "vm.sh: QEMU could not start the guest $name: $(cat "$run/qemu.err")" >&2
      echo "vm.sh: is qemu-system-x86 installed (scripts/setup-host.sh) and port $port free?" >&2
      exit 1
    fi
    ;;
  wait)
    name="${1:?NAME}"; port="${2:?PORT}"; timeout="${3:-300}"
    run="$(run_dir "$name")"; key="$(cat "$run/image")/id_ed25519"
    start=$(date +%s)
    until ssh_guest "$port" "$key" true 2>/dev/null; do
      if ! kill -0 "$(cat "$run/qemu.pid" 2>/dev/null)" 2>/dev/null; then
        echo "vm.sh: the guest $name is not running any more" >&2; console_tail "$run"; exit 1
      fi
      if [ $(( $(date +%s) - start )) -ge "$timeout" ]; then
        echo "vm.sh: no SSH from $name on 127.0.0.1:$port after ${timeout} s" >&2; console_tail "$run"; exit 1
      fi
      sleep 0.5
    done
    echo "vm.sh: $name answers SSH after $(( $(date +%s) - start )) s" >&2
    ;;
  ssh)
    name="${1:?NAME}"; port="${2:?PORT}"; shift 2
    ssh_guest "$port" "$(cat "$(run_dir "$name")/image")/id_ed25519" "$@"
    ;;
  stop)
    name="${1:?NAME}"; run="$(run_dir "$name")"
    if [ -f "$run/qemu.pid" ]; then
      pid="$(cat "$run/qemu.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$run"
    ;;
  key)
    echo "$(image_dir "${1:-}")/id_ed25519"
    ;;
  *)
    sed -n '2,9p' "$0" >&2; exit 2 ;;
esac

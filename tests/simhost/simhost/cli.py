"""Command line: ``python -m simhost {create,mount,umount,up,down,serve,show,reboot,status}``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simhost import server
from simhost.control import Control
from simhost.show import show
from simhost.sysroot import create
from simhost.uksm import SUPPORTED_HZ
from simhost.variants import VARIANTS


def _assignment(text: str) -> Any:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("expected KEY=VALUE, got %r" % text)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _create_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", required=True, choices=sorted(VARIANTS), help="kind of host to simulate")
    parser.add_argument(
        "--hz", type=int, default=250, choices=SUPPORTED_HZ, help="kernel tick rate (UKSM jiffy rounding)"
    )
    parser.add_argument("--hang-seconds", type=float, default=5, help="how long a write to a hung UKSM 'run' blocks")
    parser.add_argument(
        "--pages-scanned-pow2",
        type=int,
        nargs="?",
        const=1,
        default=0,
        metavar="B",
        help="UKSM pages_scanned reads 'N * 2^B' (default B=1)",
    )
    parser.add_argument("--active", action="store_true", help="KSM: run=1 and non-zero merge statistics")
    parser.add_argument("--negative-profit", action="store_true", help="KSM: run=1 with a negative general_profit")
    parser.add_argument(
        "--set",
        dest="assignments",
        type=_assignment,
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="override one kernel state value (repeatable), e.g. ema_per_page_time=90000 or eval_round=8",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simhost", description="Simulated UKSM/KSM host over FUSE.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("create", "lay out a sysroot (resets kernel state)"), ("up", "create, then mount")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("sysroot")
        _create_options(sub)
    for name, text in (
        ("mount", "start the FUSE server detached"),
        ("umount", "unmount and stop the server (idempotent)"),
        ("down", "same as umount; files stay"),
        ("serve", "run the FUSE server in the foreground"),
        ("show", "print the host's files and contents"),
        ("reboot", "reset the kernel state to what create made"),
        ("status", "print variant, mount state and kernel state as JSON"),
    ):
        sub = commands.add_parser(name, help=text, aliases=["unmount"] if name == "umount" else [])
        sub.add_argument("sysroot")
    return parser


def _create(args: argparse.Namespace) -> None:
    create(
        args.sysroot,
        args.variant,
        hz=args.hz,
        hang_seconds=args.hang_seconds,
        pages_scanned_pow2=args.pages_scanned_pow2,
        active=args.active,
        negative_profit=args.negative_profit,
        overrides=dict(args.assignments),
    )


def _status(sysroot: str) -> dict[str, Any]:
    return {"mounted": server.is_up(sysroot), "state": Control(sysroot).state()}


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "create":
            _create(args)
        elif args.command == "up":
            server.umount(args.sysroot)
            _create(args)
            server.mount(args.sysroot)
        elif args.command == "mount":
            server.mount(args.sysroot)
        elif args.command in ("umount", "unmount", "down"):
            server.umount(args.sysroot)
        elif args.command == "serve":
            return server.serve(args.sysroot)
        elif args.command == "show":
            show(args.sysroot, sys.stdout)
        elif args.command == "reboot":
            Control(args.sysroot).reboot()
        elif args.command == "status":
            print(json.dumps(_status(args.sysroot), indent=1, sort_keys=True))
    except (server.ServerError, RuntimeError, ValueError, OSError) as exc:
        print("simhost %s: %s" % (args.command, exc), file=sys.stderr)
        return 2
    return 0

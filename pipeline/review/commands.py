"""The review sub-commands of `callqa`: review, users, reviews, calibration."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from pipeline.config import ROOT

DEFAULT_SCORECARD = ROOT / "configs" / "scorecard.yaml"


def add_commands(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "review",
        help="serve the inspectors' review workbench (web, 127.0.0.1)",
        description="Serve the review workbench for OUT: queue, call pages with audio, "
        "decisions. Create accounts first with `callqa users add`.",
    )
    r.add_argument("out", type=Path, help="output folder of `callqa run`")
    r.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    r.add_argument("--port", type=int, default=8000)
    r.add_argument(
        "--audio", type=Path, help="folder of the recordings (default: the input of the last run)"
    )
    r.add_argument("--scorecard", type=Path, default=DEFAULT_SCORECARD)
    r.set_defaults(func=cmd_review)

    u = sub.add_parser("users", help="manage review accounts")
    us = u.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = us.add_parser(
        "add",
        help="create an account, or set a new password and role",
        description="The password is read from a prompt, or from stdin when it is not a "
        "terminal (one line); never from the command line.",
    )
    add.add_argument("name")
    add.add_argument("--role", choices=["inspector", "lead"], required=True)
    add.add_argument(
        "--out", "-o", type=Path, required=True, help="the output folder the accounts belong to"
    )
    add.set_defaults(func=cmd_users_add)
    ls = us.add_parser("list", help="list accounts")
    ls.add_argument("--out", "-o", type=Path, required=True)
    ls.set_defaults(func=cmd_users_list)

    rv = sub.add_parser("reviews", help="review decisions")
    rvs = rv.add_subparsers(dest="reviews_command", required=True, metavar="ACTION")
    ex = rvs.add_parser(
        "export", help="write decisions to OUT/reviews (Parquet, joins findings on id)"
    )
    ex.add_argument("out", type=Path)
    ex.set_defaults(func=cmd_reviews_export)

    c = sub.add_parser("calibration", help="agreement between inspectors on the same calls (kappa)")
    c.add_argument("out", type=Path)
    c.set_defaults(func=cmd_calibration)


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("密码：")
        if getpass.getpass("再次输入密码：") != first:
            raise ValueError("两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users_add(args: argparse.Namespace) -> int:
    from pipeline.review import auth, db

    try:
        user = auth.add_user(db.connect(args.out), args.name, args.role, _password())
    except ValueError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    print(f"已保存账号 {user.name}（{'质检主管' if user.is_lead else '质检员'}）")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from pipeline.review import auth, db

    for u in auth.list_users(db.connect(args.out)):
        print(f"{u.name}\t{u.role}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from pipeline.review.app import serve

    if not (args.out / "calls").is_dir():
        print(f"错误：{args.out} 不是 callqa 的输出文件夹（没有 calls/）", file=sys.stderr)
        return 2
    serve(args.out, args.scorecard, args.host, args.port, args.audio)
    return 0


def cmd_reviews_export(args: argparse.Namespace) -> int:
    from pipeline.review import db, export

    path, n = export.export(db.connect(args.out), args.out)
    print(f"已导出 {n} 条审核决定到 {path}（审核日志：{args.out / 'review_events'}）")
    return 0


def cmd_calibration(args: argparse.Namespace) -> int:
    from pipeline.review import calibration, db, index, quality

    conn = db.connect(args.out)
    index.refresh(conn, args.out)  # so decisions on changed findings are recognised as such
    print(calibration.report_text(calibration.report(conn)))
    print(quality.text(quality.by_item(conn)))
    return 0

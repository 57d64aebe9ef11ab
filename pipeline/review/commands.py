"""The review sub-commands of `callqa`: review, users, reviews, calibration."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from pipeline.config import ROOT

DEFAULT_SCORECARD = ROOT / "configs" / "scorecard.yaml"


def sessions_defaults():  # imported lazily: `callqa --help` must not load the web stack
    from pipeline.review.sessions import Options

    return Options()


def add_commands(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "review",
        help="serve the inspectors' review workbench (web, 127.0.0.1)",
        description="Serve the review workbench for OUT: queue, call pages with audio, "
        "decisions. Create accounts first with `callqa users add`. For a team on other "
        "machines use --https (certificate and key) or a reverse proxy with --proxy-headers "
        "--forwarded-allow-ips (README, section Security).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  callqa review OUT                                   # this machine only\n"
        "  callqa review OUT --host 0.0.0.0 --https --cert c.pem --key k.pem\n"
        "  callqa review OUT --uds /run/callqa/review.sock --proxy-headers "
        "--forwarded-allow-ips '*'   # behind nginx",
    )
    r.add_argument("out", type=Path, help="output folder of `callqa run`")
    r.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    r.add_argument("--port", type=int, default=8000)
    r.add_argument(
        "--uds", type=Path, help="listen on this Unix socket instead (a proxy on the same machine)"
    )
    r.add_argument(
        "--https", action="store_true", help="serve HTTPS itself, with --cert and --key (PEM files)"
    )
    r.add_argument("--cert", type=Path, help="TLS certificate chain (PEM), with --https")
    r.add_argument("--key", type=Path, help="TLS private key (PEM), with --https")
    r.add_argument(
        "--proxy-headers",
        action="store_true",
        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips (default: trust none)",
    )
    r.add_argument(
        "--forwarded-allow-ips",
        default="",
        metavar="IPS",
        help="comma-separated addresses of the reverse proxy; '*' only with --uds",
    )
    defaults = sessions_defaults()
    r.add_argument(
        "--idle-hours",
        type=float,
        default=defaults.idle_s / 3600,
        help=f"end a session after this long without a request (default: {defaults.idle_s / 3600:g})",
    )
    r.add_argument(
        "--session-days",
        type=float,
        default=defaults.absolute_s / 86400,
        help=f"end every session this long after its login (default: {defaults.absolute_s / 86400:g})",
    )
    r.add_argument(
        "--audio", type=Path, help="folder of the recordings (default: the input of the last run)"
    )
    r.add_argument("--scorecard", type=Path, default=DEFAULT_SCORECARD)
    r.set_defaults(func=cmd_review)

    u = sub.add_parser(
        "users",
        help="manage review accounts (add, list, disable, enable, sign-out)",
        description="Accounts of the review workbench, kept in OUT/review.db (mode 0600). "
        "A new password, disabling an account or sign-out ends its sessions at once, "
        "even while `callqa review` runs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  callqa users add zhang --role inspector --out OUT   # new account, or a new password\n"
        "  callqa users disable zhang --out OUT                # left the team: no more logins\n"
        "  callqa users sign-out --all --out OUT               # everyone logs in again",
    )
    us = u.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = us.add_parser(
        "add",
        help="create an account, or set a new password and role (ends its sessions)",
        description="The password is read from a prompt, or from stdin when it is not a "
        "terminal (one line); never from the command line. Re-adding an existing name sets "
        "its new password and role and signs it out everywhere.",
    )
    add.add_argument("name")
    add.add_argument("--role", choices=["inspector", "lead"], required=True)
    add.add_argument(
        "--out", "-o", type=Path, required=True, help="the output folder the accounts belong to"
    )
    add.set_defaults(func=cmd_users_add)
    ls = us.add_parser("list", help="list accounts, whether disabled, and live sessions")
    ls.add_argument("--out", "-o", type=Path, required=True)
    ls.set_defaults(func=cmd_users_list)
    for verb, what in (("disable", "refuse its logins and end its sessions"),
                       ("enable", "allow a disabled account to log in again")):
        d = us.add_parser(verb, help=f"{what}", description=f"{what[0].upper()}{what[1:]}.")
        d.add_argument("name")
        d.add_argument("--out", "-o", type=Path, required=True)
        d.set_defaults(func=cmd_users_disable, disable=verb == "disable")
    so = us.add_parser(
        "sign-out",
        help="end the sessions of NAME, or of everyone with --all",
        description="End sessions now (a lost laptop, a shared password): the next request "
        "of those browsers goes to the login page.",
    )
    so.add_argument("name", nargs="?")
    so.add_argument("--all", action="store_true", help="every account's sessions")
    so.add_argument("--out", "-o", type=Path, required=True)
    so.set_defaults(func=cmd_users_sign_out)

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

    conn = db.connect(args.out)
    live = dict(conn.execute("SELECT user, COUNT(*) FROM sessions GROUP BY user").fetchall())
    for u in auth.list_users(conn):
        state = "disabled" if u.disabled else f"{live.get(u.name, 0)} session(s)"
        print(f"{u.name}\t{u.role}\t{state}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from pipeline.review import auth, db

    if not auth.set_disabled(db.connect(args.out), args.name, args.disable):
        print(f"错误：没有账号 {args.name}（callqa users list 列出所有账号）", file=sys.stderr)
        return 2
    print(f"已停用 {args.name}，它的登录会话已全部结束" if args.disable else f"已启用 {args.name}")
    return 0


def cmd_users_sign_out(args: argparse.Namespace) -> int:
    from pipeline.review import auth, db, sessions
    from pipeline.review.db import transaction

    if bool(args.name) == bool(args.all):
        print("错误：请给出一个用户名，或者用 --all 让所有人退出登录", file=sys.stderr)
        return 2
    conn = db.connect(args.out)
    if args.name and auth.get_user(conn, args.name) is None:
        print(f"错误：没有账号 {args.name}（callqa users list 列出所有账号）", file=sys.stderr)
        return 2
    if args.all:
        n = sessions.end_all(conn)
    else:
        with transaction(conn):
            n = sessions.end_user(conn, args.name)
    print(f"已结束 {n} 个登录会话")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from pipeline.review.app import Listen, serve
    from pipeline.review.sessions import Options

    if not (args.out / "calls").is_dir():
        print(f"错误：{args.out} 不是 callqa 的输出文件夹（没有 calls/）", file=sys.stderr)
        return 2
    if args.https != bool(args.cert or args.key) or (args.https and not (args.cert and args.key)):
        print("错误：--https 需要同时给出 --cert（证书）和 --key（私钥）", file=sys.stderr)
        return 2
    if not (0 < args.idle_hours <= 24 * 365 and 0 < args.session_days <= 365):
        print("错误：--idle-hours 和 --session-days 必须是正数（最多一年）", file=sys.stderr)
        return 2
    listen = Listen(args.host, args.port, args.uds, args.cert, args.key, args.proxy_headers,
                    args.forwarded_allow_ips.strip())
    opts = Options(idle_s=args.idle_hours * 3600, absolute_s=args.session_days * 86400)
    try:
        serve(args.out, args.scorecard, listen, args.audio, opts)
    except ValueError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
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

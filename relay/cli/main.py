"""``relay``: the command line. Every verb takes ``-c/--config`` (default ./relay.yaml).

Bad input ends with one readable line on stderr and a non-zero exit (2 for configuration and
usage errors, 1 for anything else the relay refuses), never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from relay import __version__
from relay.config import Config, load_config
from relay.errors import ConfigError, RelayError, UsageError
from relay.model import QueueState

EXIT_USAGE = 2
EXIT_FAILURE = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"relay: error: {message} (see relay --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="relay", description="Outbound SMTP compliance relay.")
    parser.add_argument("--version", action="version", version=f"relay {__version__}")
    config_help = "configuration file (default ./relay.yaml)"
    parser.add_argument("-c", "--config", type=Path, default=Path("relay.yaml"), help=config_help)
    # Accepted after the verb and its action too (`relay queue list -c x.yaml`); the last one wins.
    common = _Parser(add_help=False)
    common.add_argument("-c", "--config", type=Path, default=argparse.SUPPRESS, help=config_help)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)

    verbs.add_parser("serve", parents=[common], help="run the relay")
    verbs.add_parser("check-config", parents=[common], help="validate the configuration and exit")

    queue = verbs.add_parser("queue", parents=[common], help="inspect and manage the spool")
    queue_verbs = queue.add_subparsers(
        dest="queue_verb", required=True, metavar="ACTION", parser_class=_Parser
    )
    listing = queue_verbs.add_parser("list", parents=[common], help="list queued messages")
    listing.add_argument("--state", choices=[s.value for s in QueueState])
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = queue_verbs.add_parser("show", parents=[common], help="show one message's envelope and status")
    show.add_argument("queue_id")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    queue_verbs.add_parser("flush", parents=[common], help="retry every deferred message now")
    for action, text in (
        ("hold", "stop delivering a message until released"),
        ("release", "release a held or quarantined message"),
        ("delete", "delete a message without notice to anyone"),
        ("bounce", "return a message to its sender (DSN, headers only)"),
    ):
        queue_verbs.add_parser(action, parents=[common], help=text).add_argument("queue_id")

    policy = verbs.add_parser("policy", parents=[common], help="validate, test and explain policies")
    policy_verbs = policy.add_subparsers(
        dest="policy_verb", required=True, metavar="ACTION", parser_class=_Parser
    )
    check = policy_verbs.add_parser(
        "check", parents=[common], help="validate the policy files and run their tests"
    )
    check.add_argument("directory", nargs="?", type=Path, help="policy directory (default: policies)")
    check.add_argument("-v", "--verbose", action="store_true", help="show each passing test's decision")
    explain = policy_verbs.add_parser(
        "explain", parents=[common], help="show how the policy decides one message"
    )
    explain.add_argument("message", type=Path, help="the message, as an .eml file")
    explain.add_argument("--from", dest="mail_from", required=True, help="envelope sender (<> for none)")
    explain.add_argument("--to", dest="rcpt_to", action="append", required=True, help="a recipient (repeat)")
    explain.add_argument("--client-ip", default="127.0.0.1", help="the sending client's address")
    explain.add_argument("--user", help="the authenticated SMTP user, if any")
    explain.add_argument("--policies", type=Path, help="policy directory (default: policies)")
    explain.add_argument("--json", action="store_true", help="machine-readable output")
    explain.add_argument(
        "--no-phi",
        action="store_true",
        help="do not run the PHI scanner (seconds to load); the message counts as PHI-free",
    )

    phi = verbs.add_parser("phi", parents=[common], help="scan for PHI and measure detection accuracy")
    phi_verbs = phi.add_subparsers(dest="phi_verb", required=True, metavar="ACTION", parser_class=_Parser)
    scan = phi_verbs.add_parser(
        "scan", parents=[common], help="the PHI findings of a message (values masked)"
    )
    scan.add_argument("path", type=Path, help="an .eml file, or with --jsonl one {id, text} object per line")
    scan.add_argument("--jsonl", action="store_true", help="plain texts in, one JSON result per line out")
    evaluate = phi_verbs.add_parser(
        "eval", parents=[common], help="precision, recall and F1 on a labeled corpus"
    )
    evaluate.add_argument("corpus", type=Path, help="JSON lines: {text, spans: [{start, end, label}]}")

    audit = verbs.add_parser("audit", parents=[common], help="verify and search the audit log")
    audit_verbs = audit.add_subparsers(
        dest="audit_verb", required=True, metavar="ACTION", parser_class=_Parser
    )
    verify = audit_verbs.add_parser(
        "verify", parents=[common], help="prove the log unedited, or name the first bad record"
    )
    verify.add_argument(
        "--key",
        dest="keys",
        action="append",
        type=Path,
        default=[],
        help="public (or signing) key to check seals with; repeat for older keys",
    )
    search = audit_verbs.add_parser(
        "search", parents=[common], help="records about an address, message or time span"
    )
    search.add_argument("--recipient")
    search.add_argument("--sender")
    search.add_argument("--queue-id")
    search.add_argument("--since", help="YYYY-MM-DD or an ISO 8601 time (UTC)")
    search.add_argument("--until", help="YYYY-MM-DD (whole day) or an ISO 8601 time (UTC)")
    search.add_argument("--kind", help="accepted, decision, delivered, deferred, bounced, ...")
    search.add_argument("--limit", type=int, default=1000, help="at most this many records (0: all)")
    search.add_argument("--json", action="store_true", help="JSON lines")
    keygen = audit_verbs.add_parser(
        "keygen", parents=[common], help="write a seal signing key (and a hash key)"
    )
    keygen.add_argument("path", type=Path)
    keygen.add_argument("--hash-key", type=Path, help="also write an HMAC key for the hash privacy modes")
    keygen.add_argument("--force", action="store_true", help="overwrite existing files")
    audit_verbs.add_parser("prune", parents=[common], help="delete files past audit.retention_days")

    user = verbs.add_parser("user", parents=[common], help="manage SMTP AUTH users")
    user_verbs = user.add_subparsers(dest="user_verb", required=True, metavar="ACTION", parser_class=_Parser)
    add = user_verbs.add_parser("add", parents=[common], help="add a user or change a password")
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    tls = verbs.add_parser("tls", parents=[common], help="TLS tools")
    tls_verbs = tls.add_subparsers(dest="tls_verb", required=True, metavar="ACTION", parser_class=_Parser)
    selfsigned = tls_verbs.add_parser(
        "selfsigned", parents=[common], help="write a self-signed certificate for development"
    )
    tls_check = tls_verbs.add_parser(
        "check", parents=[common], help="live preflight: MX, STARTTLS, certificates, MTA-STS, DANE"
    )
    tls_check.add_argument("domain")
    tls_report = tls_verbs.add_parser(
        "report", parents=[common], help="the TLS-RPT (RFC 8460) report of a day"
    )
    tls_report.add_argument("--date", required=True, help="YYYY-MM-DD (UTC)")
    tls_report.add_argument("--domain", help="only this policy domain")
    tls_report.add_argument(
        "--send",
        action="store_true",
        help="mail each report to its domain's _smtp._tls rua (through this relay) instead of printing",
    )
    selfsigned.add_argument("--cert", type=Path, help="certificate path (default: tls.cert)")
    selfsigned.add_argument("--key", type=Path, help="key path (default: tls.key)")
    selfsigned.add_argument("--hostname", help="name in the certificate (default: hostname)")
    selfsigned.add_argument("--days", type=int, default=365)
    selfsigned.add_argument("--force", action="store_true", help="overwrite existing files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"relay: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RelayError as exc:
        print(f"relay: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.verb == "tls" and args.tls_verb == "selfsigned" and args.cert and args.key:
        return _selfsigned(None, args)  # a dev pair needs no configuration (it may not exist yet)
    config = load_config(args.config)
    if args.verb == "check-config":
        from relay.app import check_startup

        check_startup(config)
        print(f"{config.source}: OK")
        return 0
    if args.verb == "serve":
        return _serve(config)
    if args.verb == "queue":
        return _queue(config, args)
    if args.verb == "user":
        return _user_add(config, args)
    if args.verb == "policy":
        return _policy(config, args)
    if args.verb == "audit":
        return _audit(config, args)
    if args.verb == "phi":
        return _phi(config, args)
    if args.verb == "tls" and args.tls_verb != "selfsigned":
        return _tls(config, args)
    return _selfsigned(config, args)


def _serve(config: Config) -> int:
    from relay import logs, supervisor

    logs.configure(config.log_level)
    return supervisor.run(config)


def _queue(config: Config, args: argparse.Namespace) -> int:
    from relay.cli.queue import QueueAdmin

    admin = QueueAdmin(config)
    try:
        verb = args.queue_verb
        if verb == "list":
            output = admin.list(state=args.state, as_json=args.json)
        elif verb == "show":
            output = admin.show(args.queue_id, as_json=args.json)
        elif verb == "flush":
            output = admin.flush()
        else:
            output = getattr(admin, verb)(args.queue_id)
    finally:
        admin.close()
    print(output)
    return 0


def _policy(config: Config, args: argparse.Namespace) -> int:
    from relay.cli import policy

    internal = frozenset(d.lower() for d in config.internal_domains)
    if args.policy_verb == "check":
        code, text = policy.cmd_check(
            args.directory or config.policies, internal_domains=internal, verbose=args.verbose
        )
    else:
        scan = None
        if config.phi.enabled and not args.no_phi:
            from relay.cli.phi import scan_message

            scan = functools.partial(scan_message, settings=config.phi)
        code, text = policy.cmd_explain(
            args.policies or config.policies,
            args.message,
            args.mail_from,
            args.rcpt_to,
            args.json,
            client_ip=args.client_ip,
            auth_user=args.user,
            scan=scan,
            internal_domains=internal,
        )
    print(text, file=sys.stdout if code != 2 else sys.stderr)
    return code


def _phi(config: Config, args: argparse.Namespace) -> int:
    if args.phi_verb == "eval":
        from relay.cli.phi_eval import cmd_eval

        return cmd_eval(args.corpus, out=sys.stdout, err=sys.stderr, settings=config.phi)
    from relay.cli import phi

    if args.jsonl:
        return phi.scan_jsonl(args.path, out=sys.stdout, err=sys.stderr, settings=config.phi)
    return phi.scan_file(args.path, out=sys.stdout, err=sys.stderr, settings=config.phi)


def _audit(config: Config, args: argparse.Namespace) -> int:
    from relay.cli import audit

    settings = config.audit
    if args.audit_verb == "verify":
        keys = args.keys or ([settings.signing_key] if settings.signing_key else [])
        code, text = audit.cmd_verify(settings.directory, keys)
    elif args.audit_verb == "search":
        code, text = audit.cmd_search(
            settings.directory,
            recipient=args.recipient,
            sender=args.sender,
            queue_id=args.queue_id,
            since=args.since,
            until=args.until,
            kind=args.kind,
            hash_key=settings.hash_key if settings.addresses.value == "hash" else None,
            limit=args.limit,
            as_json=args.json,
        )
    elif args.audit_verb == "keygen":
        code, text = audit.cmd_keygen(args.path, hash_key=args.hash_key, force=args.force)
    else:
        code, text = audit.cmd_prune(settings, actor=f"cli:{getpass.getuser()}")
    print(text)
    return code


def _tls(config: Config, args: argparse.Namespace) -> int:
    from relay.cli import tls

    if args.tls_verb == "check":
        code, text = tls.cmd_check(args.domain, config, settings=config.outbound_tls)
    else:
        code, text = tls.cmd_report(
            args.date, config, settings=config.outbound_tls, domain=args.domain, send=args.send
        )
    if code == EXIT_USAGE:
        text = f"relay: error: {text}"
    print(text, file=sys.stdout if code == 0 else sys.stderr)
    return code


def _user_add(config: Config, args: argparse.Namespace) -> int:
    from relay.audit.admin import record_admin_action
    from relay.audit.events import AuditKind
    from relay.ingress.users import UsersFile, check_name

    if config.auth.users_file is None:
        raise UsageError(f"auth.users_file is not set in {config.source}")
    check_name(args.name)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise UsageError("the passwords do not match")
    UsersFile.add_or_replace(config.auth.users_file, args.name, password)
    record_admin_action(
        config.audit, AuditKind.ADMIN_ACTION, details={"action": "user_add", "user": args.name}
    )
    print(f"{args.name}: saved in {config.auth.users_file}")
    return 0


def _selfsigned(config: Config | None, args: argparse.Namespace) -> int:
    from relay.tls.selfsigned import write_selfsigned

    cert = args.cert or (config.tls.cert if config else None)
    key = args.key or (config.tls.key if config else None)
    if cert is None or key is None:
        raise UsageError("give --cert and --key, or set tls.cert and tls.key in the configuration")
    hostname = args.hostname or (config.hostname if config else socket.getfqdn())
    write_selfsigned(cert, key, hostname=hostname, days=args.days, overwrite=args.force)
    print(f"wrote {cert} and {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``moderation serve|init-db|score|train|evaluate|...``: the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from moderation.core import secrets
from moderation.core.commands import COMMANDS, command, config_from_env, last_resolved, run_with_db
from moderation.core.config import Config

__all__ = ["COMMANDS", "command", "main", "run_with_db"]


@command("serve", "run the HTTP service (embedded Postgres unless DATABASE_URL is set)")
def cmd_serve(args: argparse.Namespace, rest: list[str]) -> int:
    from aiohttp import web

    from moderation.app import create_app
    from moderation.core.observability import configure_logging

    parser = argparse.ArgumentParser(prog="moderation serve")
    parser.add_argument("--host", help="overrides MODERATION_HOST")
    parser.add_argument("--port", type=int, help="overrides MODERATION_PORT")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes sharing the port via SO_REUSEPORT (default 1)")
    opts = parser.parse_args(rest)
    config = config_from_env()
    if opts.host:
        config = config.with_changes(host=opts.host)
    if opts.port is not None:
        config = config.with_changes(port=opts.port)
    configure_logging(config.log_json)
    where = (config.database_url and "DATABASE_URL") or f"embedded Postgres in {config.data_dir / 'postgres'}"
    print(f"moderation: listening on http://{config.host}:{config.port}  (database: {where})", flush=True)
    resolved = last_resolved()
    assert resolved is not None
    for line in secrets.announce(resolved):  # where each secret comes from; never a value (printed above)
        if " generated " not in line:
            print(line, flush=True)
    print(f"moderation: moderators sign in at http://{config.host}:{config.port}/moderate "
          "(create one: moderation create-moderator --email you@example.org --role admin)", flush=True)
    if opts.workers == 1 and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # run under an outer supervisor
        from moderation.core.observability import prepare_multiprocess_dir

        prepare_multiprocess_dir(config.data_dir / "prometheus")
    if opts.workers > 1:
        from moderation.workers import serve_workers

        return serve_workers(config, opts.workers)
    # SIGTERM/SIGINT: stop accepting, finish in-flight requests (up to 10 s), then close every resource
    # (scoring batches, outbox deliveries, pool, embedded Postgres) in reverse order, and exit 0.
    from moderation.core.db import DataDirVersionError
    from moderation.core.migrations import MigrationError

    try:
        web.run_app(create_app(config), host=config.host, port=config.port, print=None,
                    handle_signals=True, shutdown_timeout=10)
    except (MigrationError, DataDirVersionError) as exc:  # refused to start: say why, without a traceback
        print(f"moderation: cannot start: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


@command("init-db", "apply the schema migrations, seed the default word lists, and exit")
def cmd_init_db(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.decisions.rules_cache import seed_default_word_lists

    run_with_db(seed_default_word_lists)  # run_with_db migrates first
    print("schema applied")
    return 0


@command("migrate", "apply pending schema migrations (--status: list them and apply nothing)")
def cmd_migrate(args: argparse.Namespace, rest: list[str]) -> int:
    from moderation.core import migrations

    parser = argparse.ArgumentParser(prog="moderation migrate")
    parser.add_argument("--status", action="store_true", help="list applied and pending migrations; apply nothing")
    opts = parser.parse_args(rest)
    known = migrations.discover()
    try:
        if opts.status:
            state = run_with_db(lambda conn: migrations.status(conn, known), migrate=False)
            for m in known:
                row = state.applied.get(m.version)
                when = row["applied_at"].isoformat(timespec="seconds") if row else None
                print(f"{m.label:40} {'applied ' + when if when else 'pending'}")
            print(f"database {state.database_version}; this code {migrations.code_version(known)}; "
                  f"{len(state.pending)} pending")
            return 0
        applied = run_with_db(lambda conn: migrations.migrate(conn, known), migrate=False)
    except migrations.MigrationError as exc:
        print(f"moderation migrate: {exc}", file=sys.stderr)
        return 1
    for m in applied:
        print(f"applied {m.label}")
    print(f"schema at {migrations.code_version(known)} ({len(applied)} applied now)")
    return 0


@command("score", "score texts with the model and print scores and reasons as JSON")
def cmd_score(args: argparse.Namespace, rest: list[str]) -> int:
    from classifier import load_model
    from moderation.decisions.decide import decide
    from moderation.decisions.payload import attributes_json, scores_json
    from moderation.decisions.scores import from_classifier, signals, thresholds_for

    parser = argparse.ArgumentParser(prog="moderation score")
    parser.add_argument("texts", nargs="+", metavar="TEXT")
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    opts = parser.parse_args(rest)
    config = Config.from_env()
    model = load_model(opts.model or config.model_path)
    thresholds = thresholds_for(config, model.metadata)
    out: list[dict[str, Any]] = []
    for text, raw in zip(opts.texts, model.score(opts.texts), strict=True):
        scored = from_classifier(raw)
        decision = decide(signals(scored), thresholds, premoderation=config.premoderation,
                          unsupported_language=config.unsupported_language)
        out.append({"text": text, "scores": scores_json(scored.spam, scored.abuse),
                    "attributes": attributes_json(scored.attributes), "language": scored.language,
                    "spam_signals": list(scored.spam_signals), "phrases": scored.phrases, "terms": scored.terms,
                    "status": decision.status,
                    "reasons": decision.reasons_json(), "model_version": model.version})
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


@command("train", "train the classifier from ../shared/datasets; --include-decisions adds moderator labels")
def cmd_train(args: argparse.Namespace, rest: list[str]) -> int:
    import tempfile
    from pathlib import Path

    from classifier import train
    from moderation.decisions.learning import export_labels

    rest = list(rest)
    if "--include-decisions" in rest:
        i = rest.index("--include-decisions")
        has_file = i + 1 < len(rest) and not rest[i + 1].startswith("--")
        if not has_file:  # no file given: export the moderators' decisions from the service's database
            path = Path(tempfile.mkdtemp(prefix="labels-")) / "moderator_labels.csv"
            count = run_with_db(lambda conn: export_labels(conn, path))
            print(f"moderation: {count} labels from moderator decisions -> {path}", file=sys.stderr)
            rest.insert(i + 1, str(path))
    return int(train.main(rest) or 0)


@command("model", "model lifecycle: status | shadow DIR | report | promote")
def cmd_model(args: argparse.Namespace, rest: list[str]) -> int:
    from pathlib import Path

    from moderation.decisions import learning

    parser = argparse.ArgumentParser(prog="moderation model")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("status", help="the active and shadow models")
    shadow = sub.add_parser("shadow", help="register a trained model directory as the shadow model")
    shadow.add_argument("dir", type=Path)
    sub.add_parser("report", help="agreement of the shadow with the active model, and what would change")
    sub.add_parser("promote", help="make the shadow model the active one (instances switch on restart)")
    opts = parser.parse_args(rest)
    if opts.action == "status":
        out = run_with_db(learning.registered)
        print(json.dumps({k: {"version": v["version"], "path": v["path"]} for k, v in out.items()} or
                         {"active": "shipped default"}, indent=2, default=str))
    elif opts.action == "shadow":
        version = run_with_db(lambda conn: learning.register_shadow(conn, opts.dir))
        print(f"shadow model {version} registered; restart the service to start shadow scoring")
    elif opts.action == "report":
        print(json.dumps(run_with_db(learning.report), indent=2, default=str))
    else:
        promoted = run_with_db(learning.promote)
        if promoted is None:
            print("no shadow model to promote", file=sys.stderr)
            return 1
        print(json.dumps(promoted["compared"], indent=2, default=str))   # what it was promoted on, per attribute
        print(f"model {promoted['version']} is now active; restart the service to use it")
    return 0


@command("evaluate", "evaluate the classifier on held-out splits and write a report (see --help)")
def cmd_evaluate(args: argparse.Namespace, rest: list[str]) -> int:
    from classifier import evaluate

    return int(evaluate.main(rest) or 0)


def _load_plugins() -> None:
    """Each capability's command module registers its own commands (``core.commands.command``); they are
    imported here, on use, so ``import moderation.cli`` stays cheap."""
    import moderation.compat.cli
    import moderation.core.dbcli
    import moderation.privacy.cli
    import moderation.readers.cli
    import moderation.review.cli  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    parser = argparse.ArgumentParser(prog="moderation", description="Self-hosted comment moderation service")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND",
                        help="; ".join(f"{name}: {text}" for name, (text, _) in sorted(COMMANDS.items())))
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    args, _ = parser.parse_known_args(argv[:1])
    return COMMANDS[args.command][1](args, argv[1:])

"""`python -m tools.ops <command>`: argument parsing and exit codes.

0 ok; 1 not ok (runners not online, a NO-GO, a runner GitHub refused to delete); 2 cannot run;
3 (`stacks`, `expired`) some stack files were skipped, the stacks listed are good to act on — a code of
its own, so a workflow can go ahead with those without also swallowing a crash (Python exits 1).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from components.config import ConfigError
from components.github.rest import GithubApiError, GithubClient
from tools.ops import runners, selection, validate
from tools.ops.selection import Selection
from tools.ops.stack import STACKS_DIR, OpsError, Stack, client_for, github_token, load_stack, pulumi_outputs

REPORTS_DIR = Path("build/reports")


@dataclass(frozen=True)
class Clock:
    """Injected so tests never wait: `sleep` advances what `monotonic` and `utc` report."""

    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    utc: Callable[[], datetime] = lambda: datetime.now(UTC)


def parse_inputs(text: str) -> dict[str, str]:
    """`os_selections=a,b tag_suffix=-x push_to_ghcr=false` -> dict (shell-style quoting allowed)."""
    inputs = {}
    for item in shlex.split(text):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise OpsError(f"input {item!r} is not KEY=VALUE")
        inputs[key] = value
    return inputs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.ops", description=__doc__)
    parser.add_argument("--stacks-dir", type=Path, default=STACKS_DIR, help="where the stack files are")
    parser.add_argument("--api-url", help="GitHub REST root (default: from the stack file)")
    commands = parser.add_subparsers(dest="command", required=True)

    def with_stack(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--stack", required=True)
        return sub

    status = with_stack("status", "the stack's runners as GitHub lists them, beside the stack outputs")
    status.add_argument("--expect-none", action="store_true", help="exit 1 if GitHub lists any runner of the stack")

    wait = with_stack("wait-online", "wait until every runner of the stack is online")
    wait.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    wait.add_argument("--poll", type=float, default=15.0, help="seconds between checks (default 15)")

    check = with_stack("validate", "dispatch a workflow, follow it, write a go/no-go report")
    check.add_argument("--workflow", required=True, help="workflow file name, e.g. build-push-arm64.yml")
    check.add_argument("--inputs", default="", help="KEY=VALUE pairs separated by spaces")
    check.add_argument("--repo", help="owner/name running the workflow (default: the stack's repository)")
    check.add_argument("--ref", default="main")
    check.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for the run (default 3600)")
    check.add_argument("--poll", type=float, default=30.0)
    check.add_argument("--reports-dir", type=Path, default=REPORTS_DIR)

    clean = with_stack("gc", "remove offline runners of the stack that GitHub still lists")
    clean.add_argument("--include-stopped", action="store_true", help="also runners of idle-stopped hosts")
    clean.add_argument("--dry-run", action="store_true")

    for name, help_text in (("stacks", "stacks a change touches, or one/all"), ("expired", "stacks past their TTL")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--github-output", action="store_true", help="append stacks=<json> to $GITHUB_OUTPUT")
        if name == "stacks":
            sub.add_argument("--only", help="this stack ('' = all stacks)")
            sub.add_argument(
                "--reconcile", action="store_true", help="the stacks the schedule refreshes (not `reconcile: false`)"
            )
            sub.add_argument("--changed-from")
            sub.add_argument("--changed-to")
    return parser


#: Exit status of `stacks`/`expired` when some stack files were skipped (the others are listed).
SKIPPED_STACKS = 3


def emit_stacks(selection: Selection, github_output: bool) -> int:
    """Print (and with --github-output append) `stacks=<json>` and `bad=<json>`; report each skipped
    stack file on stderr. Exit status SKIPPED_STACKS when some were skipped."""
    bad = [problem.stack_file for problem in selection.problems]
    lines = ["stacks=" + json.dumps(selection.stacks), "bad=" + json.dumps(bad)]
    if github_output:
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
    print(lines[0])
    for problem in selection.problems:
        print(f"error: {problem.render()}", file=sys.stderr)
    if bad:
        print(f"error: {len(bad)} stack file(s) skipped; the other stacks are listed above", file=sys.stderr)
        return SKIPPED_STACKS
    return 0


def repository_for(stack: Stack, explicit: str | None) -> str:
    github = stack.config.github
    if explicit:
        return explicit
    if github.repository:
        return f"{github.owner}/{github.repository}"
    if github.group_repositories:
        return f"{github.owner}/{github.group_repositories[0]}"
    raise OpsError("an organization stack needs --repo owner/name: the repository whose workflow to dispatch")


def run(args: argparse.Namespace, clock: Clock) -> int:
    if args.command == "stacks":
        if args.reconcile:
            return emit_stacks(selection.reconciled_stacks(args.stacks_dir), args.github_output)
        picked = selection.pick_stacks(args.stacks_dir, args.only, args.changed_from, args.changed_to)
        return emit_stacks(picked, args.github_output)
    if args.command == "expired":
        return emit_stacks(selection.expired_stacks(args.stacks_dir, clock.utc()), args.github_output)

    stack = load_stack(args.stack, args.stacks_dir)
    client = client_for(stack, github_token(stack.name), args.api_url, sleep=clock.sleep)

    if args.command == "status":
        rows = runners.survey(stack, client)
        outputs, note = pulumi_outputs(stack.name)
        print(runners.render_status(stack, rows, outputs, note), end="")
        listed = [r.name for r in rows if r.state != "missing"]
        if args.expect_none and listed:
            print(
                f"GitHub still lists {len(listed)} runner(s) of stack {stack.name}: {', '.join(listed)}",
                file=sys.stderr,
            )
            return 1
        return 0

    if args.command == "wait-online":
        result = runners.wait_online(stack, client, args.timeout, args.poll, clock.sleep, clock.monotonic)
        if result.online:
            print(f"all {len(stack.expected_runners)} runner(s) of stack {stack.name} are online")
            return 0
        missing = ", ".join(f"{name} ({state})" for name, state in sorted(result.not_online.items()))
        print(f"after {result.waited_seconds:.0f} s, not online: {missing}", file=sys.stderr)
        return 1

    if args.command == "gc":
        outcome = runners.gc(stack, client, include_stopped=args.include_stopped, dry_run=args.dry_run)
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{verb} {len(outcome.deleted)} offline runner(s): {', '.join(outcome.deleted) or 'none'}")
        if outcome.kept:
            print(f"kept (in use, or may be an idle-stopped host): {', '.join(outcome.kept)}")
        for name, answer in sorted(outcome.failed.items()):
            print(f"error: GitHub refused to delete runner {name}: {answer}", file=sys.stderr)
        return 1 if outcome.failed else 0

    return run_validate(args, stack, client, clock)


def run_validate(args: argparse.Namespace, stack: Stack, client: GithubClient, clock: Clock) -> int:
    repository = repository_for(stack, args.repo)
    inputs = parse_inputs(args.inputs)
    check = validate.Validation(stack.name, repository, args.workflow, args.ref, inputs, runners.survey(stack, client))
    dispatched_at = clock.utc()
    started = clock.monotonic()
    check.run_id = validate.dispatch(client, repository, args.workflow, args.ref, inputs)
    if check.run_id is None:
        check.run_id = validate.find_run(
            client,
            repository,
            args.workflow,
            args.ref,
            dispatched_at,
            timeout_seconds=min(args.timeout, 300.0),
            poll_seconds=min(args.poll, 10.0),
            sleep=clock.sleep,
            clock=clock.monotonic,
        )
    if check.run_id is not None:
        left = max(0.0, args.timeout - (clock.monotonic() - started))
        validate.follow(
            client, check, timeout_seconds=left, poll_seconds=args.poll, sleep=clock.sleep, clock=clock.monotonic
        )
        check.runners = runners.survey(stack, client)
    validate.judge(check, stack.owns)
    generated = clock.utc()
    args.reports_dir.mkdir(parents=True, exist_ok=True)
    report = args.reports_dir / f"{stack.name}-{generated.strftime('%Y%m%dT%H%M%SZ')}.md"
    report.write_text(validate.render_report(check, generated))
    print(f"{'GO' if check.go else 'NO-GO'}: report written to {report}")
    for reason in check.reasons:
        print(f"  - {reason}")
    return 0 if check.go else 1


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args, clock or Clock())
    except (OpsError, GithubApiError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"error: invalid stack file:\n{error}", file=sys.stderr)
        return 2

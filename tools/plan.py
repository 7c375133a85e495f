"""Offline plan: what `pulumi up` would create for a stack, without a cloud, GitHub or the Pulumi CLI.

Runs the real program under Pulumi's mock engine (realistic invoke answers from tools/mockengine) with
the stack file's config, and prints the resource tree with the properties a reviewer cares about, the
stack outputs, warnings and a cost estimate. Exit status: 0 plan printed, 2 invalid stack (messages only).

    python -m tools.plan [--stack NAME | --stack-file PATH] [--format text|json|markdown]
    python -m tools.plan --stack NAME --cloud-init-dir build/cloud-init/NAME
"""

from __future__ import annotations

import argparse
import base64
import binascii
import gzip
import json
import sys
from pathlib import Path
from typing import Any

from components import pricing
from components.config import ConfigError, read_stack_file
from tools.mockengine import PlanResult, redact, reveal, run_stack

#: The stack `make plan` uses without STACK: the example that shows all three backends.
DEFAULT_STACK = "mixed"
STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"
_MAX_PROPS = 14


def plan(stack_file: Path) -> PlanResult:
    return plan_with_notes(stack_file)[0]


def plan_with_notes(stack_file: Path) -> tuple[PlanResult, list[str]]:
    """The plan and what the offline run stood in for (notes, not warnings: nothing is wrong with the stack)."""
    raw = read_stack_file(stack_file)
    values = dict(raw.values)
    notes = []
    if "github:token" not in values and raw.environments:
        # ESC environments are not resolved offline: stand in a secret, as the environment would supply.
        values["github:token"] = {"secure": "esc"}
        notes.append(
            f"github:token is expected from ESC environment {', '.join(raw.environments)} (not resolved offline)"
        )
    result = run_stack(raw.stack, values, secret_keys=sorted(raw.secret_keys))
    if result.error is not None:
        # Messages name the stack file the user gave, not the conventional path.
        result.error = ConfigError(raw.stack_file, result.error.problems)
    return result, notes + result.infos


def canonical(value: Any) -> Any:
    """The same value with mapping keys sorted and whole-number floats as integers.

    The engine hands every number over as a float (protobuf's Struct); a port or an id reads as 443,
    not 443.0. Sorted keys make the output independent of registration and serialization order.
    """
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_json(result: PlanResult, notes: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """The plan as one JSON-ready document, identical for identical stacks.

    Resources are ordered by parent, type and name (registration order follows asynchronous
    callbacks and changes from run to run); warnings are sorted and each appears once.
    """
    names = {r.urn: r.name for r in result.resources}
    resources = [
        {"type": r.type, "name": r.name, "parent": names.get(r.parent_urn), "inputs": canonical(redact(r.inputs))}
        for r in result.resources
    ]
    resources.sort(key=lambda r: (r["parent"] or "", r["type"], r["name"]))
    outputs = {k: "[secret]" if k in result.secret_outputs else redact(v) for k, v in result.outputs.items()}
    return {
        "stack": result.stack,
        "resources": resources,
        "outputs": canonical(outputs),
        "warnings": sorted(set(result.warnings)),
        "notes": list(notes),
        "cost": canonical(pricing.to_dict(cost)) if (cost := cost_estimate(result)) is not None else None,
    }


def cost_estimate(result: PlanResult) -> Any:
    """The stack's estimated monthly cost (components.pricing), or None for an invalid stack."""
    from components import pricing

    return pricing.estimate(result.config) if result.config is not None else None


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(key path, leaf) pairs; nested mappings are walked, lists of mappings are walked per item."""
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = []
        for key, inner in value.items():
            items.extend(_flatten(inner, f"{prefix}.{key}" if prefix else key))
        return items
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        items = []
        for i, inner in enumerate(value):
            items.extend(_flatten(inner, f"{prefix}[{i}]"))
        return items
    return [(prefix, value)]


def _compact(value: Any, top: bool = True) -> str:
    """One line for a value: `key=value` pairs for a mapping ({…} when nested), [a,b] for a list,
    strings bare unless they hold spaces."""
    if isinstance(value, dict):
        pairs = " ".join(f"{k}={_compact(v, False)}" for k, v in value.items() if v not in (None, [], {}, ""))
        return pairs if top else "{" + pairs + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(v, False) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value) if (" " in value or not value) else value
    return json.dumps(value)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 72 else text[:69] + "..."


def _is_rule_list(key: str, value: Any) -> bool:
    """Firewall rules (security-group ingress/egress, OCI security-list rules): always shown, one line each."""
    return "gress" in key.lower() and isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _property_lines(inputs: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(rule lines, other property lines) of one resource's inputs."""
    rules: list[str] = []
    props: list[str] = []
    for key, value in inputs.items():
        if _is_rule_list(key, value):
            rules += [f"{key}[{i}]: {_compact(rule)}" for i, rule in enumerate(value)] or [f"{key}: none"]
        else:
            props += [f"{k}: {_short(v)}" for k, v in _flatten(value, key) if v not in (None, [], {})]
    return rules, props


def render_text(doc: dict[str, Any]) -> str:
    lines = [f"Offline plan for stack '{doc['stack']}' (mock engine: nothing is created)", ""]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for res in sorted(doc["resources"], key=lambda r: (r["type"], r["name"])):
        children.setdefault(res["parent"], []).append(res)

    def walk(parent: str | None, depth: int) -> None:
        indent = "   " * depth
        for res in children.get(parent, []):
            lines.append(f" +  {indent}{res['type']}  {res['name']}")
            rules, props = _property_lines(res["inputs"])
            lines.extend(f"    {indent}     {line}" for line in props[:_MAX_PROPS])
            if len(props) > _MAX_PROPS:
                lines.append(f"    {indent}     … {len(props) - _MAX_PROPS} more (FORMAT=json shows all)")
            lines.extend(f"    {indent}     {line}" for line in rules)
            walk(res["name"], depth + 1)

    walk(None, 0)
    lines += ["", f"Resources: + {len(doc['resources'])} to create", "", "Outputs:"]
    for key, value in doc["outputs"].items():
        lines.append(f"    {key}: {json.dumps(value, indent=None)}")
    if doc["warnings"]:
        lines += ["", "Warnings:", *(f"    warning: {w}" for w in doc["warnings"])]
    if doc.get("notes"):
        lines += ["", "Notes:", *(f"    note: {n}" for n in doc["notes"])]
    return "\n".join(lines)


def render_markdown(doc: dict[str, Any], cost_markdown: str = "") -> str:
    counts: dict[str, int] = {}
    for res in doc["resources"]:
        counts[res["type"]] = counts.get(res["type"], 0) + 1
    lines = [f"### Offline plan: `{doc['stack']}`", "", "| resource type | to create |", "|---|---|"]
    lines += [f"| `{t}` | {n} |" for t, n in sorted(counts.items())]
    lines += ["", f"**{len(doc['resources'])} resources**", ""]
    if cost_markdown:
        lines += [cost_markdown, ""]
    if doc["warnings"]:
        lines += ["**Warnings**", "", *(f"- {w}" for w in doc["warnings"]), ""]
    if doc.get("notes"):
        lines += ["**Notes**", "", *(f"- {n}" for n in doc["notes"]), ""]
    lines += ["<details><summary>Full plan</summary>", "", "```", render_text(doc), "```", "</details>"]
    return "\n".join(lines)


def decode_user_data(value: str) -> str:
    """user-data as a reviewer reads it: base64 and gzip undone where applied."""
    data = value.encode()
    try:
        data = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return value
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    try:
        return data.decode()
    except UnicodeDecodeError:
        return value


def user_data_documents(result: PlanResult) -> dict[str, str]:
    """resource name -> rendered user-data, for every resource that carries one."""
    docs: dict[str, str] = {}
    tokens = {str(v) for r in result.resources for k, v in reveal(r.outputs).items() if k == "token" and v}
    for res in result.resources:
        for key, value in _flatten(reveal(res.inputs)):
            leaf = key.rsplit(".", 1)[-1]
            if leaf in ("userData", "userDataBase64", "user_data") and isinstance(value, str):
                text = decode_user_data(value)
                for token in tokens:
                    text = text.replace(token, "[redacted]")
                docs[res.name] = text
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"stack name in stacks/ (default {DEFAULT_STACK})")
    parser.add_argument("--stack-file", type=Path, help="a stack file anywhere (overrides --stack)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    parser.add_argument("--cloud-init-dir", type=Path, help="write each instance's user-data here instead")
    args = parser.parse_args(argv)
    stack_file = args.stack_file or STACKS_DIR / f"Pulumi.{args.stack}.yaml"
    if not stack_file.exists():
        known = ", ".join(sorted(p.name[7:-5] for p in STACKS_DIR.glob("Pulumi.*.yaml")))
        print(f"{stack_file}: no such stack file (stacks: {known})", file=sys.stderr)
        return 2
    try:
        result, notes = plan_with_notes(stack_file)
    except ConfigError as err:
        print(f"invalid stack configuration:\n{err}", file=sys.stderr)
        return 2
    if result.error is not None:
        print(f"invalid stack configuration:\n{result.error}", file=sys.stderr)
        return 2
    if args.cloud_init_dir:
        args.cloud_init_dir.mkdir(parents=True, exist_ok=True)
        for name, text in user_data_documents(result).items():
            (args.cloud_init_dir / f"{name}.yaml").write_text(text)
            print(args.cloud_init_dir / f"{name}.yaml")
        return 0
    doc = to_json(result, notes)
    cost = cost_estimate(result)
    if args.format == "json":
        print(json.dumps(doc, indent=2, sort_keys=False))
    elif args.format == "markdown":
        print(render_markdown(doc, pricing.render_markdown(cost)))
    else:
        print(render_text(doc))
        print("\n" + pricing.render_markdown(cost).replace("### ", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

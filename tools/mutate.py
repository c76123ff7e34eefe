"""Mutation testing of the money and day modules: does the suite notice a changed operator?

    .venv/bin/python tools/mutate.py [--jobs 2] [--json tools/mutation.json] [--only LINE,...]

Each mutant changes one thing in `reconcile/check/amounts.py` or
`reconcile/check/days.py`: an arithmetic, comparison or boolean operator, a
number, a code or outcome string, `min`/`max`, `is_null`/`is_not_null`,
`min_horizontal`/`max_horizontal`. For each, the module is rebuilt from the
mutated source inside long-lived worker processes (started fresh, never
forked: Polars' thread pool does not survive a fork, which is why mutmut,
whose workers are forks, hangs on this code) and the tests that exercise the
money run against it, fastest first, stopping at the first failure:

    tests/test_amounts.py, tests/test_crosscheck.py, tests/test_amounts_property.py,
    tests/test_conformance_rules.py

A mutant is killed when a test fails (or it runs past --timeout seconds),
survives when all pass. Survivors known to be equivalent (they cannot change
any result) are listed in EQUIVALENT with the reason; the score is killed /
(mutants - equivalent). The README's Development section keeps the latest.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = {"reconcile/check/amounts.py": "reconcile.check.amounts", "reconcile/check/days.py": "reconcile.check.days"}
TESTS = ["tests/test_amounts.py", "tests/test_crosscheck.py", "tests/test_amounts_property.py",
         "tests/test_conformance_rules.py"]

# Values worth changing: the words a check decides with (column names are not mutated: a wrong
# name fails at once, which says nothing about the tests).
WORDS = {"paid", "held", "rejected", "hold", "reject", "approved", "adjusted", "partly_approved", "duplicate",
         "tuottaja", "korvaus", "X", "?", "1w", "F007"}
SWAP_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
            ast.Mod: ast.FloorDiv, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
SWAP_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
SWAP_NAME = {"min": "max", "max": "min", "min_horizontal": "max_horizontal", "max_horizontal": "min_horizontal",
             "is_null": "is_not_null", "is_not_null": "is_null", "any": "all", "all": "any"}

# Survivors that cannot change any result, by (module, line, description), with the reason.
EQUIVALENT: dict[tuple[str, int, str], str] = {
    ("reconcile/check/amounts.py", 50, "0 -> 1"):
        "an empty meals or compensation cell claims nothing (claimed_exprs), and approved and held are "
        "capped by the claim, so counting it as 1 cannot change an amount",
    ("reconcile/check/days.py", 29, "4 -> 5"):
        "the register refuses a decision for more than 4 days a week (schemas Decisions.days_per_week le=4), "
        "so min(days per week, WEEK_LIMIT) never reaches the constant",
    ("reconcile/check/amounts.py", 59, "Sub -> Add"):
        "held meals are capped by what is left of the claim, (meals - meals paid) x price, so the wider "
        "min(meals + meals paid, H') never shows",
    ("reconcile/check/amounts.py", 63, "Sub -> Add"):
        "the same cap for meal compensation: (days - days paid) x price is left of the claim",
    ("reconcile/check/amounts.py", 110, "0 -> 1"):
        "whole_rows decides every row as a whole: paid days are then 0 and nothing is approved whatever "
        "days_paid_raw says",
    ("reconcile/check/days.py", 108, "0 -> 1"):
        "hours are empty only on cells already decided (V105): 0 or 1 hour are both under the minimum anyway",
    ("reconcile/check/days.py", 178, "Or -> And"):
        "a day finding's cell has an owning row (else it is R223 before the checks), whose decision id "
        "is the cell's own, spelled as the register spells it",
    ("reconcile/check/days.py", 178, "'R222' -> 'XXR222XX'"):
        "an R222 cell has no date (it is not a day of the month), so the finding's date is empty either way",
    ("reconcile/check/days.py", 182, "0 -> 1"):
        "a checked day's row has a decision from the register, whose day value is required: never empty",
    ("reconcile/check/days.py", 61, "True -> False"):
        "unique(keep='first') keeps each group's first row either way; only the order of the owner frame "
        "changes, and it is only joined",
}


@dataclass
class Mutant:
    module: str
    index: int  # the n-th mutation site of the module
    line: int
    what: str
    outcome: str = ""  # killed / survived / timeout
    by: str = ""  # the first failing test
    seconds: float = 0.0


class _Sites(ast.NodeTransformer):
    """Walks a module; with `target` None it lists the sites, else it mutates the target-th."""

    def __init__(self, target: int | None = None):
        self.target = target
        self.count = 0
        self.sites: list[tuple[int, str]] = []

    def _site(self, node: ast.AST, what: str) -> bool:
        here = self.count
        self.count += 1
        if self.target is None:
            self.sites.append((node.lineno, what))
        return here == self.target

    def visit_FunctionDef(self, node):  # annotations are never evaluated: not mutated
        node.returns = None
        for a in node.args.args + node.args.kwonlyargs:
            a.annotation = None
        if ast.get_docstring(node):
            node.body = node.body[1:] or [ast.Pass()]
        return self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is None:
            return node
        node.value = self.visit(node.value)
        return node

    def visit_Expr(self, node):  # a bare string is a docstring or a comment
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node
        return self.generic_visit(node)

    def visit_BinOp(self, node):
        self.generic_visit(node)
        new = SWAP_BIN.get(type(node.op))
        if new and self._site(node, f"{type(node.op).__name__} -> {new.__name__}"):
            node.op = new()
        return node

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._site(node, f"{type(node.op).__name__} -> {new.__name__}"):
            node.op = new()
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Invert, ast.Not, ast.USub)) and self._site(node, f"drop {type(node.op).__name__}"):
            return node.operand
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            new = SWAP_CMP.get(type(op))
            if new and self._site(node, f"{type(op).__name__} -> {new.__name__}"):
                node.ops[i] = new()
        return node

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            if self._site(node, f"{v} -> {not v}"):
                return ast.copy_location(ast.Constant(not v), node)
        elif isinstance(v, int):
            if self._site(node, f"{v} -> {v + 1}"):
                return ast.copy_location(ast.Constant(v + 1), node)
        elif isinstance(v, str) and (v in WORDS or (len(v) == 4 and v[0] in "FRVX" and v[1:].isdigit())):
            if self._site(node, f"{v!r} -> 'XX{v}XX'"):
                return ast.copy_location(ast.Constant(f"XX{v}XX"), node)
        return node

    def visit_Name(self, node):
        new = SWAP_NAME.get(node.id)
        if new and isinstance(node.ctx, ast.Load) and self._site(node, f"{node.id} -> {new}"):
            return ast.copy_location(ast.Name(new, node.ctx), node)
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        new = SWAP_NAME.get(node.attr)
        if new and self._site(node, f".{node.attr} -> .{new}"):
            node.attr = new
        return node


def sites(path: str) -> list[tuple[int, str]]:
    walker = _Sites()
    walker.visit(ast.parse((ROOT / path).read_text(encoding="utf-8")))
    return walker.sites


def mutated(path: str, index: int):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    tree = _Sites(index).visit(copy.deepcopy(tree))
    ast.fix_missing_locations(tree)
    return compile(tree, str(ROOT / path), "exec", flags=0, dont_inherit=True)


class _Timeout(Exception):
    pass


def _first_failure(report: str) -> str:
    for line in report.splitlines():
        if line.startswith("FAILED ") or line.startswith("ERROR "):
            return line.split()[1]
    return ""


def worker(mutants: list[dict], timeout: int) -> None:
    """Runs in a fresh process: each mutant swapped into its module, the tests run in-process."""
    import importlib

    import pytest

    os.chdir(ROOT)
    modules = {path: importlib.import_module(name) for path, name in MODULES.items()}
    originals = {path: compile((ROOT / path).read_text(encoding="utf-8"), str(ROOT / path), "exec") for path in MODULES}

    def alarm(*_):
        raise _Timeout

    signal.signal(signal.SIGALRM, alarm)
    args = [*TESTS, "-x", "-q", "-rfE", "-p", "no:cacheprovider", "--no-header", "-W", "ignore"]
    for m in mutants:
        mutant = Mutant(**m)
        module = modules[mutant.module]
        started = time.perf_counter()
        out = io.StringIO()
        try:
            exec(mutated(mutant.module, mutant.index), module.__dict__)
            signal.alarm(timeout)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                code = pytest.main(args)
            signal.alarm(0)
            mutant.outcome = "survived" if code == 0 else "killed"
            mutant.by = _first_failure(out.getvalue())
        except _Timeout:
            mutant.outcome, mutant.by = "timeout", ""
        finally:
            signal.alarm(0)
            exec(originals[mutant.module], module.__dict__)
        mutant.seconds = round(time.perf_counter() - started, 1)
        print(json.dumps(asdict(mutant)), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--json", type=Path, default=ROOT / "tools" / "mutation.json")
    parser.add_argument("--only", help="mutants to run, as module:index,... (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--survivors", action="store_true",
                        help="run again only the survivors of the last run (in --json), and update it")
    parser.add_argument("--report", action="store_true", help="recompute the summary of --json and stop")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(Path(args.worker).read_text(encoding="utf-8")), args.timeout)
        return 0
    if args.report:
        return report([Mutant(**m) for m in json.loads(args.json.read_text(encoding="utf-8"))["mutants"]], args.json)
    mutants = [Mutant(path, i, line, what) for path in MODULES for i, (line, what) in enumerate(sites(path))]
    earlier: dict[tuple[str, int], Mutant] = {}
    if args.survivors:
        last = json.loads(args.json.read_text(encoding="utf-8"))["mutants"]
        earlier = {(m["module"], m["index"]): Mutant(**m) for m in last}
        if [(m.module, m.index, m.line, m.what) for m in mutants] != \
                [(m.module, m.index, m.line, m.what) for m in earlier.values()]:
            raise SystemExit("The modules changed since the last run: run them all again.")
        mutants = [m for m in mutants if earlier[(m.module, m.index)].outcome == "survived"
                   and (m.module, m.line, m.what) not in EQUIVALENT]
    if args.only:
        wanted = set(args.only.split(","))
        mutants = [m for m in mutants if f"{m.module}:{m.index}" in wanted]
    if args.list:
        for m in mutants:
            print(f"{m.module}:{m.index}  line {m.line}  {m.what}")
        return 0
    shards = [mutants[k::args.jobs] for k in range(args.jobs)]
    procs = []
    for k, shard in enumerate(shards):
        plan = args.json.with_suffix(f".plan{k}")
        plan.write_text(json.dumps([asdict(m) for m in shard]), encoding="utf-8")
        procs.append((plan, subprocess.Popen([sys.executable, __file__, "--worker", str(plan), "--timeout",
                                              str(args.timeout)], stdout=subprocess.PIPE, text=True, cwd=ROOT)))
    results = []
    for plan, proc in procs:
        for line in proc.stdout:
            m = Mutant(**json.loads(line))
            results.append(m)
            print(f"{len(results):4}/{len(mutants)} {m.outcome:8} {m.module}:{m.line} {m.what} ({m.seconds} s)",
                  flush=True)
        proc.wait()
        plan.unlink()
    if earlier:
        earlier.update({(m.module, m.index): m for m in results})
        results = list(earlier.values())
    results.sort(key=lambda m: (m.module, m.index))
    return report(results, args.json)


def report(results: list[Mutant], path: Path) -> int:
    """Score the results, write them to `path`, print the summary and the survivors."""
    equivalent = [m for m in results if m.outcome == "survived" and (m.module, m.line, m.what) in EQUIVALENT]
    survived = [m for m in results if m.outcome == "survived" and m not in equivalent]
    killed = len(results) - len(survived) - len(equivalent)
    score = killed / max(1, len(results) - len(equivalent))
    summary = {"mutants": len(results), "killed": killed, "equivalent": len(equivalent), "survived": len(survived),
               "score": round(100 * score, 1)}
    path.write_text(json.dumps({"summary": summary, "mutants": [asdict(m) for m in results]}, indent=1,
                               ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(summary))
    for m in survived:
        print(f"survived: {m.module}:{m.line} {m.what}")
    return 0 if not survived else 1

if __name__ == "__main__":
    sys.exit(main())

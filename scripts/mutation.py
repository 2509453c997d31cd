"""Mutation testing on demand: ``python -m scripts.mutation [MODULE ...] [--jobs N]``.

Runs mutmut (``[tool.mutmut]`` in pyproject.toml: the modules it may mutate and their fast
tests) on the modules named (``latest``, ``rfi_spider/archive/latest.py`` or
``rfi_spider.archive.latest``; default: every module of ``only_mutate``), then prints each
module's score: the share of its mutants that a test killed. ``--scores`` prints the last
run's table without running anything. Slow (minutes a module): never in CI.

mutmut works on a copy (``mutants/``, not versioned); ``mutmut browse`` or ``mutmut show
NAME`` then show the surviving mutants, each a behaviour no test states.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
# mutmut's exit codes of a mutant's test run, as its ``stats.status_by_exit_code`` reads them.
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # failed, pytest error, timeout, type check
SURVIVED = {0}
NO_TESTS = {5, 33}


def configured_modules() -> list[str]:
    """``only_mutate`` of pyproject.toml's ``[tool.mutmut]``: the modules mutmut may mutate."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["mutmut"]["only_mutate"])


def resolve(name: str, modules: list[str]) -> str:
    """The configured module ``name`` stands for (a path, a dotted name or a stem)."""
    wanted = name.replace(".", "/").removesuffix("/py")
    for module in modules:
        stem = module.removesuffix(".py")
        if wanted in (stem, module) or stem.endswith(f"/{wanted}"):
            return module
    raise SystemExit(f"scripts.mutation: {name!r} is not in [tool.mutmut] only_mutate: {modules}")


def scores(modules: list[str]) -> list[tuple[str, Counter[str]]]:
    """Per module, its mutants counted as killed, survived, no tests or not run."""
    table = []
    for module in modules:
        meta = MUTANTS / f"{module}.meta"
        counts: Counter[str] = Counter()
        if meta.is_file():
            results = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
            for code in results.values():
                if code is None:
                    counts["not run"] += 1
                elif code in KILLED:
                    counts["killed"] += 1
                elif code in SURVIVED:
                    counts["survived"] += 1
                elif code in NO_TESTS:
                    counts["no tests"] += 1
                else:
                    counts["other"] += 1
        table.append((module, counts))
    return table


def render(table: list[tuple[str, Counter[str]]]) -> str:
    """The score table: killed / (killed + survived + no tests), mutants not run apart."""
    lines = [
        f"{'module':45} {'mutants':>7} {'killed':>6} {'survived':>8} {'no tests':>8} "
        f"{'not run':>7}  score"
    ]
    for module, counts in table:
        judged = counts["killed"] + counts["survived"] + counts["no tests"]
        score = f"{100 * counts['killed'] / judged:.0f}%" if judged else "-"
        lines.append(
            f"{module:45} {counts.total():7} {counts['killed']:6} {counts['survived']:8} "
            f"{counts['no tests']:8} {counts['not run']:7}  {score}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.mutation", description=__doc__)
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all configured)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--scores", action="store_true", help="print the last run's scores only")
    args = parser.parse_args(argv)
    configured = configured_modules()
    modules = [resolve(name, configured) for name in args.modules] or configured
    if not args.scores:
        globs = [module.removesuffix(".py").replace("/", ".") + ".*" for module in modules]
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs)]
        done = subprocess.run([*command, *globs], cwd=ROOT, check=False)
        if done.returncode:
            print(f"scripts.mutation: mutmut exited {done.returncode}", file=sys.stderr)
            return done.returncode
    print(render(scores(modules)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Print the mutation score per module from the results of the last ``mutmut run`` (``make mutate``).

Run from the repository root, after ``mutmut run``. The results come from ``mutmut results --all true``
(one line ``<mutant name>: <status>`` per mutant); the modules are those that mutmut mutated
(``[tool.mutmut] only_mutate`` in pyproject.toml). Mutants listed in the "Equivalent mutants" section of
docs/testing.md are left out of the score. See docs/testing.md for how to read the output.

Exit status: 0 when every mutant was checked, 1 when the run is incomplete or mutmut reports a status this
script does not know.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# What each of mutmut 3's statuses means for the score. The tests caught a mutant when they did not pass
# with it: a failing test ("killed"), a test run that hit mutmut's time limit ("timeout"), or a test process
# that died ("segfault": killed by a signal; "suspicious": any other exit code, e.g. an exception in
# pytest itself; "check was interrupted by user": pytest's exit code 2, an error while collecting tests,
# since mutmut's workers ignore Ctrl-C).
CAUGHT = frozenset(
    {"killed", "timeout", "segfault", "suspicious", "check was interrupted by user", "caught by type check"}
)
# Missed: every test passed with the mutant ("survived"), or no unit test reaches its function ("no tests").
MISSED = frozenset({"survived", "no tests"})
# Excluded by a "pragma: no mutate" comment: not a mutant.
NOT_COUNTED = frozenset({"skipped"})
# Not run yet: the run was interrupted.
INCOMPLETE = frozenset({"not checked"})

MUTANT_NAME = re.compile(r"`([\w.ǁ]+__mutmut_\d+)`")
DOCS = Path("docs/testing.md")
EQUIVALENT_HEADING = "## Equivalent mutants"


def mutmut_results(mutmut: str) -> dict[str, str]:
    """Return ``{mutant name: status}`` for every mutant of the last run."""
    out = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True)
    results = {}
    for line in out.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            results[name] = status
    return results


def listed_equivalents(docs: Path) -> set[str]:
    """Return the mutant names listed (in backticks) under the "Equivalent mutants" heading of ``docs``."""
    if not docs.exists():
        return set()
    text = docs.read_text(encoding="utf-8")
    start = text.find(EQUIVALENT_HEADING)
    if start < 0:
        return set()
    section = text[start + len(EQUIVALENT_HEADING) :]
    end = section.find("\n## ")
    return set(MUTANT_NAME.findall(section if end < 0 else section[:end]))


def module_of(mutant: str) -> str:
    """``pkg.mod.x_func__mutmut_3`` or ``pkg.mod.xǁClassǁmethod__mutmut_3`` -> ``pkg.mod``."""
    parts = mutant.split(".")
    for i in range(len(parts) - 1, 0, -1):
        if parts[i].startswith(("x_", "xǁ")):
            return ".".join(parts[:i])
    return mutant.rpartition(".")[0]


def natural(mutant: str) -> tuple[str, int]:
    """Sort ``..._mutmut_10`` after ``..._mutmut_9``."""
    function, _, number = mutant.rpartition("__mutmut_")
    return function, int(number)


@dataclass
class Score:
    """One module's verdicts."""

    module: str
    caught: int = 0
    missed: list[str] = field(default_factory=list)  # mutant names, the "no tests" ones marked
    equivalent: int = 0
    unchecked: int = 0

    @property
    def total(self) -> int:
        return self.caught + len(self.missed)

    def row(self, width: int) -> str:
        score = f"{100 * self.caught / self.total:.1f}%" if self.total else "-"
        counts = f"{self.caught:>6} / {self.total:<6}"
        return f"{self.module:<{width}}  {counts}  {score:>6}  {len(self.missed):>6}  {self.equivalent:>10}"


def scores(results: dict[str, str], equivalents: set[str]) -> list[Score]:
    """Count each module's verdicts; listed equivalents that survived are left out of its total."""
    by_module: dict[str, Score] = {}
    for name in sorted(results, key=natural):
        status = results[name]
        score = by_module.setdefault(module_of(name), Score(module_of(name)))
        if status in CAUGHT:
            score.caught += 1
        elif status in MISSED and name in equivalents:
            score.equivalent += 1
        elif status in MISSED:
            score.missed.append(name + ("  (no tests)" if status == "no tests" else ""))
        elif status in INCOMPLETE:
            score.unchecked += 1
    return [by_module[m] for m in sorted(by_module)]


def report(results: dict[str, str], equivalents: set[str], show_survivors: bool = True) -> int:
    """Print the survivors and the score table; return the exit status."""
    unknown = sorted(set(results.values()) - CAUGHT - MISSED - NOT_COUNTED - INCOMPLETE)
    if unknown:
        print(f"mutmut reported statuses this script does not know: {unknown}; classify them in {__file__}")
        return 1
    modules = scores(results, equivalents)

    print("Mutation testing of the unit tests (make mutate; how to read this: docs/testing.md)")
    print(
        "Caught = a test failed with the mutant, timed out or crashed (mutmut: killed, timeout, segfault,\n"
        "suspicious). Missed = every test passed (survived) or no unit test reaches the code (no tests).\n"
        f"Mutants listed as equivalent in {DOCS} are left out of the score."
    )
    if show_survivors:
        for score in modules:
            if score.missed:
                print(f"\nSurvivors in {score.module} ({len(score.missed)}; show one: mutmut show NAME)")
                print("\n".join(f"  {name}" for name in score.missed))

    total = Score("all")
    for score in modules:
        total.caught += score.caught
        total.missed += score.missed
        total.equivalent += score.equivalent
        total.unchecked += score.unchecked
    width = max(len(score.module) for score in [total, *modules])
    print(f"\n{'module':<{width}}  {'caught / total':<15}  {'score':>6}  {'missed':>6}  {'equivalent':>10}")
    for score in [*modules, total]:
        print(score.row(width))

    stale = sorted(n for n in equivalents if results.get(n) not in MISSED)
    if stale:
        print(f"\nListed as equivalent in {DOCS} but no survivor of this run (killed, renumbered, gone):")
        print("\n".join(f"  {name}: {results.get(name, 'no such mutant')}" for name in stale))
    if total.unchecked:
        print(f"\nIncomplete: {total.unchecked} mutants not checked (run interrupted): run make mutate.")
        return 1
    return 0


def write_diffs(mutmut: str, results: dict[str, str], equivalents: set[str], path: Path) -> None:
    """Write ``mutmut show`` of every missed mutant (equivalents included) to ``path``."""
    names = sorted((n for n, s in results.items() if s in MISSED), key=lambda n: (module_of(n), natural(n)))
    with path.open("w", encoding="utf-8") as out:
        for name in names:
            shown = subprocess.run([mutmut, "show", name], capture_output=True, text=True, check=True).stdout
            out.write(shown.rstrip("\n") + ("  [listed as equivalent]\n" if name in equivalents else "\n"))
            out.write("\n")
    print(f"\nWrote the diff of {len(names)} survivors to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    parser.add_argument("--mutmut", default=mutmut, help="the mutmut command (default: %(default)s)")
    parser.add_argument("--no-survivors", action="store_true", help="print the score table only")
    parser.add_argument("--diffs", type=Path, metavar="FILE", help="also write every survivor's diff to FILE")
    args = parser.parse_args(argv)

    if not Path("mutants").is_dir():
        print("No mutants/ directory: run `make mutate` (or `mutmut run`) first.")
        return 1
    results = mutmut_results(args.mutmut)
    if not results:
        print("mutmut has no results: run `make mutate` (or `mutmut run`) first.")
        return 1
    equivalents = listed_equivalents(DOCS)
    status = report(results, equivalents, show_survivors=not args.no_survivors)
    if args.diffs:
        write_diffs(args.mutmut, results, equivalents, args.diffs)
    return status


if __name__ == "__main__":
    sys.exit(main())

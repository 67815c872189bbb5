"""The mutation score from mutmut's result files (run after `mutmut run`, from the project folder).

Prints the count of each status and the score: killed / (killed + survived), mutants that no test
reaches counted apart (they are coverage gaps, not weak assertions).  With --survivors, lists the
surviving mutants by module.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

from mutmut.stats import status_by_exit_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--survivors", action="store_true", help="list the surviving mutants")
    parser.add_argument("--folder", type=Path, default=Path("mutants"))
    arguments = parser.parse_args()
    statuses: Counter[str] = Counter()
    survivors: dict[str, list[str]] = defaultdict(list)
    for meta in sorted(arguments.folder.rglob("*.py.meta")):
        module = ".".join(meta.relative_to(arguments.folder).with_suffix("").with_suffix("").parts)
        for mutant, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            status = status_by_exit_code[code]
            statuses[status] += 1
            if status == "survived":
                survivors[module].append(mutant)
    for status, count in statuses.most_common():
        print(f"{status:>12}: {count}")
    judged = statuses["killed"] + statuses["survived"] + statuses["timeout"]
    if judged:
        killed = statuses["killed"] + statuses["timeout"]  # a mutant that hangs the tests is caught too
        print(f"score: {killed}/{judged} = {killed / judged:.1%} of the mutants the tests reach")
    if arguments.survivors:
        for module, names in survivors.items():
            print(f"\n{module}: {len(names)} survived")
            for name in names:
                print(f"  {name}")


if __name__ == "__main__":
    main()

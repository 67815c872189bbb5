"""What the two corpus tests (scalar and matrix) share: print the counts and every problem that is not
ok, then fail on a wrong result or a crash, on too many refusals, or on a refusal that is not one line."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

Outcome = tuple[Any, str, str]  # (problem, "ok" | "wrong" | "crash" | "refused", detail)


def report_and_check(
    outcomes: Sequence[Outcome],
    heading: str,
    name_of: Callable[[Any], str],
    max_refused: float,
    capsys: Any,
    more: Sequence[str] = (),
) -> None:
    counts = Counter(kind for _, kind, _ in outcomes)
    with capsys.disabled():
        print(f"\n{heading}: {dict(counts)}")
        for problem, kind, detail in outcomes:
            if kind != "ok":
                print(f"  {kind}: {name_of(problem)}: {detail}")
        for line in more:
            print(f"  {line}")
    bad = [(name_of(problem), kind, detail) for problem, kind, detail in outcomes if kind in ("wrong", "crash")]
    assert not bad
    refused = [detail for _, kind, detail in outcomes if kind == "refused"]
    assert len(refused) <= max_refused * len(outcomes)
    for message in refused:
        assert "\n" not in message and len(message) < 400, message

"""GIL101: found only at run time, by `gil-advisor trace`. Message fields: worker, threads, held."""
from gil_advisor.rulebook.rule import Example, Rule

RULE = Rule(
    code="GIL101",
    name="gil-bound-threads-seen-at-run-time",
    summary="threads measured GIL-bound at run time that the static analysis did not report",
    message="`{worker}` ran on {threads} threads and held or waited for the GIL {held} of the time, "
    "which the static analysis did not report; use processes (ProcessPoolExecutor) instead",
    what="Two or more threads that ran the same function at once and "
    "spent most of their time holding or waiting for the GIL, where `gil-advisor check` reported nothing "
    "for that function. The evidence is the measurement: the hottest lines, the time shares, the threads.",
    why="The static analysis stays silent when it cannot see the work: a worker that calls into a "
    "third-party package, code reached through dynamic dispatch, or a thread pool made in a way it does "
    "not recognise. The measurement does not depend on reading the code, so these threads get the same "
    "advice as a static finding.",
    known_problems="Only what the traced run exercised is seen: a code path the run did not take is not "
    "measured, and a short run gives little evidence.",
    reported_at="the worker's definition",
    invalid=(
        Example(
            """
            from concurrent.futures import ThreadPoolExecutor
            import some_pure_python_parser  # third-party: not analysed statically

            with ThreadPoolExecutor(max_workers=8) as pool:
                trees = list(pool.map(some_pure_python_parser.parse, documents))
            """,
            "runtime-only: `check` cannot see into the parser, `trace` measures it holding the GIL",
        ),
    ),
    valid=(
        Example(
            """
            from concurrent.futures import ProcessPoolExecutor
            import some_pure_python_parser

            if __name__ == "__main__":
                with ProcessPoolExecutor() as pool:
                    trees = list(pool.map(some_pure_python_parser.parse, documents, chunksize=16))
            """,
            "runtime-only: processes, each with its own GIL",
        ),
    ),
    remedies=(
        "The remedies of GIL001 or GIL002, whichever the measured hottest lines show: processes first, then "
        "native code that releases the GIL, then an interpreter without a shared GIL.",
    ),
    confirm="this code is itself the measurement: it is attached to runtime findings only",
    runtime_only=True,
)

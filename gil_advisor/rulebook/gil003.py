"""GIL003: a busy-wait loop in code that runs on a thread. Message fields: function."""
from gil_advisor.rulebook.rule import Example, Rule

RULE = Rule(
    code="GIL003",
    name="busy-wait-in-thread",
    summary="a thread spins in a busy-wait loop, burning the GIL other threads need",
    message="busy-wait loop in `{function}`, which runs on a thread: it spins holding the GIL "
    "and slows every other thread; wait on a threading.Event or Condition instead",
    what="A `while` loop whose body is only `pass`, `continue`, `...` or a string, in a function that runs "
    "on a thread (the worker itself or a helper it calls, up to `max-depth` calls deep). Unlike the other "
    "rules, **one** thread is enough.",
    why="A loop such as `while not done: pass` never blocks, so the spinning thread asks for "
    "the GIL every switch interval and every other thread — including the one that is "
    "supposed to set the flag — runs slower. Wait on a "
    "threading.Event, Condition or queue instead: they block with the GIL released.",
    known_problems="Does not fire when the loop condition itself blocks (`while not stop.wait(0.1): pass`), "
    "when the body sleeps or does anything else (`while q.empty(): time.sleep(0.005)`), for `for` loops, "
    "or for loops in code that does not run on a thread.",
    reported_at="the `while`",
    invalid=(
        Example(
            """
            import threading

            done = False

            def wait_for_done():
                while not done:
                    pass

            threading.Thread(target=wait_for_done).start()
            """
        ),
    ),
    valid=(
        Example(
            """
            import threading

            done = threading.Event()

            def wait_for_done():
                done.wait()

            threading.Thread(target=wait_for_done).start()
            """
        ),
    ),
    remedies=(
        "Block instead of spinning: `event.wait()`, a `Condition`, or `queue.get()` block on a lock with "
        "the GIL released (Modules/_threadmodule.c; Lib/queue.py, Lib/threading.py). If you must poll, "
        "`time.sleep()` in the loop body releases the GIL between checks (Modules/timemodule.c `pysleep`).",
    ),
    confirm="the spinning function ran on a thread and held the GIL while other threads waited for it",
)

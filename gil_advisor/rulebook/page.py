"""The parts of docs/rules.md that belong to no single rule; explain.markdown() adds the rules."""

TITLE = "Rules"

INTRO = """\
gil-advisor reports these codes. Each finding names the place where the work is handed to
threads (the *spawn*), the function the threads run (the *worker*), a chain of evidence
from the spawn down to the code that holds the GIL, a confidence, and remedies in order.
`gil-advisor explain CODE` prints the same bad and good examples as this page. GIL0xx codes come
from `gil-advisor check` (and the flake8 plugin); GIL1xx codes from `gil-advisor trace` alone.
"""

SPAWN_TABLE = "SPAWN_TABLE"  # replaced by the table generated from static/spawn_forms.py

GENERAL = """\
## Why threads and the GIL do not mix

CPython's global interpreter lock (GIL) lets one thread run Python bytecode at a time.
A thread that waits for the GIL asks the holder to drop it after the *switch interval*,
5 ms by default (`DEFAULT_INTERVAL 5000` µs in Python/ceval_gil.c; What's New 3.2). The
holder notices only when it returns to the bytecode loop, so "the actual value can be
higher, especially if long-running internal functions or methods are used" (sys docs,
`setswitchinterval`): a long C call that keeps the GIL stalls every other thread, I/O
threads included, until it returns. Which thread runs next is the operating system's
choice; the interpreter has no scheduler of its own (sys docs).

This has two costs:

- **No speedup.** N threads doing pure-Python or GIL-holding work take as long as one
  thread, often longer, because they hand the lock back and forth.
- **Latency for everyone else (the convoy effect).** An I/O thread drops the GIL for each
  system call. When the call returns, a CPU-bound thread usually holds the GIL, so the I/O
  thread can wait a whole interval (about 5 ms) before it can force a switch — bpo-7946,
  "Convoy effect with I/O bound threads and New GIL" (D. Beazley, 2010). No scheduler fix
  was merged (bpo-7946 msg223110). Measured on CPython 3.11–3.13: a loopback echo went
  from about 15 µs to as much as 4.5 ms per round trip beside one CPU-bound thread.

Calls that *release* the GIL (blocking I/O, `time.sleep`, hashlib on large buffers, zlib,
most NumPy operations...) do run in parallel on threads; gil-advisor does not flag them.
See [knowledge.md](knowledge.md) for how calls are classified and
[remedies.md](remedies.md) for what to use instead of threads.

## When a spawn counts as "several threads at once"

GIL001, GIL002 and GIL004 fire only when two or more threads can run the worker at the
same time. The analyzer decides this from the code around the spawn:

SPAWN_TABLE

Process pools (`ProcessPoolExecutor`, `multiprocessing.Pool`) and
`concurrent.futures.InterpreterPoolExecutor` are never flagged: each worker has its own
GIL. Neither is `run_in_executor` with an executor the analyzer cannot identify as a thread
pool, nor a pool or executor with a single worker thread.

The pool behind a spawn may be made elsewhere: kept in an attribute (set in any method; when
one branch makes a thread pool and another a process pool, the thread pool counts), returned
by a factory, passed in as a parameter (the callers' arguments and the default are looked
at), or a pool *class* kept in a class attribute (`POOL_TYPE = multiprocessing.dummy.Pool`,
set in a subclass), returned by a factory, or wrapped in `functools.partial`, and called
later.

A spawn that runs one thread or task per call of its function, outside any loop, also counts
when that function is called in a loop or comprehension (directly, or one caller up; a
decorator's wrapper is called wherever the functions it decorates are), or when the thread
runs a method of its own instance (`Thread(target=self.run)`) and the class is instantiated
in a loop. Not when the function joins its thread or waits for its futures before
returning. This is inferred from code elsewhere. A function called in a loop is usually a job
dispatcher whose workers wait in ways the work estimate does not see (measured on the
corpus), so those findings are `low` confidence; worker objects made in a loop, each running
its own method on its own thread, are a pool of workers that run together: `medium` at most.

## Confidence

Every finding has a confidence: `low`, `medium` or `high`. By default only `medium` and
`high` are reported; change that with `--min-confidence` or `min-confidence`
([configuration.md](configuration.md)).

| confidence | GIL001 / GIL004 (pure-Python work) | GIL002 / GIL004 (GIL-holding calls) |
|---|---|---|
| high | nested loops, a `while` loop, recursion, or a loop that calls a CPU-bound helper | the holding call sits in a loop or comprehension (or in a helper where it does) |
| medium | a single `for` loop or comprehension doing arithmetic or interpreter work | one holding call outside any loop |
| low (hidden by default) | the CPU work sits beside an unknown call, or beside blocking I/O | — |

GIL003 findings are always `high`. Details of the classifier: [knowledge.md](knowledge.md).

## Suppressing a finding

Put `# noqa: GIL001` (several codes: `# noqa: GIL001, GIL002`; case does not matter) or a
bare `# noqa` at the end of the line the finding is reported on:

- GIL001, GIL002, GIL004: the first line of the spawn call — the line with `pool.map(`,
  `Thread(`, `asyncio.to_thread(`. A comment on a continuation line of a multi-line call
  does not count.
- GIL003: the line of the `while`.

```python
with ThreadPoolExecutor(max_workers=4) as pool:
    return list(pool.map(crunch, [30_000] * 4))  # noqa: GIL001
```

A comment that names other codes only (`# noqa: E501`) does not silence gil-advisor.
Under flake8 (`flake8 --select GIL`), flake8 applies `noqa` itself.
"""

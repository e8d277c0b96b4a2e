"""Ranked remedies that fit one worker: what to use instead of threads, with its caveats.

Facts and sources: ../shared/gil-facts.md §4 (processes, subinterpreters, free-threading).
"""
from __future__ import annotations

from typing import Optional

from gil_advisor.finding import Remedy
from gil_advisor.static.classify import CPU, WorkSummary
from gil_advisor.static.resolve import Target
from gil_advisor.static.spawn_forms import SpawnForm

# What to say about GIL-holding C calls, by the module that holds it.
HOLDS_ALTERNATIVES = {
    "re": ("Use the `regex` module", "the third-party `regex` module releases the GIL while matching immutable str/bytes (pass `concurrent=True` to be sure)."),
    "builtins.sorted": ("Sort in NumPy", "numpy.sort on an array of numbers releases the GIL."),
    "json": ("Parse less, or in processes", "orjson and ujson are faster but hold the GIL too: no JSON parser runs in parallel on threads."),
    "pickle": ("Serialise in processes", "no pickle implementation releases the GIL: do the (de)serialisation in worker processes, or pass bytes."),
}
def held_call(work: WorkSummary) -> str:
    """The GIL-holding C call that dominates the worker's time, as the classifier found it, or ""."""
    return work.held_call or ""


def picklability(target: Target) -> Optional[str]:
    """Why a ProcessPoolExecutor cannot pickle this worker as it is, or None if it can."""
    if target.form == "lambda":
        return "a lambda cannot be pickled: move its body into a module-level function"
    if target.form == "nested":
        return "a nested function or closure cannot be pickled: move it to module level and pass what it captures as arguments"
    if target.form == "method" and target.bound_to is not None:
        return (
            f"a bound method pickles its whole `{target.bound_to.rsplit('.', 1)[-1]}` instance: make sure it "
            "holds no locks, sockets, open files or thread pools, or use a module-level function"
        )
    return None


def remedies_for(target: Target, work: WorkSummary, form: SpawnForm, main_guarded: bool) -> list[Remedy]:
    out: list[Remedy] = []
    proc_detail = [form.remedy]
    why_not = picklability(target)
    if why_not:
        proc_detail.append(why_not)
    if target.handle is not None and target.handle.summary.module.split(".")[-1] == "__main__":
        proc_detail.append("workers defined in `__main__` need the script to be importable")
    if not main_guarded:
        proc_detail.append('start the pool under `if __name__ == "__main__":`: spawn and forkserver (the default from 3.14) re-import the main module')
    proc_detail.append("arguments and results are pickled: keep them small")
    out.append(Remedy("processes", "Use processes", "; ".join(proc_detail) + "."))

    if work.kind == CPU:
        out.append(
            Remedy(
                "native",
                "Move the hot loop to native code that releases the GIL",
                "vectorise it with NumPy (array operations over more than ~500 elements release the GIL), "
                "or compile it with numba `@njit(nogil=True)` or Cython `with nogil:`; then threads do run in parallel.",
            )
        )
    else:
        held = held_call(work)
        alt = next((v for k, v in HOLDS_ALTERNATIVES.items() if held == k or held.startswith(k + ".")), None)
        title, detail = alt or (
            "Use a library that releases the GIL",
            "a C call that holds the GIL runs one thread at a time however many threads call it; look for a native library that releases it.",
        )
        out.append(Remedy("native", title, detail))
    out.append(
        Remedy(
            "interpreter",
            "Run on an interpreter without a shared GIL",
            "free-threaded CPython (3.13t experimental, 3.14t supported) runs these threads in parallel if every "
            "extension you import supports it; on 3.14 `concurrent.futures.InterpreterPoolExecutor` gives each "
            "worker its own interpreter and GIL (the callable and its arguments are pickled; not from `__main__`). "
            "PyPy also has a GIL.",
        )
    )
    return out


def spin_remedies() -> list[Remedy]:
    return [
        Remedy(
            "wait",
            "Block instead of spinning",
            "wait on a `threading.Event` (`event.wait()`), a `Condition`, or `queue.get()`: they block with the GIL released. "
            "If you must poll, `time.sleep()` in the loop releases the GIL between checks.",
        )
    ]

"""GIL002: C calls that hold the GIL, on several threads. Message fields: worker, held, threads."""
from gil_advisor.rulebook.rule import Example, Rule

RULE = Rule(
    code="GIL002",
    name="gil-holding-c-calls-in-threads",
    summary="C calls that hold the GIL (json, re, pickle, sorted...) run on several threads and cannot overlap",
    message="`{worker}` spends its time in C calls that hold the GIL ({held}) on several threads ({threads}): "
    "they run one after another; use processes instead",
    what="A worker that spends its time in C-implemented calls that never release the GIL — `json`, `re`, "
    "`pickle`, `marshal`, `struct`, `sorted` / `list.sort`, `copy.deepcopy`, `csv`, `xml.etree`, `decimal`, "
    "`orjson`... ([full list](knowledge.md#holds-c-code-that-keeps-the-gil-for-the-whole-call)) — run on "
    "several threads at once. A C function passed directly as the worker (`pool.map(json.loads, docs)`) "
    "counts too.",
    why="Being written in C does not make a call parallel: code that creates or touches Python objects must "
    "hold the GIL (C API docs, \"Releasing the GIL from extension code\"), and `re` never releases it "
    "(bpo-23690). Measured on CPython 3.11–3.13, a helper thread got no GIL at all during "
    "`json.dumps/loads`, `pickle.dumps/loads`, `struct.unpack`, `sorted`, `re` and ElementTree parsing. "
    "Threads calling them run one after another, and unlike pure Python a long C call does not even yield "
    "every 5 ms, so it also stalls every other thread, I/O threads included, until it returns.",
    known_problems="Does not fire in the same situations as GIL001, and also when the worker mixes "
    "GIL-holding calls with GIL-releasing or unknown calls (the analyzer then cannot tell where the time "
    "goes). A worker that has both a pure-Python loop and holding calls is reported as GIL001.",
    reported_at="the spawn",
    invalid=(
        Example(
            """
            import json
            from concurrent.futures import ThreadPoolExecutor

            def parse_all(lines):
                return [json.loads(line) for line in lines]

            with ThreadPoolExecutor(max_workers=8) as pool:
                parsed = list(pool.map(parse_all, batches))
            """
        ),
    ),
    valid=(
        Example(
            """
            import zlib
            from concurrent.futures import ThreadPoolExecutor

            def pack(blob):
                return zlib.compress(blob, 9)

            with ThreadPoolExecutor(max_workers=8) as pool:
                packed = list(pool.map(pack, blobs))
            """,
            "`zlib.compress` releases the GIL around `deflate()` (Modules/zlibmodule.c), so threads do overlap",
        ),
    ),
    remedies=(
        "Use processes (as for GIL001).",
        "A library that releases the GIL, where one exists: the third-party `regex` module releases the GIL "
        "while matching immutable `str`/`bytes` (regex PyPI description); `numpy.sort` on an array instead of `sorted`. There is no "
        "GIL-free drop-in for `json` (orjson and ujson hold the GIL too — ijl/orjson PR #377 unmerged) or `pickle`: parse in processes, or "
        "parse less.",
        "Free-threaded CPython or `InterpreterPoolExecutor` (3.14).",
    ),
    confirm="two or more threads ran the worker at once and took turns on the GIL inside the held calls",
)

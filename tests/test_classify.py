"""The classifier and the resolver, on small sources, without the rules in the way."""
import textwrap

import pytest

from gil_advisor.knowledge import DEFAULT, Knowledge
from gil_advisor.static.classify import WorkClassifier
from gil_advisor.static.project import Project, summarise_file
from gil_advisor.static.resolve import Resolver


def classifier_for(write, files, knowledge=DEFAULT):
    root = write({k: textwrap.dedent(v) for k, v in files.items()})
    paths = [str(root / k) for k in files]
    project = Project(paths, 10_000_000)
    for p in paths:
        s = summarise_file(p, 10_000_000, require_hint=False)
        project.add(s.module, s)
    resolver = Resolver(project)
    return resolver, WorkClassifier(resolver, knowledge)


def kind_of(write, source, name="work", knowledge=DEFAULT):
    resolver, clf = classifier_for(write, {"m.py": source}, knowledge)
    return clf.classify(resolver.function(f"m.{name}"))


@pytest.mark.parametrize(
    "body,kind",
    [
        ("t = 0\n    for i in range(n):\n        t += i * i\n    return t", "cpu"),
        ("return sum(i * i for i in range(n))", "cpu"),
        ("return [json.loads(x) for x in n]", "holds"),
        ("return json.loads(n)", "holds"),
        ("return re.findall('a+', n)", "holds"),
        ("return hashlib.sha256(n).hexdigest()", "releases"),
        ("for c in n:\n        h.update(c)", "releases"),
        ("return zlib.compress(n)", "releases"),
        ("return numpy.dot(n, n)", "releases"),
        ("time.sleep(n)", "io"),
        ("for u in n:\n        requests.get(u)", "io"),
        ("with open(n) as f:\n        return f.read()", "io"),
        ("for x in n:\n        sdk.process(x)", "unknown"),
        ("return [n.classify(x) for x in range(9)]", "unknown"),  # a client handed in: not evidence
        ("return [str(x).strip().upper() for x in n]", "cpu"),  # builtin methods: interpreter work
        ("return n + 1", "trivial"),
        ("while not q.empty():\n        q.get()", "trivial"),  # waiting for work is neither work nor I/O
    ],
)
def test_function_kinds(write, body, kind):
    src = f"import json, re, hashlib, zlib, numpy, time, requests, sdk\nh = hashlib.sha256()\nq = None\n\ndef work(n):\n    {body}\n"
    assert kind_of(write, src).kind == kind


def test_recursion_is_cpu_with_high_confidence(write):
    s = kind_of(write, "def work(n):\n    return n if n < 2 else work(n - 1) + work(n - 2)\n")
    assert (s.kind, s.confidence) == ("cpu", "high")
    assert any(e.kind == "recursion" for e in s.evidence)


def test_helper_chain_and_depth_limit(write):
    src = """
    def leaf(n):
        t = 0
        for i in range(n):
            for j in range(n):
                t += i ^ j
        return t
    def mid(n):
        return leaf(n)
    def work(n):
        return mid(n)
    """
    resolver, clf = classifier_for(write, {"m.py": src})
    s = clf.classify(resolver.function("m.work"))
    assert s.kind == "cpu"
    assert [e.kind for e in s.evidence] == ["call", "call", "loop"]
    assert s.evidence[-1].location.line == 4
    shallow = WorkClassifier(resolver, DEFAULT, max_depth=1)
    assert shallow.classify(resolver.function("m.work")).kind == "unknown"


def test_numba_nogil_releases(write):
    src = "import numba\n@numba.njit(nogil=True)\ndef work(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"
    assert kind_of(write, src).kind == "releases"


def test_user_knowledge_overrides(write):
    src = "import fastlib\ndef work(xs):\n    for x in xs:\n        fastlib.step(x)\n"
    assert kind_of(write, src).kind == "unknown"
    assert kind_of(write, src, knowledge=Knowledge.with_user_names(holds=["fastlib.*"])).kind == "holds"
    assert kind_of(write, src, knowledge=Knowledge.with_user_names(blocking=["fastlib.step"])).kind == "io"


def test_resolver_follows_reexports_and_relative_imports(write):
    resolver, _ = classifier_for(
        write,
        {
            "pkg/__init__.py": "from .impl import crunch as public_crunch\n",
            "pkg/impl.py": "def crunch(n):\n    return n\n",
            "app.py": "from pkg import public_crunch\n",
        },
    )
    handle = resolver.function("pkg.public_crunch")
    assert handle is not None and handle.full == "pkg.impl.crunch"


def test_resolver_methods_through_bases(write):
    resolver, _ = classifier_for(
        write,
        {"m.py": "import threading\nclass Base(threading.Thread):\n    def run(self):\n        pass\nclass Child(Base):\n    pass\n"},
    )
    assert resolver.method("m.Child", "run").full == "m.Base.run"
    assert resolver.is_thread_class("m.Child")
    assert not resolver.is_thread_class("m.Nope")


def test_knowledge_method_shapes():
    assert DEFAULT.lookup_method("join", 0, frozenset())[0] == "wait"
    assert DEFAULT.lookup_method("join", 1, frozenset())[0] == "python"  # ",".join(parts)
    assert DEFAULT.lookup_method("get", 1, frozenset())[0] == "python"  # dict.get(key)
    assert DEFAULT.lookup_method("get", 0, frozenset({"timeout"}))[0] == "wait"
    assert DEFAULT.lookup("json.loads")[0] == "holds"
    assert DEFAULT.lookup("some.unknown") is None


def test_the_held_call_is_a_field_not_prose(write):
    s = kind_of(write, "def work(n):\n    return [json.loads(x) for x in n]\n" .replace("def work", "import json\n\ndef work"))
    assert (s.kind, s.held_call) == ("holds", "json.loads")
    assert s.estimate.held_c >= 0.9 * s.estimate.held


def test_a_consumer_loop_is_judged_by_its_work_not_by_its_wait(write):
    src = """
import queue

def crunch(n):
    t = 0
    for i in range(n):
        for j in range(n):
            t += i * j
    return t

def busy(q):
    while True:
        n = q.get()
        crunch(n)

def idle(q, out):
    while True:
        out.append(q.get())
"""
    assert kind_of(write, src, "busy").kind == "cpu"
    assert kind_of(write, src, "idle").kind == "trivial"


def test_io_balance_beats_a_little_arithmetic(write):
    src = """
import urllib.request

def download(url):
    done = 0
    with urllib.request.urlopen(url) as resp:
        while True:
            chunk = resp.read(65536)
            if not chunk:
                break
            done += len(chunk) * 100 // 7
    return done
"""
    s = kind_of(write, src, "download")
    assert s.kind == "io" and s.estimate.held_share < 0.25


def test_allocating_an_array_is_not_native_work(write):
    # np.empty/np.zeros and generator set-up run no kernel: the Python loop filling the
    # array is the work (before, the allocation counted as a whole-input native call)
    src = """
        import numpy as np

        def work(n, rng_seed):
            rng = np.random.default_rng(rng_seed)
            out = np.zeros(n)
            for k in range(n):
                out[k] = (k * 7 + 3) % 11
            return out
    """
    assert kind_of(write, src).kind == "cpu"
    assert kind_of(write, src.replace("np.zeros(n)", "np.sort(np.ones(n))")).kind == "releases"


@pytest.mark.parametrize(
    "name,effect",
    [
        ("requests.get", "blocking"),
        ("requests.Session.post", "blocking"),
        ("requests.sessions.Session.send", "blocking"),
        ("requests.Session.get.json", "holds"),  # r = s.get(u); r.json(): json.loads of the body
        ("requests.get.iter_content", "blocking"),
        ("requests.utils.get_encodings_from_content", "python"),
        ("requests.structures.CaseInsensitiveDict", "python"),
        ("urllib3.util.Retry", "python"),
        ("urllib3.PoolManager", "python"),
        ("urllib3.PoolManager.request", "blocking"),
        ("httpx.Client.get", "blocking"),
        ("httpx.URL", "python"),
        ("aiohttp.ClientSession.get", "blocking"),
        ("aiohttp.ClientTimeout", "python"),
        ("boto3.client", "library"),
        ("boto3.client.put_object", "blocking"),
        ("boto3.client.get_paginator", "python"),
        ("mypy_boto3_s3.client.S3Client.put_object", "blocking"),
    ],
)
def test_http_clients_block_only_where_they_send(name, effect):
    assert DEFAULT.lookup(name)[0] == effect

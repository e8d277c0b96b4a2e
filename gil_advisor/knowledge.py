"""What known calls do to the GIL: the one table the classifier reads.

Each entry is (pattern, effect, source). Patterns are fnmatch-style over fully qualified
names ("json.loads", "numpy.*"), or ".name" for a method called on a receiver whose type
the analyzer does not know ("x.recv(...)"). Sources are in ../shared/gil-facts.md and
docs/rules.md; users add their own names through config (see gil_advisor/config.py).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

# Effects
HOLDS = "holds"  # C code that keeps the GIL for the whole call (threads cannot overlap)
RELEASES = "releases"  # native code that releases the GIL while it works
BLOCKING = "blocking"  # I/O or waiting: the GIL is released while blocked
PYTHON = "python"  # cheap builtin or pure-Python helper: counts as interpreter work
NEUTRAL = "neutral"  # bookkeeping (logging, print, thread start): evidence of nothing

S_FACTS = "shared/gil-facts.md"

TABLE: tuple[tuple[str, str, str], ...] = (
    # --- hold the GIL (gil-facts §2) ---
    ("json.*", HOLDS, "Modules/_json.c; gil-facts §2 [M]"),
    ("re.*", HOLDS, "bpo-23690 're functions never release GIL'"),
    ("pickle.*", HOLDS, "Modules/_pickle.c; gil-facts §2 [M]"),
    ("_pickle.*", HOLDS, "Modules/_pickle.c"),
    ("marshal.*", HOLDS, "Python/marshal.c"),
    ("struct.*", HOLDS, "gil-facts §2 [M]"),
    ("builtins.sorted", HOLDS, "gil-facts §2 [M]"),
    ("math.factorial", HOLDS, "gil-facts §2 [M]"),
    ("math.comb", HOLDS, "big-int arithmetic"),
    ("math.perm", HOLDS, "big-int arithmetic"),
    ("decimal.*", HOLDS, "_decimal/libmpdec; gil-facts §2 [M]"),
    ("itertools.product", HOLDS, "gil-facts §2 [M]"),
    ("itertools.permutations", HOLDS, "like itertools.product"),
    ("itertools.combinations", HOLDS, "like itertools.product"),
    ("collections.Counter", HOLDS, "gil-facts §2 [M]"),
    ("copy.deepcopy", HOLDS, "pure Python: Lib/copy.py; gil-facts §2 [M]"),
    ("csv.*", HOLDS, "csv.writer.writerows; gil-facts §2 [M]"),
    ("xml.etree.*", HOLDS, "ElementTree.fromstring; gil-facts §2 [M]"),
    ("xml.dom.*", HOLDS, "pure Python over pyexpat"),
    ("pyexpat.*", HOLDS, "gil-facts §2 [M]"),
    ("xml.parsers.expat.*", HOLDS, "gil-facts §2 [M]"),
    ("orjson.*", HOLDS, "orjson PR #377 unmerged; gil-facts §1 [M]"),
    ("ujson.*", HOLDS, "C code that builds Python objects"),
    ("statistics.*", HOLDS, "pure Python over fractions"),
    ("fractions.*", HOLDS, "pure Python"),
    ("difflib.*", HOLDS, "pure Python"),
    ("base64.*", HOLDS, "binascii holds the GIL except crc32 on large buffers"),
    ("binascii.*", HOLDS, "Modules/binascii.c"),
    (".sort", HOLDS, "list.sort; gil-facts §2 [M]"),
    # --- release the GIL (gil-facts §1) ---
    ("hashlib.*", RELEASES, "Modules/hashlib.h HASHLIB_GIL_MINSIZE: buffers >= 2048 bytes"),
    ("_hashlib.*", RELEASES, "Modules/_hashopenssl.c"),
    ("zlib.*", RELEASES, "Modules/zlibmodule.c zlib_compress_impl"),
    ("gzip.compress", RELEASES, "wraps zlib"),
    ("gzip.decompress", RELEASES, "wraps zlib"),
    ("bz2.*", RELEASES, "Modules/_bz2module.c"),
    ("lzma.*", RELEASES, "Modules/_lzmamodule.c"),
    ("numpy.*", RELEASES, "numpy thread_safety.rst: many operations release the GIL"),
    ("scipy.*", RELEASES, "compiled kernels over numpy arrays"),
    ("numba.*", RELEASES, "only with nogil=True; see gil-facts §1"),
    ("PIL.*", RELEASES, "Pillow ImagingSectionEnter; Pillow #9600"),
    ("cv2.*", RELEASES, "OpenCV releases the GIL around its kernels"),
    ("torch.*", RELEASES, "ATen kernels run without the GIL"),
    ("pandas.*", RELEASES, "pandas 0.17 release notes; .apply(python_fn) does not"),
    ("bcrypt.*", RELEASES, "pyca/bcrypt py.allow_threads; PR #355"),
    ("argon2.*", RELEASES, "argon2-cffi calls through cffi"),
    ("nacl.*", RELEASES, "PyNaCl calls libsodium through cffi"),
    ("cryptography.*", RELEASES, "pyca/cryptography PRs #14370, #15163"),
    ("lxml.*", RELEASES, "lxml FAQ: frees the GIL when parsing"),
    ("regex.*", RELEASES, "regex (mrab) releases the GIL on immutable strings"),
    ("sqlite3.*", BLOCKING, "Modules/_sqlite/cursor.c stmt_step releases the GIL"),
    ("ctypes.*", RELEASES, "CDLL calls release the GIL"),
    # --- I/O and waiting: the GIL is released while blocked (gil-facts §1) ---
    ("time.sleep", BLOCKING, "Modules/timemodule.c pysleep"),
    ("socket.*", BLOCKING, "Modules/socketmodule.c sock_call_ex"),
    ("ssl.*", BLOCKING, "Modules/_ssl.c PySSL_BEGIN_ALLOW_THREADS"),
    ("select.*", BLOCKING, "Modules/selectmodule.c"),
    ("selectors.*", BLOCKING, "select/epoll system calls"),
    ("subprocess.*", BLOCKING, "os.waitpid releases the GIL"),
    ("os.system", BLOCKING, "waits for a child process"),
    ("os.popen", BLOCKING, "waits for a child process"),
    ("os.wait*", BLOCKING, "posixmodule.c os_waitpid_impl"),
    ("os.read", BLOCKING, "Python/fileutils.c _Py_read"),
    ("os.write", BLOCKING, "Python/fileutils.c _Py_write"),
    ("os.fsync", BLOCKING, "system call"),
    ("os.listdir", BLOCKING, "file system"),
    ("os.scandir", BLOCKING, "file system"),
    ("os.walk", BLOCKING, "file system"),
    ("os.stat", BLOCKING, "file system"),
    ("os.remove", BLOCKING, "file system"),
    ("os.unlink", BLOCKING, "file system"),
    ("os.rename", BLOCKING, "file system"),
    ("os.replace", BLOCKING, "file system"),
    ("os.makedirs", BLOCKING, "file system"),
    ("os.path.exists", BLOCKING, "file system"),
    ("os.path.isfile", BLOCKING, "file system"),
    ("os.path.isdir", BLOCKING, "file system"),
    ("os.path.getsize", BLOCKING, "file system"),
    ("shutil.*", BLOCKING, "file copies"),
    ("glob.*", BLOCKING, "file system"),
    ("builtins.open", BLOCKING, "Python/fileutils.c _Py_read/_Py_write"),
    ("builtins.input", BLOCKING, "reads stdin"),
    ("io.open", BLOCKING, "file I/O"),
    ("pathlib.*", BLOCKING, "file system"),
    ("urllib.request.*", BLOCKING, "socket I/O"),
    ("http.client.*", BLOCKING, "socket I/O"),
    ("ftplib.*", BLOCKING, "socket I/O"),
    ("smtplib.*", BLOCKING, "socket I/O"),
    ("poplib.*", BLOCKING, "socket I/O"),
    ("imaplib.*", BLOCKING, "socket I/O"),
    ("telnetlib.*", BLOCKING, "socket I/O"),
    ("xmlrpc.client.*", BLOCKING, "socket I/O"),
    ("socketserver.*", BLOCKING, "socket I/O"),
    ("requests.*", BLOCKING, "HTTP client: socket I/O"),
    ("httpx.*", BLOCKING, "HTTP client: socket I/O"),
    ("urllib3.*", BLOCKING, "HTTP client: socket I/O"),
    ("aiohttp.*", BLOCKING, "HTTP client: socket I/O"),
    ("boto3.*", BLOCKING, "HTTP client: socket I/O"),
    ("botocore.*", BLOCKING, "HTTP client: socket I/O"),
    ("paramiko.*", BLOCKING, "SSH: socket I/O"),
    ("psycopg2.*", BLOCKING, "database driver: socket I/O"),
    ("psycopg.*", BLOCKING, "database driver: socket I/O"),
    ("pymysql.*", BLOCKING, "database driver: socket I/O"),
    ("MySQLdb.*", BLOCKING, "database driver: socket I/O"),
    ("redis.*", BLOCKING, "database driver: socket I/O"),
    ("pymongo.*", BLOCKING, "database driver: socket I/O"),
    ("sqlalchemy.*", BLOCKING, "database access"),
    ("serial.*", BLOCKING, "pyserial: device I/O"),
    ("queue.*", BLOCKING, "Lib/queue.py waits on a Condition"),
    ("threading.*", BLOCKING, "lock acquire blocks with the GIL released"),
    ("asyncio.*", BLOCKING, "event loop machinery: waiting"),
    ("concurrent.futures.wait", BLOCKING, "waits on futures"),
    ("concurrent.futures.as_completed", BLOCKING, "waits on futures"),
    ("multiprocessing.*", BLOCKING, "inter-process communication"),
    ("webbrowser.*", BLOCKING, "starts a process"),
    # method names on receivers of unknown type: the common blocking protocol methods
    (".recv", BLOCKING, "socket"), (".recv_into", BLOCKING, "socket"),
    (".recvfrom", BLOCKING, "socket"), (".send", BLOCKING, "socket"),
    (".sendall", BLOCKING, "socket"), (".sendto", BLOCKING, "socket"),
    (".accept", BLOCKING, "socket"), (".connect", BLOCKING, "socket"),
    (".makefile", BLOCKING, "socket"),
    (".read", BLOCKING, "file or socket"), (".readline", BLOCKING, "file or socket"),
    (".readlines", BLOCKING, "file"), (".write", BLOCKING, "file or socket"),
    (".writelines", BLOCKING, "file"), (".flush", BLOCKING, "file"),
    (".read_text", BLOCKING, "pathlib"), (".read_bytes", BLOCKING, "pathlib"),
    (".write_text", BLOCKING, "pathlib"), (".write_bytes", BLOCKING, "pathlib"),
    (".wait", BLOCKING, "Event/Condition/process"), (".acquire", BLOCKING, "Lock"),
    (".communicate", BLOCKING, "subprocess"), (".poll", BLOCKING, "select.poll"),
    (".execute", BLOCKING, "DB-API cursor; sqlite3 stmt_step releases the GIL"),
    (".executemany", BLOCKING, "DB-API cursor"), (".fetchall", BLOCKING, "DB-API cursor"),
    (".fetchone", BLOCKING, "DB-API cursor"), (".fetchmany", BLOCKING, "DB-API cursor"),
    (".commit", BLOCKING, "DB-API connection"), (".request", BLOCKING, "HTTP client"),
    (".urlopen", BLOCKING, "HTTP client"), (".getresponse", BLOCKING, "http.client"),
    (".result", BLOCKING, "Future.result waits"), (".put", BLOCKING, "queue.Queue.put"),
    (".serve_forever", BLOCKING, "socketserver"), (".handle_request", BLOCKING, "socketserver"),
    (".select", BLOCKING, "selectors"), (".sleep", BLOCKING, "time.sleep"),
    (".run_until_complete", BLOCKING, "event loop"), (".run_forever", BLOCKING, "event loop"),
    # methods of str, bytes, list, dict and set: interpreter work whatever the receiver
    *((f".{m}", PYTHON, "builtin type method") for m in (
        "append", "extend", "insert", "pop", "remove", "clear", "copy", "count", "index",
        "items", "keys", "values", "setdefault", "add", "discard", "union", "intersection",
        "difference", "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit",
        "splitlines", "replace", "startswith", "endswith", "find", "rfind", "format",
        "encode", "decode", "casefold", "title", "zfill", "ljust", "rjust", "center",
        "partition", "rpartition", "isdigit", "isalpha", "isspace", "hex", "tolist",
    )),
    # bookkeeping: evidence of nothing
    ("builtins.print", NEUTRAL, "writes to stdout"),
    ("logging.*", NEUTRAL, "logging"),
    ("warnings.*", NEUTRAL, "warnings"),
    ("builtins.*", PYTHON, "builtins run in the interpreter's thread, holding the GIL"),
    ("math.*", PYTHON, "cheap C arithmetic"),
    ("operator.*", PYTHON, "cheap C operator"),
    ("functools.*", PYTHON, "Python-level helpers"),
    ("itertools.*", PYTHON, "iterator helpers"),
    ("collections.*", PYTHON, "containers"),
    ("random.*", PYTHON, "Mersenne Twister holds the GIL"),
    ("string.*", PYTHON, "pure Python"),
    ("array.*", PYTHON, "array module"),
    ("heapq.*", PYTHON, "heap operations"),
    ("bisect.*", PYTHON, "binary search"),
    ("dataclasses.*", PYTHON, "pure Python"),
    ("typing.*", NEUTRAL, "typing"),
    ("time.*", NEUTRAL, "clocks"),
    ("os.*", NEUTRAL, "os functions not listed above"),
    ("sys.*", NEUTRAL, "interpreter state"),
)

# Method names whose blocking meaning depends on the call's shape: `t.join()` waits but
# `",".join(parts)` is a str method; `q.get()` blocks but `d.get(key)` is a dict lookup.
ZERO_ARG_BLOCKING_METHODS = frozenset({"join", "get"})
TIMEOUT_KEYWORDS = frozenset({"timeout", "block"})


@dataclass(frozen=True)
class Knowledge:
    """The table plus the user's own names from config, compiled for fast lookup."""

    entries: tuple[tuple[str, str, str], ...]

    @classmethod
    def with_user_names(
        cls,
        releases: Iterable[str] = (),
        blocking: Iterable[str] = (),
        holds: Iterable[str] = (),
    ) -> "Knowledge":
        user = tuple(
            (p, effect, "user config")
            for effect, names in ((RELEASES, releases), (BLOCKING, blocking), (HOLDS, holds))
            for p in names
        )
        # The user's names come first: they override the defaults.
        return cls(user + TABLE)

    def lookup(self, qualified: str) -> Optional[tuple[str, str]]:
        """(effect, source) for a fully qualified name, or None when unknown."""
        return _lookup(self.entries, qualified)

    def lookup_method(self, name: str, nargs: int, keywords: frozenset) -> Optional[tuple[str, str]]:
        """(effect, source) for `receiver.name(...)` with a receiver of unknown type."""
        if name in ZERO_ARG_BLOCKING_METHODS:
            if nargs == 0 or keywords & TIMEOUT_KEYWORDS:
                return (BLOCKING, "Thread.join / Queue.get wait with the GIL released")
            return None
        return _lookup(self.entries, "." + name)


@lru_cache(maxsize=65536)
def _lookup(entries, qualified):
    for pattern, effect, source in entries:
        if pattern == qualified or ("*" in pattern and fnmatch.fnmatchcase(qualified, pattern)):
            return effect, source
    return None


DEFAULT = Knowledge(TABLE)

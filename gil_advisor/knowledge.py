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
BLOCKING = "blocking"  # network, processes, sleeps: milliseconds with the GIL released
FILE = "file"  # local file system calls: microseconds with the GIL released
PROCESS = "process"  # starting and waiting for another program: milliseconds to minutes, GIL released
MAYBE_IO = "maybe-io"  # a method name that is I/O on sockets or files, on a receiver of unknown type
WAIT = "wait"  # waiting for work from another thread (queue.get, events): neither work nor I/O
SYNC = "sync"  # locks and signals between threads (acquire, put, notify): bookkeeping
PYTHON = "python"  # cheap builtin or pure-Python helper: counts as interpreter work
LIBRARY = "library"  # a call into a pure-Python library that is not installed: interpreter work
NEUTRAL = "neutral"  # bookkeeping (logging, print, thread start): evidence of nothing
EFFECTS = frozenset({PROCESS, HOLDS, RELEASES, BLOCKING, FILE, MAYBE_IO, WAIT, SYNC, PYTHON, LIBRARY, NEUTRAL})

S_FACTS = "shared/gil-facts.md"
PURE_PYTHON_SOURCE = "pure-Python distribution on PyPI (py3-none-any wheel); followed from source when installed"

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
    ("hashlib.*.hexdigest", PYTHON, "formats a digest already computed"),
    ("hashlib.*.digest", PYTHON, "returns a digest already computed"),
    ("hashlib.*.copy", PYTHON, "copies the hash state"),
    ("hashlib.*", RELEASES, "Modules/hashlib.h HASHLIB_GIL_MINSIZE: buffers >= 2048 bytes"),
    ("_hashlib.*", RELEASES, "Modules/_hashopenssl.c"),
    ("zlib.*", RELEASES, "Modules/zlibmodule.c zlib_compress_impl"),
    ("gzip.compress", RELEASES, "wraps zlib"),
    ("gzip.decompress", RELEASES, "wraps zlib"),
    ("bz2.*", RELEASES, "Modules/_bz2module.c"),
    ("lzma.*", RELEASES, "Modules/_lzmamodule.c"),
    # allocation and generator set-up run no kernel: nothing is released for long
    ("numpy.empty", NEUTRAL, "allocates without initialising the memory"),
    ("numpy.empty_like", NEUTRAL, "allocates without initialising the memory"),
    ("numpy.zeros", NEUTRAL, "calloc: the OS zeroes pages lazily"),
    ("numpy.random.default_rng", NEUTRAL, "sets up a generator object"),
    ("numpy.random.Generator", NEUTRAL, "sets up a generator object"),
    ("numpy.random.SeedSequence", NEUTRAL, "hashes a seed into generator state"),
    ("numpy.random.PCG64", NEUTRAL, "sets up a bit generator"),
    ("numpy.random.Philox", NEUTRAL, "sets up a bit generator"),
    ("numpy.random.SFC64", NEUTRAL, "sets up a bit generator"),
    ("numpy.random.MT19937", NEUTRAL, "sets up a bit generator"),
    # building, reshaping and converting arrays run no compute kernel: a view or a memory copy
    # (converting Python lists walks their objects with the GIL held). Per call that is the
    # call's own overhead; only reductions, ufuncs, sorting and linear algebra are kernels.
    *((f"numpy.{m}", PYTHON, "numpy/core: builds, views or copies an array; no compute kernel")
      for m in ("array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "copy",
                "atleast_1d", "atleast_2d", "atleast_3d", "reshape", "ravel", "squeeze", "expand_dims",
                "transpose", "swapaxes", "moveaxis", "broadcast_to", "shape", "ndim", "size", "isscalar",
                "dtype", "iinfo", "finfo", "result_type", "can_cast")),
    *((f"numpy.*.{m}", PYTHON, "ndarray method: a view, a memory copy or a conversion; no compute kernel")
      for m in ("flatten", "ravel", "reshape", "squeeze", "transpose", "swapaxes", "view", "copy",
                "astype", "tolist", "item", "fill", "tobytes")),
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
    ("zstandard.*", RELEASES, "python-zstandard: the GIL is released around zstd C calls (c-ext/compressor.c Py_BEGIN_ALLOW_THREADS)"),
    ("lz4.*", RELEASES, "python-lz4: block and frame functions release the GIL (lz4/block/_block.c Py_BEGIN_ALLOW_THREADS)"),
    ("regex.*", RELEASES, "regex (mrab) releases the GIL on immutable strings"),
    ("sqlite3.*", BLOCKING, "Modules/_sqlite/cursor.c stmt_step releases the GIL"),
    ("ctypes.*", RELEASES, "CDLL calls release the GIL"),
    # --- I/O and waiting: the GIL is released while blocked (gil-facts §1) ---
    ("time.sleep", BLOCKING, "Modules/timemodule.c pysleep"),
    ("socket.*", BLOCKING, "Modules/socketmodule.c sock_call_ex"),
    ("ssl.*", BLOCKING, "Modules/_ssl.c PySSL_BEGIN_ALLOW_THREADS"),
    ("select.*", BLOCKING, "Modules/selectmodule.c"),
    ("selectors.*", BLOCKING, "select/epoll system calls"),
    ("subprocess.*", PROCESS, "os.waitpid releases the GIL"),
    ("os.system", PROCESS, "waits for a child process"),
    ("os.popen", PROCESS, "waits for a child process"),
    ("os.wait*", PROCESS, "posixmodule.c os_waitpid_impl"),
    ("os.read", BLOCKING, "Python/fileutils.c _Py_read"),
    ("os.write", BLOCKING, "Python/fileutils.c _Py_write"),
    ("os.fsync", FILE, "system call"),
    ("os.listdir", FILE, "file system"),
    ("os.scandir", FILE, "file system"),
    ("os.walk", FILE, "file system"),
    ("os.stat", FILE, "file system"),
    ("os.remove", FILE, "file system"),
    ("os.unlink", FILE, "file system"),
    ("os.rename", FILE, "file system"),
    ("os.replace", FILE, "file system"),
    ("os.makedirs", FILE, "file system"),
    ("os.path.exists", FILE, "file system"),
    ("os.path.isfile", FILE, "file system"),
    ("os.path.isdir", FILE, "file system"),
    ("os.path.getsize", FILE, "file system"),
    ("shutil.*", FILE, "file copies"),
    ("glob.*", FILE, "file system"),
    ("builtins.open", FILE, "Python/fileutils.c _Py_read/_Py_write"),
    ("builtins.open.*", FILE, "methods of an open file: _Py_read/_Py_write"),
    ("io.open.*", FILE, "methods of an open file"),
    ("builtins.input", BLOCKING, "reads stdin"),
    ("io.open", FILE, "file I/O"),
    ("pathlib.*.exists", FILE, "file system"),
    ("pathlib.*.is_file", FILE, "file system"),
    ("pathlib.*.is_dir", FILE, "file system"),
    ("pathlib.*.is_symlink", FILE, "file system"),
    ("pathlib.*.stat", FILE, "file system"),
    ("pathlib.*.lstat", FILE, "file system"),
    ("pathlib.*.open", FILE, "file system"),
    ("pathlib.*.read_text", FILE, "file system"),
    ("pathlib.*.read_bytes", FILE, "file system"),
    ("pathlib.*.write_text", FILE, "file system"),
    ("pathlib.*.write_bytes", FILE, "file system"),
    ("pathlib.*.iterdir", FILE, "file system"),
    ("pathlib.*.glob", FILE, "file system"),
    ("pathlib.*.rglob", FILE, "file system"),
    ("pathlib.*.mkdir", FILE, "file system"),
    ("pathlib.*.rmdir", FILE, "file system"),
    ("pathlib.*.unlink", FILE, "file system"),
    ("pathlib.*.rename", FILE, "file system"),
    ("pathlib.*.replace", FILE, "file system"),
    ("pathlib.*.touch", FILE, "file system"),
    ("pathlib.*.resolve", FILE, "file system"),
    ("pathlib.*.samefile", FILE, "file system"),
    ("pathlib.*.chmod", FILE, "file system"),
    ("pathlib.*.owner", FILE, "file system"),
    ("pathlib.*.group", FILE, "file system"),
    ("pathlib.*.walk", FILE, "file system"),
    ("pathlib.*.readlink", FILE, "file system"),
    ("pathlib.*.symlink_to", FILE, "file system"),
    ("pathlib.*.hardlink_to", FILE, "file system"),
    ("pathlib.*.absolute", FILE, "file system"),
    ("pathlib.*", PYTHON, "path arithmetic: no system call"),
    ("urllib.request.*", BLOCKING, "socket I/O"),
    ("http.client.*", BLOCKING, "socket I/O"),
    ("ftplib.*", BLOCKING, "socket I/O"),
    ("smtplib.*", BLOCKING, "socket I/O"),
    ("poplib.*", BLOCKING, "socket I/O"),
    ("imaplib.*", BLOCKING, "socket I/O"),
    ("telnetlib.*", BLOCKING, "socket I/O"),
    ("xmlrpc.client.*", BLOCKING, "socket I/O"),
    ("socketserver.*", BLOCKING, "socket I/O"),
    # HTTP clients: only the calls that send a request or read a streamed body do network I/O;
    # their helpers (headers, URLs, retry and timeout objects, encodings) are interpreter work.
    # `r.json()` on a response is json.loads of a body already read.
    ("requests.*.json", HOLDS, "requests/models.py Response.json: complexjson.loads(self.text)"),
    ("requests.*.iter_content", BLOCKING, "requests/models.py Response.iter_content reads the socket (stream=True)"),
    ("requests.*.iter_lines", BLOCKING, "requests/models.py Response.iter_lines over iter_content"),
    ("requests.request", BLOCKING, "requests/api.py: a Session sends the request"),
    *((f"requests.{m}", BLOCKING, "requests/api.py: a Session sends the request") for m in ("get", "post", "put", "patch", "delete", "head", "options")),
    *((f"requests.{where}.{m}", BLOCKING, "requests/sessions.py Session.request -> send -> HTTPAdapter.send (urllib3 urlopen)")
      for where in ("Session", "session", "sessions.Session", "api")
      for m in ("request", "get", "post", "put", "patch", "delete", "head", "options", "send")),
    ("requests.adapters.*.send", BLOCKING, "requests/adapters.py HTTPAdapter.send: urllib3 conn.urlopen"),
    ("requests.*", PYTHON, "requests helpers (utils, structures, models, auth, cookies; Session() set-up): pure Python, no socket"),
    ("urllib3.*.json", HOLDS, "urllib3 2.x BaseHTTPResponse.json: json.loads of the body"),
    *((f"urllib3.*.{m}", BLOCKING, "urllib3 poolmanager/connectionpool/response: sends a request or reads the socket")
      for m in ("request", "urlopen", "request_encode_url", "request_encode_body", "read", "stream", "read_chunked", "readinto")),
    ("urllib3.request", BLOCKING, "urllib3 2.x top-level request(): a PoolManager request"),
    ("urllib3.*", PYTHON, "urllib3 helpers (util.Retry, Timeout, make_headers, PoolManager() set-up): pure Python, no socket"),
    ("httpx.*.json", HOLDS, "httpx/_models.py Response.json: jsonlib.loads of the body"),
    *((f"httpx.{m}", BLOCKING, "httpx/_api.py: a Client sends the request") for m in ("request", "stream", "get", "post", "put", "patch", "delete", "head", "options")),
    *((f"httpx.*.{m}", BLOCKING, "httpx/_client.py Client.send / Response.read: socket I/O")
      for m in ("request", "stream", "get", "post", "put", "patch", "delete", "head", "options", "send",
                "read", "iter_bytes", "iter_text", "iter_lines", "iter_raw")),
    ("httpx.*", PYTHON, "httpx helpers (URL, Headers, Timeout, Client() set-up): pure Python, no socket"),
    *((f"aiohttp.*.{m}", BLOCKING, "aiohttp/client.py ClientSession._request / ClientResponse.read: socket I/O")
      for m in ("request", "get", "post", "put", "patch", "delete", "head", "options", "ws_connect",
                "read", "text", "json", "release")),
    ("aiohttp.request", BLOCKING, "aiohttp/client.py request(): a ClientSession request"),
    ("aiohttp.web.run_app", BLOCKING, "serves requests until stopped"),
    ("aiohttp.*", PYTHON, "aiohttp helpers (ClientTimeout, FormData, ClientSession() set-up): pure Python, no socket"),
    # boto3/botocore: every operation of a client or resource (`s3.put_object(...)`) is an HTTPS
    # request; making the client loads service-model JSON (CPU); paginators and presigned URLs are local
    *((f"{pkg}.*.{m}", PYTHON, "botocore/client.py: built locally, no request")
      for pkg in ("boto3", "botocore", "mypy_boto3_*")
      for m in ("get_paginator", "get_waiter", "can_paginate", "generate_presigned_url", "generate_presigned_post", "close")),
    *((f"boto3.{m}", LIBRARY, "boto3/session.py: loads and parses the service model (botocore/loaders.py), no request")
      for m in ("client", "resource", "Session", "session.Session", "Session.client", "Session.resource", "session.Session.client", "session.Session.resource")),
    ("botocore.session.get_session", LIBRARY, "botocore/session.py: configuration, no request"),
    ("botocore.session.Session.create_client", LIBRARY, "botocore/session.py: loads and parses the service model, no request"),
    ("botocore.exceptions.*", PYTHON, "exception classes"),
    ("botocore.config.*", PYTHON, "a configuration object"),
    ("boto3.*", BLOCKING, "botocore/endpoint.py Endpoint._send: an operation of a client or resource is an HTTPS request"),
    ("botocore.*", BLOCKING, "botocore/endpoint.py Endpoint._send: an operation of a client is an HTTPS request"),
    ("mypy_boto3_*", BLOCKING, "mypy-boto3 stub types annotate boto3 clients and resources: an operation is an HTTPS request"),
    ("paramiko.*", BLOCKING, "SSH: socket I/O"),
    ("psycopg2.*", BLOCKING, "database driver: socket I/O"),
    ("psycopg.*", BLOCKING, "database driver: socket I/O"),
    ("pymysql.*", BLOCKING, "database driver: socket I/O"),
    ("MySQLdb.*", BLOCKING, "database driver: socket I/O"),
    ("redis.*", BLOCKING, "database driver: socket I/O"),
    ("pymongo.*", BLOCKING, "database driver: socket I/O"),
    ("sqlalchemy.*", BLOCKING, "database access"),
    ("serial.*", BLOCKING, "pyserial: device I/O"),
    ("queue.*.get", WAIT, "Lib/queue.py waits on a Condition for an item"),
    ("queue.*", SYNC, "Lib/queue.py: a deque under a lock"),
    ("threading.*.wait", WAIT, "Event/Condition.wait: waiting for another thread"),
    ("threading.*", SYNC, "locks, events and threads: bookkeeping between threads"),
    ("asyncio.*", BLOCKING, "event loop machinery: waiting"),
    ("concurrent.futures.wait", WAIT, "waits on futures"),
    ("concurrent.futures.as_completed", WAIT, "waits on futures"),
    ("multiprocessing.pool.*", NEUTRAL, "making a pool: bookkeeping"),
    ("multiprocessing.dummy.*", NEUTRAL, "making a thread pool: bookkeeping"),
    ("concurrent.futures.*", NEUTRAL, "making a pool: bookkeeping"),
    ("multiprocessing.*", BLOCKING, "inter-process communication"),
    ("webbrowser.*", BLOCKING, "starts a process"),
    # method names on receivers of unknown type: the common blocking protocol methods
    (".recv", BLOCKING, "socket"), (".recv_into", BLOCKING, "socket"),
    (".recvfrom", BLOCKING, "socket"), (".send", MAYBE_IO, "socket (or a method of that name on anything else)"),
    (".sendall", BLOCKING, "socket"), (".sendto", BLOCKING, "socket"),
    (".accept", BLOCKING, "socket"), (".connect", MAYBE_IO, "socket (or a method of that name on anything else)"),
    (".makefile", BLOCKING, "socket"),
    (".read", MAYBE_IO, "file or socket (or a method of that name on anything else)"), (".readline", MAYBE_IO, "file or socket (or a method of that name on anything else)"),
    (".write", MAYBE_IO, "file or socket (or a method of that name on anything else)"),
    (".read_text", FILE, "pathlib"), (".read_bytes", FILE, "pathlib"),
    (".write_text", FILE, "pathlib"), (".write_bytes", FILE, "pathlib"),
    (".readlines", FILE, "file"), (".writelines", FILE, "file"), (".flush", FILE, "file"),
    (".wait", WAIT, "Event/Condition wait for another thread"), (".acquire", SYNC, "Lock"),
    (".task_done", SYNC, "queue.Queue.task_done"), (".notify", SYNC, "Condition"),
    (".notify_all", SYNC, "Condition"), (".release", SYNC, "Lock"), (".set", SYNC, "Event"),
    (".communicate", PROCESS, "subprocess"), (".poll", MAYBE_IO, "select.poll (or a method of that name on anything else)"),
    (".execute", MAYBE_IO, "DB-API cursor; sqlite3 stmt_step releases the GIL (or a method of that name on anything else)"),
    (".executemany", BLOCKING, "DB-API cursor"), (".fetchall", BLOCKING, "DB-API cursor"),
    (".fetchone", BLOCKING, "DB-API cursor"), (".fetchmany", BLOCKING, "DB-API cursor"),
    (".commit", MAYBE_IO, "DB-API connection (or a method of that name on anything else)"), (".request", MAYBE_IO, "HTTP client (or a method of that name on anything else)"),
    (".urlopen", BLOCKING, "HTTP client"), (".getresponse", BLOCKING, "http.client"),
    (".result", WAIT, "Future.result waits for another thread"), (".put", SYNC, "queue.Queue.put"),
    (".put_nowait", SYNC, "queue.Queue"), (".get_nowait", SYNC, "queue.Queue"),
    (".serve_forever", BLOCKING, "socketserver"), (".handle_request", BLOCKING, "socketserver"),
    (".select", MAYBE_IO, "selectors (or a method of that name on anything else)"), (".sleep", BLOCKING, "time.sleep"),
    (".run_until_complete", BLOCKING, "event loop"), (".run_forever", BLOCKING, "event loop"),
    # methods of str, bytes, list, dict and set: interpreter work whatever the receiver
    *((f".{m}", PYTHON, "builtin type method") for m in (
        "append", "extend", "insert", "pop", "remove", "clear", "copy", "count", "index",
        "items", "keys", "values", "setdefault", "add", "discard", "union", "intersection",
        "difference", "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit",
        "splitlines", "replace", "startswith", "endswith", "find", "rfind", "format",
        "encode", "decode", "casefold", "title", "zfill", "ljust", "rjust", "center",
        "partition", "rpartition", "isdigit", "isalpha", "isspace", "hex", "tolist",
        "update", "isupper", "islower", "isalnum", "isnumeric", "isdecimal", "isidentifier",
        "translate", "maketrans", "expandtabs", "removeprefix", "removesuffix", "swapcase",
        "capitalize", "symmetric_difference", "issubset", "issuperset", "isdisjoint",
        "popitem", "fromkeys", "reverse", "bit_length", "to_bytes", "from_bytes",
        "appendleft", "popleft", "extendleft", "rotate", "most_common", "elements",
        "format_map", "rindex", "splitlines", "hexdigest", "digest",
    )),
    # widely used pure-Python packages, for when they are not installed where we can read them
    # (pre-commit's isolated environment, CI): a call into one is interpreter work
    ("nltk.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("markdown.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mistune.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("commonmark.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("markdown_it.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("docutils.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("sqlparse.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("sqlglot.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("jinja2.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mako.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("chameleon.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pdfminer.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pypdf.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("PyPDF2.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pyparsing.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("bs4.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("html5lib.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("networkx.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("sympy.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mpmath.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pycodestyle.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pyflakes.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pylint.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("astroid.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("isort.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("autopep8.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("chardet.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("tomli.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("tomlkit.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("toml.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("dateutil.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("jsonschema.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pygments.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("textblob.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("snowballstemmer.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("langdetect.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("jieba.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("rdflib.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("openpyxl.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("xlrd.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("ply.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("lark.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("parso.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("jedi.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("radon.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mccabe.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("babel.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("feedparser.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("xmltodict.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("unidecode.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("inflect.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("fuzzywuzzy.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pycparser.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("esprima.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("cssutils.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("tinycss2.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("html2text.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("bleach.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("ruamel.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("nbformat.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("bibtexparser.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mutagen.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("construct.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("bitstring.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("faker.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mimesis.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pytz.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("slugify.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("emoji.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("email_validator.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("validators.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("marshmallow.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("cerberus.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("yaml.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("rope.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pydocstyle.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("bandit.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("mypy_extensions.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("docx.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("pptx.*", LIBRARY, PURE_PYTHON_SOURCE),
    ("reportlab.*", LIBRARY, PURE_PYTHON_SOURCE),
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
ZERO_ARG_WAIT_METHODS = frozenset({"join", "get"})
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
        if name in ZERO_ARG_WAIT_METHODS:
            if nargs == 0:
                return (WAIT, "Thread.join / Queue.get wait for another thread")
            if keywords & TIMEOUT_KEYWORDS:
                # `session.get(url, timeout=3)`: an HTTP client, most likely
                return (MAYBE_IO, "an HTTP client's get(url, timeout=...), or a wait")
            # `",".join(parts)`, `counts.get(key, 0)`: str and dict methods, interpreter work
            return (PYTHON, "builtin type method")
        return _lookup(self.entries, "." + name)


@lru_cache(maxsize=65536)
def _lookup(entries, qualified):
    for pattern, effect, source in entries:
        if pattern == qualified or ("*" in pattern and fnmatch.fnmatchcase(qualified, pattern)):
            return effect, source
    return None


DEFAULT = Knowledge(TABLE)

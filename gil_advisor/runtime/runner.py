"""Run a script or a module as `__main__`, the way `python script.py` / `python -m mod` would.

Modelled on coverage.py's PyRunner: the program sees its own sys.argv, sys.path[0] and a fresh
`__main__` module; its exit status is returned, and an uncaught exception is printed by
sys.excepthook with the tracer's own frames removed from the traceback.
"""
from __future__ import annotations

import builtins
import dataclasses
import os
import runpy
import sys
import types
from dataclasses import dataclass, field
from typing import Optional


class TargetError(Exception):
    """The target cannot be started (missing file, no such module, syntax error)."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Outcome:
    exit_code: int
    how: str  # "returned" | "sys.exit" | "exception" | "keyboard-interrupt"
    exception: Optional[str] = None


@dataclass
class TargetRunner:
    kind: str  # "script" | "module"
    name: str
    args: list[str] = field(default_factory=list)
    code: Optional[types.CodeType] = None
    path: Optional[str] = None  # the file that runs as __main__
    spec: object = None
    path0: str = ""  # what sys.path[0] becomes

    def locate(self) -> None:
        """Find and compile the target without touching sys.path or sys.argv; raises TargetError.

        Nothing of the program is imported here (a `-m` module is found on disk), so the
        static pass and the tracer's own imports run before the program's folder is on sys.path.
        """
        if self.kind == "script":
            path = os.path.abspath(self.name)
            path0 = os.path.dirname(path)
            if os.path.isdir(path):  # `python dir/` runs dir/__main__.py with dir on sys.path
                path0, path = path, os.path.join(path, "__main__.py")
                if not os.path.isfile(path):
                    raise TargetError(f"can't find '__main__' module in {self.name!r}", 1)
            try:
                with open(path, "rb") as f:
                    source = f.read()
            except OSError as e:
                raise TargetError(f"can't open file {path!r}: [Errno {e.errno}] {e.strerror}", 2) from None
            self.path0 = path0
            self.path = path
            self.code = compile(source, path, "exec", dont_inherit=True)
        else:
            self.path0 = os.getcwd()
            self.path = find_module_file(self.name, [self.path0, *sys.path[1:]])

    def install(self) -> None:
        """Set sys.path[0] and sys.argv as Python would; for -m, import the parent packages
        and load the module's code as runpy does. Raises TargetError."""
        if sys.path and not getattr(sys.flags, "safe_path", False):
            sys.path[0] = self.path0  # the tracer's own entry (its script's folder) gives way
        else:  # -P / PYTHONSAFEPATH: the tracer has no entry of its own to replace
            sys.path.insert(0, self.path0)
        if self.kind == "script":
            sys.argv = [self.name, *self.args]
            return
        try:
            mod_name, spec, code = runpy._get_module_details(self.name)  # what `python -m` uses
        except Exception as e:  # ImportError, runpy._Error and friends
            raise TargetError(str(e), 1) from None
        self.spec = spec
        self.code = code
        self.path = spec.origin
        sys.argv = [spec.origin or self.name, *self.args]

    def _main_module(self) -> types.ModuleType:
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = builtins  # the module, as CPython gives __main__
        if self.kind == "script":
            main.__file__ = self.path
            main.__cached__ = None
            main.__loader__ = None
            main.__package__ = None
            main.__spec__ = None
        else:
            spec = self.spec
            main.__file__ = spec.origin
            main.__cached__ = getattr(spec, "cached", None)
            main.__loader__ = spec.loader
            main.__package__ = spec.parent
            main.__spec__ = spec
        return main

    def run(self) -> Outcome:
        """Execute the prepared target; never raises except for exceptions during shutdown."""
        main = self._main_module()
        sys.modules["__main__"] = main
        try:
            exec(self.code, main.__dict__)
        except SystemExit as e:
            return Outcome(_exit_code(e), "sys.exit")
        except KeyboardInterrupt as e:
            _print_exception(e)
            return Outcome(130, "keyboard-interrupt", "KeyboardInterrupt")
        except BaseException as e:
            _print_exception(e)
            return Outcome(1, "exception", f"{type(e).__name__}: {e}")
        return Outcome(0, "returned")


def find_module_file(name: str, search_path: list[str]) -> Optional[str]:
    """The file `python -m name` would run, found on disk without importing anything.

    None when it is not a plain source module (a namespace package, a zip, an extension): the
    static pass then has nothing to start from, and install() still finds it as runpy does.
    """
    from importlib.machinery import PathFinder

    locations: Optional[list[str]] = search_path
    spec = None
    for part in name.split("."):
        if not part:
            raise TargetError("Relative module names not supported", 1)
        spec = PathFinder.find_spec(part, locations)
        if spec is None:
            return None
        locations = list(spec.submodule_search_locations or [])
    if spec is None:
        return None
    origin = spec.origin
    if spec.submodule_search_locations:  # a package: python -m runs its __main__
        main = os.path.join(spec.submodule_search_locations[0], "__main__.py")
        origin = main if os.path.isfile(main) else None
    if not origin or not origin.endswith(".py") or not os.path.isfile(origin):
        return None
    return origin


def safe_text(text: str) -> str:
    """`text` with lone surrogates (undecodable file-name bytes, odd thread names) escaped as
    `\\udcff`, so UTF-8 writers never fail on it."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_data(obj):
    """`obj` (report data: dicts, lists, dataclasses) with every string made safe_text, so no
    writer (JSON, HTML, timeline) fails on a lone surrogate from a thread name or a file name."""
    if isinstance(obj, str):
        return safe_text(obj)
    if isinstance(obj, dict):
        return {safe_data(k): safe_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(safe_data(v) for v in obj) if type(obj) in (list, tuple) else obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: safe_data(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
        return dataclasses.replace(obj, **changes)
    return obj


def _exit_code(e: SystemExit) -> int:
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    # Like the interpreter: print a non-integer exit argument to stderr and exit 1.
    try:
        sys.stderr.write(f"{code}\n")
        sys.stderr.flush()
    except Exception:
        pass
    return 1


_OWN_DIR = os.path.dirname(os.path.abspath(__file__))


def _print_exception(e: BaseException) -> None:
    """Print like an uncaught exception, without the tracer's frames at the top."""
    tb = e.__traceback__
    while tb is not None and os.path.dirname(os.path.abspath(tb.tb_frame.f_code.co_filename)) == _OWN_DIR:
        tb = tb.tb_next
    while tb is not None and tb.tb_frame.f_code.co_filename == runpy.__file__:
        tb = tb.tb_next
    try:
        sys.stdout.flush()
    except Exception:
        pass
    e.__traceback__ = tb  # 3.12+'s default hook prints the exception's own traceback
    try:
        sys.excepthook(type(e), e, tb)
    except Exception:
        import traceback

        traceback.print_exception(type(e), e, tb)

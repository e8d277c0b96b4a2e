"""Run a script or a module as `__main__`, the way `python script.py` / `python -m mod` would.

Modelled on coverage.py's PyRunner: the program sees its own sys.argv, sys.path[0] and a fresh
`__main__` module; its exit status is returned, and an uncaught exception is printed by
sys.excepthook with the tracer's own frames removed from the traceback.
"""
from __future__ import annotations

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

    def prepare(self) -> None:
        """Resolve and compile the target and set sys.argv / sys.path[0]; raises TargetError."""
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
            if sys.path:
                sys.path[0] = path0
            else:
                sys.path.insert(0, path0)
            self.path = path
            self.code = compile(source, path, "exec", dont_inherit=True)
            sys.argv = [self.name, *self.args]
        else:
            cwd = os.getcwd()
            if sys.path:
                sys.path[0] = cwd
            else:
                sys.path.insert(0, cwd)
            try:
                mod_name, spec, code = runpy._get_module_details(self.name)  # what `python -m` uses
            except ImportError as e:
                raise TargetError(str(e), 1) from None
            except Exception as e:  # runpy._Error and friends
                raise TargetError(str(e), 1) from None
            self.spec = spec
            self.code = code
            self.path = spec.origin
            sys.argv = [spec.origin or self.name, *self.args]

    def files_to_check(self) -> list[str]:
        """What the static analysis should read by default: the script's or package's directory."""
        if self.kind == "script":
            return [os.path.dirname(self.path or os.path.abspath(self.name))]
        spec = self.spec
        locations = list(getattr(spec, "submodule_search_locations", None) or [])
        if spec is not None and getattr(spec, "parent", None):
            import importlib.util

            parent = importlib.util.find_spec(spec.parent)
            if parent is not None and parent.submodule_search_locations:
                locations = list(parent.submodule_search_locations)
        if not locations and self.path:
            locations = [os.path.dirname(self.path)]
        return locations

    def _main_module(self) -> types.ModuleType:
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = __builtins__
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

"""Where the analysed project's dependencies live, found without running anything.

Imports that are not among the checked files are looked up in the target environment's
site-packages: `--python PATH` (or `python` in config), else a `.venv`/`venv` folder in the
project root, else `$VIRTUAL_ENV`, else the interpreter gil-advisor runs on. Pure-Python
modules found there are parsed and followed like project code; the knowledge table still
decides for the names it lists (requests.get is I/O whatever its source says).
"""
from __future__ import annotations

import glob
import os
import site
import sys
from typing import Iterable, Optional


def _site_packages_of_prefix(prefix: str) -> list[str]:
    found = sorted(glob.glob(os.path.join(prefix, "lib", "python3*", "site-packages")))
    found += sorted(glob.glob(os.path.join(prefix, "lib64", "python3*", "site-packages")))
    found += [p for p in (os.path.join(prefix, "Lib", "site-packages"),) if os.path.isdir(p)]
    return [p for p in found if os.path.isdir(p)]


def _prefix_of_python(python: str) -> str:
    """`.venv/bin/python` -> `.venv`; a folder is taken as the prefix itself."""
    python = os.path.abspath(python)
    if os.path.isdir(python):
        return python
    return os.path.dirname(os.path.dirname(python))


def library_roots(project_roots: Iterable[str], python: Optional[str] = None) -> tuple[list[str], str]:
    """(site-packages folders, where they came from in words)."""
    if python:
        roots = _site_packages_of_prefix(_prefix_of_python(python))
        return roots, f"--python {python}"
    for root in project_roots:
        for name in (".venv", "venv"):
            prefix = os.path.join(root, name)
            if os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
                roots = _site_packages_of_prefix(prefix)
                if roots:
                    return roots, f"the project's {name}"
    env = os.environ.get("VIRTUAL_ENV")
    if env and os.path.isdir(env):
        roots = _site_packages_of_prefix(env)
        if roots:
            return roots, "$VIRTUAL_ENV"
    roots = [p for p in _running_site_packages() if os.path.isdir(p)]
    return roots, f"the running interpreter ({sys.executable})"


def _running_site_packages() -> list[str]:
    out = []
    try:
        out += site.getsitepackages()
    except AttributeError:  # pragma: no cover - old virtualenv's site module
        pass
    user = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if user:
        out.append(user)
    # A test or CI venv keeps its packages under sys.prefix
    out += _site_packages_of_prefix(sys.prefix)
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]

"""Looking modules up on disk and following names: the shortcuts give the answers of the long way."""
import os

from gil_advisor.static.project import Project
from gil_advisor.static.resolve import Resolver


def _project(write):
    root = write({
        "main.py": "from pkg.sub import mod\n",
        "pkg/__init__.py": "from pkg.sub.mod import work\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/mod.py": "def work():\n    pass\n",
        "pkg/data.txt": "",
    })
    return root, Project([str(root / "main.py")], 1 << 20)


def test_modules_and_packages_are_found_below_the_roots_and_absent_names_are_not(write):
    root, project = _project(write)
    assert project.split_module("pkg.sub.mod.work") == ("pkg.sub.mod", "work")
    assert project.files["pkg.sub.mod"].path == os.path.join(str(root), "pkg", "sub", "mod.py")
    assert project.split_module("pkg.sub") == ("pkg.sub", "")
    assert project.files["pkg.sub"].is_package
    assert project.split_module("pkg.nothing.here") == ("pkg", "nothing.here")
    assert project.split_module("nowhere.at.all") is None
    assert project.split_module("pkg.data") == ("pkg", "data")  # data.txt is not a module


def test_a_folder_that_cannot_be_listed_is_asked_file_by_file(write, monkeypatch):
    root, project = _project(write)
    real = os.listdir

    def no_listing(path):
        if os.path.basename(path) == "sub":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "listdir", no_listing)
    assert project.split_module("pkg.sub.mod.work") == ("pkg.sub.mod", "work")


def test_a_file_that_appears_after_its_folder_was_listed_is_still_found_by_a_new_project(write):
    root, project = _project(write)
    assert project.split_module("pkg.later") == ("pkg", "later")
    (root / "pkg" / "later.py").write_text("")
    assert Project([str(root / "main.py")], 1 << 20).split_module("pkg.later") == ("pkg.later", "")


def test_a_name_not_found_without_parsing_is_found_once_parsing_is_allowed(write):
    root, project = _project(write)
    resolver = Resolver(project)
    with project.no_lazy_parsing():
        assert resolver.canonical("pkg.work")[0] is None  # pkg is not parsed yet
    summary, q = resolver.canonical("pkg.work")
    assert (summary.module, q) == ("pkg.sub.mod", "pkg.sub.mod.work")
    with project.no_lazy_parsing():
        assert resolver.canonical("pkg.work") == (summary, q)

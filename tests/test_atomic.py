"""The report writer: regular files replaced atomically, links followed, FIFOs and devices written in place.

Never a real device here: the device case is decided from a stat mode, tested without /dev.
"""
import os
import select
import stat
import threading
import time

import pytest

from gil_advisor import atomic
from gil_advisor.atomic import check_writable, write_text_atomic

TIMEOUT = 10.0


def test_new_file_is_written_with_an_ordinary_mode(tmp_path):
    out = tmp_path / "r.json"
    write_text_atomic(str(out), "{}\n")
    assert out.read_text() == "{}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~atomic._umask()
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left


def test_regular_file_is_replaced_and_keeps_its_mode(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("old")
    out.chmod(0o640)
    inode = out.stat().st_ino
    write_text_atomic(str(out), "new")
    assert out.read_text() == "new"
    assert out.stat().st_ino != inode  # renamed over, not truncated in place
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_symlink_stays_a_link_and_its_target_gets_the_content(tmp_path, monkeypatch):
    real_dir = tmp_path / "reports"
    real_dir.mkdir()
    target = real_dir / "r.json"
    target.write_text("old")
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    link = link_dir / "r.json"
    link.symlink_to(os.path.relpath(target, link_dir))

    renames = []
    real_replace = os.replace
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (renames.append((a, b)), real_replace(a, b)))
    write_text_atomic(str(link), "new")

    assert link.is_symlink() and os.readlink(link) == os.path.relpath(target, link_dir)
    assert target.read_text() == "new"
    (src, dst), = renames
    assert os.path.dirname(src) == str(real_dir) and dst == str(target)  # temp file beside the target
    assert sorted(p.name for p in real_dir.iterdir()) == ["r.json"]
    assert sorted(p.name for p in link_dir.iterdir()) == ["r.json"]


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "r.json"
    link.symlink_to(tmp_path / "made.json")
    write_text_atomic(str(link), "x")
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text() == "x"


def _read_fifo(fd: int, writer_done: threading.Event, chunks: list) -> None:
    """Read until the writer has finished and the pipe is drained, for at most TIMEOUT seconds."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if chunk:
            chunks.append(chunk)
        elif writer_done.is_set():
            return
        else:
            time.sleep(0.01)  # no writer yet: a FIFO reads as EOF until one opens it


def test_fifo_is_written_in_place_and_stays_a_fifo(tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    text = "x" * 200_000 + "\n"  # more than a pipe buffer: the writer must wait for the reader
    # Opened non-blocking first, so the writer's open cannot hang whatever the writer does.
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    chunks: list = []
    done = threading.Event()
    errors: list = []

    def writer():
        try:
            write_text_atomic(str(fifo), text)
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    try:
        reader = threading.Thread(target=_read_fifo, args=(fd, done, chunks), daemon=True)
        reader.start()
        w = threading.Thread(target=writer, daemon=True)
        w.start()
        w.join(TIMEOUT)
        reader.join(TIMEOUT)
    finally:
        os.close(fd)
    assert not w.is_alive() and not reader.is_alive()
    assert errors == []
    assert b"".join(chunks).decode() == text
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.fifo"]


@pytest.mark.parametrize(
    "mode, kind",
    [
        (stat.S_IFREG | 0o644, atomic.REGULAR),
        (stat.S_IFIFO | 0o600, atomic.STREAM),
        (stat.S_IFCHR | 0o666, atomic.STREAM),
        (stat.S_IFBLK | 0o660, atomic.STREAM),
        (stat.S_IFDIR | 0o755, atomic.DIRECTORY),
        (stat.S_IFSOCK | 0o755, atomic.UNSUPPORTED),
        (None, atomic.MISSING),
    ],
)
def test_kind_of_a_stat_mode(mode, kind):
    assert atomic._kind_of(mode) == kind


def test_a_device_is_written_in_place_never_renamed_over(tmp_path, monkeypatch):
    """Decided from the stat mode: a regular file here *reports* itself as a character device."""
    fake_device = tmp_path / "tty"
    fake_device.write_text("0123456789")
    inode = fake_device.stat().st_ino
    real_mode_of = atomic._mode_of
    monkeypatch.setattr(atomic, "_mode_of", lambda p: stat.S_IFCHR | 0o666 if p == str(fake_device) else real_mode_of(p))

    def no_replace(*_a):
        raise AssertionError("a device must never be renamed over")

    monkeypatch.setattr(atomic, "_replace", no_replace)
    write_text_atomic(str(fake_device), "abc")
    assert fake_device.stat().st_ino == inode
    assert fake_device.read_text() == "abc3456789"  # written, not truncated or created


def test_a_stream_that_vanished_is_not_created(tmp_path, monkeypatch):
    gone = tmp_path / "gone.fifo"
    monkeypatch.setattr(atomic, "_mode_of", lambda p: stat.S_IFIFO | 0o600)
    with pytest.raises(FileNotFoundError):
        write_text_atomic(str(gone), "x")
    assert not gone.exists()


def test_directory_is_an_error_and_untouched(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    with pytest.raises(IsADirectoryError):
        write_text_atomic(str(d), "x")
    assert d.is_dir() and list(d.iterdir()) == []


def test_check_writable(tmp_path):
    assert check_writable(str(tmp_path / "new.json")) is None
    (tmp_path / "old.json").write_text("")
    assert check_writable(str(tmp_path / "old.json")) is None
    os.mkfifo(tmp_path / "f")
    assert check_writable(str(tmp_path / "f")) is None

    missing = tmp_path / "nope" / "x.json"
    assert check_writable(str(missing)) == f"cannot write {missing}: no such directory {missing.parent}"
    assert check_writable(str(tmp_path)) == f"cannot write {tmp_path}: it is a directory"
    not_a_dir = tmp_path / "old.json" / "x.json"
    assert check_writable(str(not_a_dir)).startswith(f"cannot write {not_a_dir}: ")

    link = tmp_path / "link.json"
    link.symlink_to(missing)
    assert check_writable(str(link)) == f"cannot write {link} (a link to {missing}): no such directory {missing.parent}"
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    msg = check_writable(str(loop))
    assert msg is not None and msg.startswith(f"cannot write {loop}")


def test_check_writable_rejects_a_socket_by_its_mode(tmp_path, monkeypatch):
    monkeypatch.setattr(atomic, "_mode_of", lambda p: stat.S_IFSOCK | 0o777)
    assert check_writable(str(tmp_path / "s")) == f"cannot write {tmp_path / 's'}: not a regular file, FIFO or device"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert "permission denied" in check_writable(str(ro / "x.json"))
    finally:
        ro.chmod(0o700)


def test_undecodable_name_bytes_are_written_as_they_were(tmp_path):
    out = tmp_path / "r.txt"
    write_text_atomic(str(out), "w" + os.fsdecode(b"\xff") + ".py\n")
    assert out.read_bytes() == b"w\xff.py\n"

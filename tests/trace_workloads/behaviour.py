"""Process-level behaviour: argv, stdout, exit codes, exceptions, leftover threads."""
import os
import sys
import threading
import time


def spin(seconds):
    deadline = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < deadline:
        x += 1
    return x


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    print("argv=" + repr(sys.argv[1:]))
    print("main=" + __name__ + " file=" + os.path.basename(__file__) + " path0=" + os.path.basename(sys.path[0]))
    sys.stdout.flush()
    t = threading.Thread(target=spin, args=(0.3,))
    t.start()
    if mode == "exit3":
        sys.exit(3)  # the non-daemon thread still finishes before the process exits
    if mode == "raise":
        raise ValueError("boom from the target")
    if mode == "daemon":
        threading.Thread(target=spin, args=(60,), daemon=True).start()
    if mode == "stdin":
        print("stdin=" + sys.stdin.read().strip())
    if mode == "fork":
        pid = os.fork()
        if pid == 0:
            spin(0.1)
            print("child done")
            sys.stdout.flush()
            sys.exit(7)
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
    if mode == "mp":
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            print("mp", sum(pool.map(abs, range(-10, 10))))
    if mode == "activecount":
        while threading.active_count() > 1:  # must not wait for the tracer's own thread
            time.sleep(0.01)
        print("alone")
    if mode == "interrupt":
        t.join()
        raise KeyboardInterrupt
    t.join()
    print("finished")


if __name__ == "__main__":
    main()

"""Hostile programs for tests/test_trace_hostile.py: `python hostile_prog.py MODE`."""
import os
import signal
import sys
import threading
import time


def crunch(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def square(x):
    return x * x


def mode_osexit():
    t = threading.Thread(target=crunch, args=(0.3,))
    t.start()
    t.join()
    threading.Thread(target=crunch, args=(30,), daemon=False).start()  # still running at _exit
    print("before _exit", flush=True)
    os._exit(5)


def mode_sigterm():
    threading.Thread(target=crunch, args=(30,), daemon=True).start()
    crunch(0.3)
    print("sending SIGTERM", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
    print("not reached", flush=True)


def mode_sigterm_wait():
    threading.Thread(target=crunch, args=(60,), daemon=True).start()
    print("ready", flush=True)
    time.sleep(60)


def mode_own_handler():
    signal.signal(signal.SIGTERM, lambda *a: print("own handler", flush=True) or sys.exit(9))
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)


def mode_hooks():
    events = {"trace": 0, "profile": 0, "thread_profile": 0, "thread_trace": 0, "monitoring": 0}

    def tracer(frame, event, arg):
        if frame.f_code.co_name == "crunch":
            events["trace"] += 1
        return None

    def profiler(frame, event, arg):
        if frame.f_code.co_name == "crunch":
            key = "profile" if threading.current_thread() is threading.main_thread() else "thread_profile"
            events[key] += 1

    def thread_tracer(frame, event, arg):
        if frame.f_code.co_name == "crunch":
            events["thread_trace"] += 1
        return None

    sys.settrace(tracer)
    sys.setprofile(profiler)
    threading.setprofile(profiler)
    threading.settrace(thread_tracer)
    mon = getattr(sys, "monitoring", None)
    tool = None
    if mon is not None:
        # Claim the very tool id the tracer took, if it took one (else the profiler id).
        tool = next((i for i in range(6) if mon.get_tool(i) == "gil-advisor"), mon.PROFILER_ID)
        mon.use_tool_id(tool, "hostile")

        def on_start(code, offset):
            if code.co_name == "crunch":
                events["monitoring"] += 1

        mon.register_callback(tool, mon.events.PY_START, on_start)
        mon.set_events(tool, mon.events.PY_START)
    threads = [threading.Thread(target=crunch, args=(0.3,)) for _ in range(2)]
    for t in threads:
        t.start()
    crunch(0.1)
    for t in threads:
        t.join()
    sys.settrace(None)
    sys.setprofile(None)
    threading.setprofile(None)
    threading.settrace(None)
    if mon is not None:
        mon.set_events(tool, 0)
        mon.free_tool_id(tool)
    print("tool", tool)
    print("events", " ".join(f"{k}={v}" for k, v in sorted(events.items())), flush=True)


def mode_import_threads():
    import hostile_importer  # starts threads at import

    print("imported", hostile_importer.STARTED, flush=True)
    for t in hostile_importer.THREADS:
        t.join()
    print("joined", flush=True)


def _pool(method):
    import multiprocessing as mp

    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        print(method, sum(pool.map(square, range(20))), flush=True)


def mode_mp_fork():
    _pool("fork")


def mode_mp_spawn():
    _pool("spawn")


def mode_close_stdout():
    print("bye", flush=True)
    sys.stdout.close()


def mode_close_fd1():
    print("bye", flush=True)
    os.close(1)


def mode_many_threads():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    done = []
    for batch in range(0, n, 50):
        ts = [threading.Thread(target=lambda: done.append(sum(range(2000)))) for _ in range(50)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    print("threads", len(done), flush=True)


def mode_daemon_running():
    threading.Thread(target=crunch, args=(600,), daemon=True, name="spinner").start()
    threading.Thread(target=threading.Event().wait, daemon=True, name="blocked").start()
    time.sleep(0.3)
    print("main done", flush=True)


if __name__ == "__main__":
    globals()["mode_" + sys.argv[1]]()

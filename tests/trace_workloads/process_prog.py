"""Programs for tests/test_trace_process.py: `python process_prog.py MODE`."""
import os
import sys
import threading
import time


def crunch(n):
    total = 0
    for i in range(n):
        total += i
    return total


def mode_builtins():
    print(type(__builtins__).__name__, __builtins__.len([1, 2, 3]))


def mode_interrupt():
    t = threading.Thread(target=crunch, args=(10_000,))
    t.start()
    t.join()
    raise KeyboardInterrupt


def mode_deadlock():
    lock = threading.Lock()
    lock.acquire()
    print("ready", flush=True)
    lock.acquire()  # never returns: only SIGINT ends this


def mode_shutdown_wait():
    threading.Thread(target=time.sleep, args=(30,), name="sleeper").start()
    print("ready", flush=True)


def mode_long_c_call():
    threading.Thread(target=crunch, args=(100_000,), daemon=True).start()
    print("ready", flush=True)
    sum(range(10**12))  # one C call that holds the GIL for many minutes
    print("not reached", flush=True)


def mode_execv():
    print("before exec", flush=True)
    os.execv(sys.executable, [sys.executable, "-c", "print('exec ok')"])


def mode_many_threads():
    """150 threads alive at once, then files opened by the program: the tracer holds none."""
    n = int(sys.argv[2])
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.3)  # several samples with every thread alive
    files = [open(os.devnull, "rb") for _ in range(40)]
    print("opened", len(files), flush=True)
    stop.set()
    for t in threads:
        t.join()
    for f in files:
        f.close()


def mode_closerange():
    """Close every descriptor above stderr, open files that reuse the numbers, write at exit."""
    threads = [threading.Thread(target=crunch, args=(200_000,)) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    os.closerange(3, 1024)
    out = sys.argv[2]
    files = [open(os.path.join(out, f"f{i}.txt"), "w") for i in range(20)]
    for t in threads:
        t.join()
    import atexit

    def write_all():
        for i, f in enumerate(files):
            f.write(f"file {i}\n")
            f.close()
        print("wrote", len(files), flush=True)

    atexit.register(write_all)


def mode_chdir():
    os.chdir(sys.argv[2])
    print("moved", flush=True)


if __name__ == "__main__":
    globals()["mode_" + sys.argv[1]]()

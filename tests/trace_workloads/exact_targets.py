"""A decorated busy-wait helper (GIL003) and a lambda worker on two threads (GIL001).

expect: both confirmed, each matched to its own code object (issue 9 item 3)."""
import functools
import sys
import threading
import time

done = False


def traced(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)

    return wrapper


@traced
def wait_until_done():
    while not done:
        pass


def watcher():
    wait_until_done()


def crunch(seconds):
    deadline = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < deadline:
        for k in range(2000):
            total += k * k % 7
    return total


def main():
    global done
    mode = sys.argv[1] if len(sys.argv) > 1 else "spin"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.8
    if mode == "spin":
        t = threading.Thread(target=watcher)
        t.start()
        time.sleep(seconds)
        done = True
        t.join()
    else:
        threads = [threading.Thread(target=lambda: crunch(seconds)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print("ok", mode)


if __name__ == "__main__":
    main()

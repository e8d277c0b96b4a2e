"""One thread of pure-Python work while the main thread waits: nothing runs at once (expect: not-concurrent)."""
import sys
import threading
import time


def crunch(seconds):
    deadline = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < deadline:
        for k in range(2000):
            total += k * k % 7
    return total


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.6
    t = threading.Thread(target=crunch, args=(seconds,))
    t.start()
    t.join()
    print("single done")


if __name__ == "__main__":
    main()

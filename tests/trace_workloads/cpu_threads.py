"""Two threads of pure-Python arithmetic: the GIL lets one run at a time (expect: confirmed)."""
import sys
import threading
import time


def crunch(seconds, out, i):
    deadline = time.perf_counter() + seconds
    total = 0
    while time.perf_counter() < deadline:
        for k in range(2000):
            total += k * k % 7
    out[i] = total


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    out = [0] * n
    threads = [threading.Thread(target=crunch, args=(seconds, out, i)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done", len(out))


if __name__ == "__main__":
    main()

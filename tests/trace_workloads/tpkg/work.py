"""Run with -m tpkg.work: a module target with its own options."""
import argparse
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.8)
    parser.add_argument("-q", action="store_true")
    args = parser.parse_args()
    threads = [threading.Thread(target=crunch, args=(args.seconds,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("module done", __name__, args.q)


if __name__ == "__main__":
    main()

"""Imported by hostile_prog.py: starts CPU-bound threads while being imported."""
import threading
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


THREADS = [threading.Thread(target=spin, args=(0.4,), name=f"import-{i}") for i in range(2)]
for _t in THREADS:
    _t.start()
STARTED = len(THREADS)

"""A thread that spins on a flag (expect GIL003 confirmed) or waits on an Event (refuted)."""
import sys
import threading
import time

done = False
event = threading.Event()


def spinner():
    while not done:
        pass


def waiter():
    event.wait()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "spin"
    global done
    t = threading.Thread(target=spinner if mode == "spin" else waiter)
    t.start()
    time.sleep(0.8)  # the main thread "works" (sleeps) meanwhile
    done = True
    event.set()
    t.join()
    print("stopped")


if __name__ == "__main__":
    main()

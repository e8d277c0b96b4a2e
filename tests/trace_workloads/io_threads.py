"""Two threads sleeping and echoing over a socketpair: the GIL is released (expect: refuted)."""
import socket
import sys
import threading
import time


def talk(seconds, i):
    a, b = socket.socketpair()
    deadline = time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline:
            time.sleep(0.002)
            a.sendall(b"x" * 64)
            b.recv(64)
            b.settimeout(0.003)
            try:
                b.recv(64)  # nothing comes: blocks in the kernel until the timeout
            except socket.timeout:
                pass
    finally:
        a.close()
        b.close()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    threads = [threading.Thread(target=talk, args=(seconds, i)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("talked")


if __name__ == "__main__":
    main()

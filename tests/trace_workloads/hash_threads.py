"""Two threads hashing and compressing big buffers: hashlib/zlib release the GIL (expect: refuted)."""
import hashlib
import sys
import threading
import time
import zlib

BUF = bytes(range(256)) * (16 * 1024 * 1024 // 256)  # 16 MiB


def digest(seconds, out, i):
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        hashlib.sha256(BUF).hexdigest()
        zlib.crc32(BUF)
        n += 1
    out[i] = n


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    out = [0, 0]
    threads = [threading.Thread(target=digest, args=(seconds, out, i)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("hashed", sum(out))


if __name__ == "__main__":
    main()

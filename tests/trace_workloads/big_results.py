"""Two pool threads doing pure-Python work and returning ~9 MB results (expect: confirmed, with
pickling sampled into the projection; issue 12 item 7)."""
import concurrent.futures as cf
import json
import sys

TEXT = json.dumps([f"record {k:08d}: ok" for k in range(400_000)])


def parse(i):
    total = 0
    for k in range(400_000):
        total += k * k % 7
    return json.loads(TEXT)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        out = list(pool.map(parse, range(n)))
    print("parsed", len(out))


if __name__ == "__main__":
    main()

"""Loopback TCP bandwidth of this machine: one connection, BYTES sent in
4 MiB writes and read into a preallocated buffer. Prints MB/s (median of 3).

    python3 bench/loopback.py [BYTES]
"""
import socket
import statistics
import sys
import threading
import time

size = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 30
chunk = memoryview(bytearray(4 << 20))


def once() -> float:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def send():
        c = socket.create_connection(server.getsockname())
        left = size
        while left > 0:
            n = c.send(chunk[: min(left, len(chunk))])
            left -= n
        c.close()

    t = threading.Thread(target=send)
    start = time.perf_counter()
    t.start()
    conn, _ = server.accept()
    buf = memoryview(bytearray(size))
    got = 0
    while got < size:
        n = conn.recv_into(buf[got:], min(size - got, 4 << 20))
        if n == 0:
            break
        got += n
    elapsed = time.perf_counter() - start
    t.join()
    conn.close()
    server.close()
    assert got == size, f"received {got} of {size} bytes"
    return size / elapsed / 1e6


print(f"{statistics.median(once() for _ in range(3)):.0f}")

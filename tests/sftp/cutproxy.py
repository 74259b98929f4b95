#!/usr/bin/python3
"""A TCP proxy that drops the connection part way (a network cut mid-file).

    cutproxy.py --port-file FILE --target PORT --bytes N

Listens on 127.0.0.1 and a free port (written to FILE once it listens).
Each connection is forwarded to 127.0.0.1:PORT both ways until N bytes
have gone server->client; then both sockets are closed at once, with no
goodbye on either side. Runs until killed. Standard library only.
"""
import argparse
import os
import socket
import threading


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def pump(src, dst, limit, done):
    """Copies src to dst; with a limit, stops after that many bytes."""
    sent = 0
    try:
        while limit is None or sent < limit:
            want = 65536 if limit is None else min(65536, limit - sent)
            data = src.recv(want)
            if not data:
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    with done:
        if not done.closed:
            done.closed = True
            close_both(src, dst)


class Once:
    def __init__(self):
        self.lock = threading.Lock()
        self.closed = False

    def __enter__(self):
        self.lock.acquire()

    def __exit__(self, *a):
        self.lock.release()


def serve(client, target, limit):
    try:
        server = socket.create_connection(("127.0.0.1", target), timeout=10)
        server.settimeout(None)
    except OSError:
        client.close()
        return
    done = Once()
    threading.Thread(target=pump, args=(client, server, None, done), daemon=True).start()
    threading.Thread(target=pump, args=(server, client, limit, done), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--bytes", type=int, required=True)
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.replace(tmp, a.port_file)
    while True:
        c, _ = ls.accept()
        serve(c, a.target, a.bytes)


if __name__ == "__main__":
    main()

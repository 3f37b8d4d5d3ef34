#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A TCP proxy on 127.0.0.1 that a test can stall (used by e2e.sh's leader election case).

    stallproxy.py PORT_FILE UPSTREAM_PORT

Listens on a free port of 127.0.0.1, writes it to PORT_FILE, and relays every connection to
127.0.0.1:UPSTREAM_PORT. SIGUSR1 stalls it: from then on nothing is relayed in either direction
on any connection, and new connections wait unaccepted (the client's requests and the server's
answers stay where they are, as on a network path that stopped moving packets). SIGUSR2 resumes,
relaying what was held. Each change is logged on stdout with a timestamp.
"""
import os
import selectors
import signal
import socket
import sys
import time

stalled = False


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} stallproxy: {msg}", flush=True)


def on_stall(*_):
    global stalled
    stalled = True


def on_resume(*_):
    global stalled
    stalled = False


def main():
    port_file, upstream = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGUSR1, on_stall)
    signal.signal(signal.SIGUSR2, on_resume)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    log(f"listening on 127.0.0.1:{listener.getsockname()[1]} -> 127.0.0.1:{upstream}")
    was_stalled = False
    conns = 0

    def close_pair(a, b):
        for s in (a, b):
            try:
                sel.unregister(s)
            except (KeyError, ValueError):
                pass
            s.close()

    while True:
        if stalled != was_stalled:
            was_stalled = stalled
            log("stalled" if stalled else "resumed")
        if stalled:
            time.sleep(0.02)
            continue
        for key, _ in sel.select(timeout=0.1):
            if stalled:
                break
            if key.data is None:
                client, _ = listener.accept()
                server = socket.create_connection(("127.0.0.1", upstream))
                sel.register(client, selectors.EVENT_READ, server)
                sel.register(server, selectors.EVENT_READ, client)
                conns += 1
                continue
            src, dst = key.fileobj, key.data
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                close_pair(src, dst)
                continue
            try:
                dst.sendall(data)
            except OSError:
                close_pair(src, dst)


if __name__ == "__main__":
    main()

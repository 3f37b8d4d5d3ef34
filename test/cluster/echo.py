#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The backend of the data-path chain: an HTTP echo server on each ADDR PORT pair given.

It answers every GET with who asked (the source address it saw, i.e. the balancer node after
masquerade) and where the request arrived (the Service's ClusterIP:port).
"""
import http.server
import socket
import sys
import threading


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        local = self.connection.getsockname()
        body = "echoserver: %s %s answered on %s port %d for %s\n" % (
            self.command, self.path, local[0], local[1], self.client_address[0])
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("request: %s\n" % (fmt % args))


class Server6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def main(argv):
    if len(argv) < 2 or len(argv) % 2:
        sys.exit("usage: echo.py ADDR PORT [ADDR PORT ...]")
    threads = []
    for addr, port in zip(argv[::2], argv[1::2]):
        cls = Server6 if ":" in addr else http.server.ThreadingHTTPServer
        srv = cls((addr, int(port)), Echo)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        threads.append(t)
        print("listening on %s port %s" % (addr, port), flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(sys.argv[1:])

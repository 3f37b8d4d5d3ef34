# SPDX-License-Identifier: Apache-2.0
# A new-connection benchmark's client: for SECONDS, connect to HOST:PORT, read the server's one
# byte, reset (SO_LINGER 0, so that no TIME_WAIT piles up). Prints "<connections/s> <failures>".
import socket
import struct
import sys
import time

host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n = fails = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    c = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    c.settimeout(2)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        c.connect((host, port))
        fails += c.recv(1) != b"x"
        n += 1
    except OSError:
        fails += 1
    c.close()
print(f"{n / secs:.0f} {fails}")

# SPDX-License-Identifier: Apache-2.0
# A new-connection benchmark's server: accepts on PORT, sends one byte, closes (used by
# test/bench/nftlb.sh in a namespace and by test/bench/kind.sh in a pod).
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4096)
while True:
    c, _ = s.accept()
    c.sendall(b"x")
    c.close()

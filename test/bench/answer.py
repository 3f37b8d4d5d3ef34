# SPDX-License-Identifier: Apache-2.0
# Host-side prober of test/bench/kind.sh: many addresses asked in parallel, each request a TCP
# connect and test/bench/accept.py's one byte, 0.5 s at most, every 0.1 s per address. A request
# counts from the moment it was sent.
#
#   answer.py publish T0 SELECTOR COUNT ADDRESSES NODE_IPS TIMEOUT
#     For each of the COUNT Services matching the label SELECTOR (namespace default; watched
#     through `kubectl get -w`), the time from T0 (epoch seconds) until every address it publishes has
#     answered on its first port, counted once it lists ADDRESSES IPv4 addresses, and until its
#     nodePort has answered on every node of NODE_IPS (comma-separated). Ends when all COUNT have, or
#     after TIMEOUT seconds. Prints one line per Service: "NAME PUBLISHED_S NODEPORT_S" (the
#     word timeout for one that did not).
#   answer.py steady TARGETS T0_FILE STOP_FILE TIMEOUT
#     Asks every IP:PORT of TARGETS (comma-separated) until STOP_FILE exists and every target has
#     then answered for 2 s in a row (or TIMEOUT seconds have passed). Of the requests sent at or
#     after the epoch time in T0_FILE, prints "REQUESTS LOST RECOVERED_S BY_TARGET": RECOVERED_S is
#     the time from T0 until, for every target, the first answered request after its last lost one
#     (0 when none was lost); BY_TARGET the lost ones per target, IP:PORT=N comma-separated.
import ipaddress
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

INTERVAL, TIMEOUT = 0.1, 0.5


class Prober:
    """Sends requests to targets, at most one in flight per target."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.inflight = {}  # target -> (socket, sent)
        self.last = {}  # target -> time the last request was sent
        self.results = []  # (target, sent, ok)

    def send(self, targets):
        now = time.time()
        for t in targets:
            if t in self.inflight or now - self.last.get(t, 0) < INTERVAL:
                continue
            ip, port = t
            s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET)
            s.setblocking(False)
            try:
                s.connect((ip, port))
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                self.results.append((t, now, False))
                self.last[t] = now
                continue
            self.sel.register(s, selectors.EVENT_READ, t)
            self.inflight[t] = (s, now)
            self.last[t] = now

    def poll(self, wait=0.02):
        """Collects the answers and the requests that timed out; returns (target, sent, ok)."""
        done = []
        for key, _ in self.sel.select(wait):
            t = key.data
            s, sent = self.inflight.pop(t)
            self.sel.unregister(s)
            try:
                ok = s.recv(1) == b"x"
            except OSError:
                ok = False
            s.close()
            done.append((t, sent, ok))
        now = time.time()
        for t, (s, sent) in list(self.inflight.items()):
            if now - sent >= TIMEOUT:
                self.sel.unregister(s)
                s.close()
                del self.inflight[t]
                done.append((t, sent, False))
        self.results.extend(done)
        return done


def watch_services(p, services, lock):
    """Keeps services[name] = (port, nodePort, [IPv4 ingress]) from `kubectl get -w` (p)."""
    dec, buf = json.JSONDecoder(), ""
    for line in p.stdout:
        buf += line
        while True:
            buf = buf.lstrip()
            try:
                ev, end = dec.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            o = ev.get("object", {})
            name = o.get("metadata", {}).get("name")
            if not name or ev.get("type") == "DELETED":
                continue
            port = o["spec"]["ports"][0]
            ips = [i["ip"] for i in o.get("status", {}).get("loadBalancer", {}).get("ingress", []) or []
                   if "ip" in i and ipaddress.ip_address(i["ip"]).version == 4]
            with lock:
                services[name] = (port["port"], port.get("nodePort"), ips)


def publish(t0, selector, count, n_addr, node_ips, timeout):
    services, lock = {}, threading.Lock()
    watch = subprocess.Popen(["kubectl", "get", "svc", "-n", "default", "-l", selector, "-w",
                              "--output-watch-events", "-o", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    threading.Thread(target=watch_services, args=(watch, services, lock), daemon=True).start()
    nodes = [ip for ip in node_ips.split(",") if ip]
    listed = {}  # name -> time its addresses were first listed
    answered = {}  # target -> time of its first answered request
    pub, np = {}, {}
    pr = Prober()
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            snap = dict(services)
        want = set()
        for name, (port, nodeport, ips) in snap.items():
            if name not in np and nodeport:
                want |= {(ip, nodeport) for ip in nodes if (ip, nodeport) not in answered}
            if name not in pub and len(ips) >= n_addr:
                listed.setdefault(name, time.time())
                want |= {(ip, port) for ip in ips if (ip, port) not in answered}
        pr.send(want)
        for t, sent, ok in pr.poll():
            if ok and t not in answered:
                answered[t] = sent
        for name, (port, nodeport, ips) in snap.items():
            if name not in np and nodeport and all((ip, nodeport) in answered for ip in nodes):
                np[name] = max(answered[(ip, nodeport)] for ip in nodes) - t0
            if name in listed and name not in pub and all((ip, port) in answered for ip in ips):
                pub[name] = max([listed[name]] + [answered[(ip, port)] for ip in ips]) - t0
        if len(pub) >= count and len(np) >= count:
            break
    watch.kill()
    watch.wait()
    for name in sorted(services):
        f = lambda d: "%.2f" % d[name] if name in d else "timeout"
        print(name, f(pub), f(np))


def steady(targets, t0_file, stop_file, timeout):
    tl = []
    for t in targets.split(","):
        ip, _, port = t.rpartition(":")
        tl.append((ip.strip("[]"), int(port)))
    pr = Prober()
    deadline = time.time() + timeout
    ok_since = None
    while time.time() < deadline:
        pr.send(tl)
        for _, _, ok in pr.poll():
            if not ok:
                ok_since = None
            elif ok_since is None:
                ok_since = time.time()
        if os.path.exists(stop_file) and ok_since is not None and time.time() - ok_since >= 2:
            break
    while pr.inflight:
        pr.poll(0.1)
    t0 = float(open(t0_file).read())
    res = sorted((r for r in pr.results if r[1] >= t0), key=lambda r: r[1])
    lost = [r for r in res if not r[2]]
    recovered = 0.0
    for t in {r[0] for r in lost}:
        last = max(r[1] for r in lost if r[0] == t)
        after = [r[1] for r in res if r[0] == t and r[2] and r[1] > last]
        recovered = max(recovered, (min(after) if after else time.time()) - t0)
    by = ",".join("%s:%d=%d" % (t[0], t[1], sum(1 for r in lost if r[0] == t)) for t in tl)
    print(len(res), len(lost), "%.2f" % recovered, by)


if __name__ == "__main__":
    if sys.argv[1] == "publish":
        publish(float(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6],
                float(sys.argv[7]))
    elif sys.argv[1] == "steady":
        steady(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        sys.exit("usage: answer.py publish T0 SELECTOR COUNT ADDRESSES NODE_IPS TIMEOUT | "
                 "steady TARGETS T0_FILE STOP_FILE TIMEOUT")

# SPDX-License-Identifier: Apache-2.0
"""One round of test/bench/timeline.sh: creates one LoadBalancer Service on the kind cluster and
records, with the host's clock in milliseconds from the moment its create request was sent, when
each step of its path to an answering address happens (the steps: timeline.sh's header).

Watches (Services, DaemonSets and pods, straight from the API server with the kubeconfig's
credentials: no kubectl start-up in the measured path) are stamped with the local time their
events arrive; TCP probes from the host ask every node's address:port every 50 ms from the start
(agnhost's /clientip says which path answered: the host's own address through kube-proxy's VIP
rules, a balancer pod's through portmap + nftlb); kube-proxy's rules are read in each node's
network namespace (nsenter into the node container's process; iptables-save or nft, as its mode
is) every 50 ms once the Service's status lists that node. After the round, the precise
sandbox and container times come from containerd (ctr, nanoseconds) and /proc, nftlb's own first lines
from the CRI log (kubectl logs --timestamps), the operator's writes from its log (microsecond
timestamps, docs/operator.md "Observability").

  timeline.py round --name N --port P --target-port T --selector K=V --nodes NAME=IP:PID,...
                    --proxy-mode iptables|nftables --out FILE
  timeline.py summary FILE...   the medians per step, the table and measure lines for bench.sh

Only the standard library; the host clock and the containers' clocks are the same kernel clock.
"""
import argparse
import base64
import calendar
import http.client
import json
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

NS = "default"
OPNS = "akrobateo-system"
POLL = 0.05  # every TCP probe and rule check: 50 ms apart


def now():
    return time.time()


class Api:
    """The kind API server, with the client certificate of build/kind/kubeconfig."""

    def __init__(self):
        cfg = json.loads(subprocess.check_output(
            ["kubectl", "config", "view", "--raw", "--minify", "-o", "json"]))
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        u = urllib.parse.urlparse(cluster["server"])
        self.host, self.port = u.hostname, u.port
        self.tmp = tempfile.mkdtemp(prefix="akb-timeline-")
        paths = {}
        for key, field in (("ca", "certificate-authority-data"), ("crt", "client-certificate-data"),
                           ("key", "client-key-data")):
            src = cluster if key == "ca" else user
            paths[key] = os.path.join(self.tmp, key)
            with open(paths[key], "wb") as f:
                f.write(base64.b64decode(src[field]))
            os.chmod(paths[key], 0o600)
        self.ctx = ssl.create_default_context(cafile=paths["ca"])
        self.ctx.load_cert_chain(paths["crt"], paths["key"])

    def conn(self, timeout=30):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None):
        c = self.conn()
        hdr = {"Content-Type": "application/json"} if body is not None else {}
        c.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdr)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, (json.loads(data) if data else None)


class Watch(threading.Thread):
    """One watch stream; every event is kept as (arrival time, type, object)."""

    def __init__(self, api, path):
        super().__init__(daemon=True)
        self.api, self.path = api, path
        self.events = []
        self.started = threading.Event()
        self.conn = None
        self.on_event = None
        self.error = None

    def run(self):
        try:
            self.conn = self.api.conn(timeout=None)
            sep = "&" if "?" in self.path else "?"
            self.conn.request("GET", self.path + sep + "watch=1&timeoutSeconds=600")
            resp = self.conn.getresponse()
            if resp.status != 200:
                self.error = "HTTP %d: %s" % (resp.status, resp.read(300))
                self.started.set()
                return
            self.started.set()
            while True:
                line = resp.readline()
                if not line:
                    return
                t = now()
                ev = json.loads(line)
                self.events.append((t, ev["type"], ev["object"]))
                if self.on_event:
                    self.on_event(t, ev["type"], ev["object"])
        except (OSError, ValueError, http.client.HTTPException) as e:
            if not self.started.is_set():
                self.error = str(e)
                self.started.set()

    def stop(self):
        try:
            if self.conn is not None and self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def ask(ip, port):
    """GET /clientip through ip:port: the address agnhost saw us come from, or None."""
    try:
        with socket.create_connection((ip, port), timeout=0.5) as s:
            s.settimeout(0.5)
            s.sendall(b"GET /clientip HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
            return None
        return body.decode(errors="replace").strip().rsplit(":", 1)[0]
    except OSError:
        return None


class Prober(threading.Thread):
    """Asks ip:port every POLL s from before the Service exists. Keeps the first answer and every
    change of the client address agnhost saw: a balancer pod's address (nftlb masquerades) means
    the hostPort path (portmap + nftlb) answered, any other the node's kube-proxy did. Stops once
    kube-proxy answered on a listed address, or at stop."""

    def __init__(self, ip, port, balancer_ips, listed, stop):
        super().__init__(daemon=True)
        self.ip, self.port, self.balancer_ips, self.listed, self.stop_ev = ip, port, balancer_ips, listed, stop
        self.answers = []  # (time, client address) at the first answer and at each change
        self.tries = 0

    def run(self):
        while not self.stop_ev.is_set():
            t = now()
            client = ask(self.ip, self.port)
            self.tries += 1
            if client is not None:
                if not self.answers or self.answers[-1][1] != client:
                    self.answers.append((t, client))
                if self.listed.is_set() and client not in self.balancer_ips:
                    return
            self.stop_ev.wait(max(0.0, POLL - (now() - t)))

    def first(self):
        return self.answers[0] if self.answers else (None, None)

    def via_kube_proxy(self, balancer_ips):
        return next((t for t, c in self.answers if c not in balancer_ips), None)


class RuleWatch(threading.Thread):
    """Once `listed` is set (the status lists the node), reads the node's kube-proxy rules every
    POLL s until one matches its own address and the Service port."""

    def __init__(self, node, ip, pid, port, mode, stop):
        super().__init__(daemon=True)
        self.node, self.ip, self.pid, self.port, self.mode, self.stop_ev = node, ip, pid, port, mode, stop
        self.listed = threading.Event()
        self.found = None
        self.reads = 0
        self.read_ms = []

    def present(self):
        if self.mode == "nftables":
            cmd = ["nft", "list", "table", "ip", "kube-proxy"]
            want = "%s . tcp . %d " % (self.ip, self.port)
        else:
            cmd = ["iptables-save", "-t", "nat"]
            want = None
        t = now()
        out = subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-n", "--"] + cmd,
                             capture_output=True, text=True).stdout
        self.read_ms.append((now() - t) * 1000)
        self.reads += 1
        if want is not None:
            return want in out
        needle_d, needle_p = "-d %s/32" % self.ip, "--dport %d " % self.port
        return any(needle_d in line and needle_p in line + " " for line in out.splitlines())

    def run(self):
        while not self.listed.wait(0.01):
            if self.stop_ev.is_set():
                return
        while not self.stop_ev.is_set():
            t = now()
            if self.present():
                self.found = t
                return
            self.stop_ev.wait(max(0.0, POLL - (now() - t)))


def cond(pod, typ):
    for c in pod.get("status", {}).get("conditions") or []:
        if c.get("type") == typ:
            return c.get("status") == "True"
    return False


def pod_steps(events):
    """Per pod name: node and the first arrival of each reported step."""
    pods = {}
    for t, typ, p in events:
        name = p["metadata"]["name"]
        rec = pods.setdefault(name, {"created": t})
        spec, st = p.get("spec", {}), p.get("status", {})
        if spec.get("nodeName"):
            rec.setdefault("node", spec["nodeName"])
            rec.setdefault("scheduled", t)
        if cond(p, "PodReadyToStartContainers") or st.get("podIP"):
            rec.setdefault("sandbox_reported", t)
        cs = (st.get("containerStatuses") or [{}])[0]
        if "running" in (cs.get("state") or {}):
            rec.setdefault("running_reported", t)
        if cs.get("started"):
            rec.setdefault("startup_probe_passed", t)
        if cond(p, "Ready"):
            rec.setdefault("ready", t)
        rec["uid"] = p["metadata"]["uid"]
    return pods


def rfc3339(s):
    """RFC 3339 with up to nanoseconds -> seconds since the epoch (float)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)", s)
    if not m:
        return None
    base = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    frac = float(m.group(2)) if m.group(2) else 0.0
    if m.group(3) != "Z":
        sign = 1 if m.group(3)[0] == "+" else -1
        hh, mm = m.group(3)[1:3], m.group(3)[-2:]
        base -= sign * (int(hh) * 3600 + int(mm) * 60)
    return base + frac


def node_exec(node, *cmd):
    return subprocess.check_output(["docker", "exec", node] + list(cmd), text=True,
                                   stderr=subprocess.DEVNULL)


BOOT = None


def boot_time():
    """The kernel's boot as wall-clock seconds, to 10 ms (/proc/stat's btime is whole seconds)."""
    global BOOT
    if BOOT is None:
        with open("/proc/uptime") as f:
            BOOT = now() - float(f.read().split()[0])
    return BOOT


def containerd_times(node, pod_uid):
    """From containerd in the node (ctr; the node image has no crictl): the sandbox's and the
    container's creation (nanoseconds), and the container process's start (its /proc start time,
    10 ms ticks since boot; the nodes share the host's kernel, so its boot time too)."""
    out = {}
    try:
        ids = node_exec(node, "ctr", "-n", "k8s.io", "containers", "ls", "-q",
                        'labels."io.kubernetes.pod.uid"==' + pod_uid).split()
        tasks = {}
        for line in node_exec(node, "ctr", "-n", "k8s.io", "tasks", "ls").splitlines()[1:]:
            f = line.split()
            if len(f) >= 2:
                tasks[f[0]] = f[1]
        for cid in ids:
            info = json.loads(node_exec(node, "ctr", "-n", "k8s.io", "containers", "info", cid))
            labels = info.get("Labels") or {}
            kind = labels.get("io.cri-containerd.kind")
            created = rfc3339(info.get("CreatedAt", ""))
            if kind == "sandbox":
                out["sandbox_created"] = created
                out["sandbox_id"] = cid
            elif kind == "container" and (out.get("container_created") is None or created < out["container_created"]):
                out["container_created"] = created
                out["container_id"] = cid
                pid = tasks.get(cid)
                if pid and pid != "0":
                    stat = node_exec(node, "cat", "/proc/%s/stat" % pid)
                    ticks = int(stat.rsplit(")", 1)[1].split()[19])
                    out["container_started"] = boot_time() + ticks / os.sysconf("SC_CLK_TCK")
    except (subprocess.CalledProcessError, ValueError, KeyError, IndexError):
        pass
    return out


def journal(node, unit, since):
    """(time, line) of the unit's journal in the node since SINCE (journald's microseconds)."""
    try:
        out = node_exec(node, "journalctl", "-u", unit, "--since", "@%d" % int(since - 1),
                        "-o", "short-iso-precise", "--no-pager")
    except subprocess.CalledProcessError as e:
        print("timeline: journalctl -u %s in %s failed: %s" % (unit, node, e), file=sys.stderr)
        return []
    lines = []
    for line in out.splitlines():
        ts, _, rest = line.partition(" ")
        t = rfc3339(ts)
        if t is not None:
            lines.append((t, rest))
    if not lines:
        print("timeline: no %s journal lines read in %s (first: %r)" % (unit, node, out[:200]), file=sys.stderr)
    return lines


def cri_times(node, pod, since, sandbox_id, container_id):
    """The CRI calls for the pod, as containerd logs them (info level): when the kubelet asked
    for the sandbox, when it was there (network set up by the CNI plugins), the container's
    create and start."""
    out = {}
    for t, line in journal(node, "containerd", since):
        if "RunPodSandbox for" in line and pod in line:
            out.setdefault("cri_sandbox_returned" if "returns sandbox id" in line else "cri_sandbox_called", t)
        elif sandbox_id and "CreateContainer within sandbox" in line and sandbox_id in line:
            out.setdefault("cri_create_returned" if "returns container id" in line else "cri_create_called", t)
        elif container_id and "StartContainer for" in line and container_id in line:
            out.setdefault("cri_start_returned" if "returns successfully" in line else "cri_start_called", t)
    return out


def kubelet_lines(node, pod, since):
    """The kubelet's own lines about the pod (whatever its verbosity logs), for reading."""
    return [(t, l[:300]) for t, l in journal(node, "kubelet", since) if pod in l]


def nftlb_log_times(pod):
    """The CRI timestamps of nftlb's 'backend=' and 'installed table=' lines."""
    out = {}
    try:
        log = subprocess.check_output(["kubectl", "-n", OPNS, "logs", pod, "--timestamps"],
                                      text=True, stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        return out
    for line in log.splitlines():
        ts, _, msg = line.partition(" ")
        if "backend=" in msg:
            out.setdefault("nftlb_backend_chosen", rfc3339(ts))
        if "installed table=" in msg:
            out.setdefault("nftlb_table_installed", rfc3339(ts))
    return out


def operator_log(name, since):
    """The operator's lines about default/NAME: (time, 'created'|'status', ingress list)."""
    try:
        log = subprocess.check_output(
            ["kubectl", "-n", OPNS, "logs", "-l", "app.kubernetes.io/name=akrobateo",
             "--all-containers", "--since-time", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since - 2)),
             "--tail=-1"], text=True, stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        return []
    key = "%s/%s" % (NS, name)
    lines = []
    for line in log.splitlines():
        if line.startswith("{"):
            try:
                j = json.loads(line)
            except ValueError:
                continue
            ts, msg, svc, ingress = j.get("ts"), j.get("msg"), j.get("service"), j.get("ingress", "")
        else:
            parts = line.split(" ", 3)
            if len(parts) < 4:
                continue
            ts, msg = parts[0], parts[2]
            svc = (re.search(r"\bservice=(\S+)", parts[3]) or [None, None])[1]
            ingress = (re.search(r"\bingress=(\S*)", parts[3]) or [None, ""])[1]
        if svc != key or msg not in ("created", "status"):
            continue
        lines.append((rfc3339(ts), msg, [a for a in ingress.split(",") if a]))
    return sorted(lines)


def run_round(a):
    api = Api()
    nodes = []  # (name, ip, pid)
    for item in a.nodes.split(","):
        name, rest = item.split("=")
        ip, pid = rest.split(":")
        nodes.append((name, ip, int(pid)))
    stop = threading.Event()
    label = urllib.parse.quote("akrobateo.dev/service-name=" + a.name)
    w_svc = Watch(api, "/api/v1/namespaces/%s/services?fieldSelector=%s" % (
        NS, urllib.parse.quote("metadata.name=" + a.name)))
    w_ds = Watch(api, "/apis/apps/v1/namespaces/%s/daemonsets?labelSelector=%s" % (OPNS, label))
    w_pod = Watch(api, "/api/v1/namespaces/%s/pods?labelSelector=%s" % (OPNS, label))
    rules = {n: RuleWatch(n, ip, pid, a.port, a.proxy_mode, stop) for n, ip, pid in nodes}
    listed_at = {}
    balancer_ips = set()

    def on_svc(t, typ, obj):
        ips = [i.get("ip") for i in (obj.get("status", {}).get("loadBalancer", {}).get("ingress") or [])]
        for n, ip, _ in nodes:
            if ip in ips and n not in listed_at:
                listed_at[n] = t
                rules[n].listed.set()

    def on_pod(t, typ, obj):
        for p in obj.get("status", {}).get("podIPs") or []:
            balancer_ips.add(p.get("ip"))

    w_svc.on_event = on_svc
    w_pod.on_event = on_pod
    for w in (w_svc, w_ds, w_pod):
        w.start()
    for w in (w_svc, w_ds, w_pod):
        w.started.wait(30)
        if w.error:
            sys.exit("timeline: watch %s: %s" % (w.path, w.error))
    probers = {n: Prober(ip, a.port, balancer_ips, rules[n].listed, stop) for n, ip, _ in nodes}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": a.name, "namespace": NS},
           "spec": {"type": "LoadBalancer", "selector": dict([a.selector.split("=", 1)]),
                    "ports": [{"name": "http", "port": a.port, "targetPort": a.target_port,
                               "protocol": "TCP"}]}}
    for p in probers.values():
        p.start()
    for r in rules.values():
        r.start()
    t0 = now()
    code, _ = api.request("POST", "/api/v1/namespaces/%s/services" % NS, svc)
    t_created = now()
    if code != 201:
        stop.set()
        sys.exit("timeline: creating the Service: HTTP %d" % code)
    deadline = t0 + a.timeout
    while now() < deadline and any(p.is_alive() for p in probers.values()):
        stop.wait(0.1)
    # The rules appear after the answers at the latest; give them the same deadline.
    while now() < deadline and not all(r.found for r in rules.values()):
        stop.wait(0.1)
    stop.set()
    for w in (w_svc, w_ds, w_pod):
        w.stop()
    for t in list(probers.values()) + list(rules.values()):
        t.join(2)

    pods = pod_steps(w_pod.events)
    ds_created = next((t for t, typ, _ in w_ds.events if typ == "ADDED"), None)
    ds_obj = next((o for _, typ, o in w_ds.events), None)
    for name, rec in pods.items():
        if rec.get("node"):
            rec.update(containerd_times(rec["node"], rec["uid"]))
            rec.update(cri_times(rec["node"], name, t0, rec.get("sandbox_id"), rec.get("container_id")))
            rec.update(nftlb_log_times(name))
            rec["kubelet_log"] = kubelet_lines(rec["node"], name, t0)
    op = operator_log(a.name, t0)
    rel = lambda t: None if t is None else round((t - t0) * 1000, 1)
    per_node = {}
    for n, ip, _ in nodes:
        rec = next((r for r in pods.values() if r.get("node") == n), {})
        written = next((t for t, msg, ing in op if msg == "status" and ip in ing), None)
        per_node[n] = {
            "address": ip,
            "pod_created": rel(rec.get("created")),
            "pod_scheduled": rel(rec.get("scheduled")),
            "cri_sandbox_called": rel(rec.get("cri_sandbox_called")),
            "sandbox_created": rel(rec.get("sandbox_created")),
            "cri_sandbox_returned": rel(rec.get("cri_sandbox_returned")),
            "cri_create_called": rel(rec.get("cri_create_called")),
            "cri_start_called": rel(rec.get("cri_start_called")),
            "cri_start_returned": rel(rec.get("cri_start_returned")),
            "sandbox_reported": rel(rec.get("sandbox_reported")),
            "container_created": rel(rec.get("container_created")),
            "container_started": rel(rec.get("container_started")),
            "nftlb_backend_chosen": rel(rec.get("nftlb_backend_chosen")),
            "nftlb_table_installed": rel(rec.get("nftlb_table_installed")),
            "running_reported": rel(rec.get("running_reported")),
            "startup_probe_passed": rel(rec.get("startup_probe_passed")),
            "pod_ready": rel(rec.get("ready")),
            "status_written": rel(written),
            "listed_seen": rel(listed_at.get(n)),
            "kube_proxy_rule": rel(rules[n].found),
            "first_answer": rel(probers[n].first()[0]),
            "first_answer_from": probers[n].first()[1],
            "first_answer_path": None if probers[n].first()[1] is None else
            "hostPort+nftlb" if probers[n].first()[1] in balancer_ips else "kube-proxy",
            "first_answer_vip": rel(probers[n].via_kube_proxy(balancer_ips)),
            "answers": [{"at": rel(t), "client": c} for t, c in probers[n].answers],
            "probes": probers[n].tries,
            "kubelet_log": [{"at": rel(t), "line": l} for t, l in rec.get("kubelet_log", [])],
            "rule_reads": rules[n].reads,
            "rule_read_ms_median": round(statistics.median(rules[n].read_ms), 1) if rules[n].read_ms else None,
        }
    out = {
        "service": a.name, "port": a.port, "t0_unix": t0,
        "service_create_answered": rel(t_created),
        "daemonset_created": rel(ds_created),
        "operator_daemonset_created": rel(next((t for t, msg, _ in op if msg == "created"), None)),
        "operator_status_writes": [{"at": rel(t), "ingress": ing} for t, msg, ing in op if msg == "status"],
        "nodes": per_node,
        "daemonset": ds_obj,
    }
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)


# The steps of the summary: (key, label, where it comes from). Per-node steps are summarized as
# the first and the last node.
STEPS = [
    ("service_create_answered", "Service create answered (API)", "POST"),
    ("daemonset_created", "DaemonSet created", "watch"),
    ("operator_daemonset_created", "  operator logged its create", "operator log"),
    ("pod_created", "pod created (DaemonSet controller)", "watch"),
    ("pod_scheduled", "pod scheduled (bound to its node)", "watch"),
    ("cri_sandbox_called", "kubelet asks for the sandbox (RunPodSandbox)", "containerd log"),
    ("sandbox_created", "sandbox container created (after the CNI)", "ctr"),
    ("cri_sandbox_returned", "RunPodSandbox returned", "containerd log"),
    ("cri_create_called", "CreateContainer called", "containerd log"),
    ("container_created", "container created (containerd)", "ctr"),
    ("cri_start_called", "StartContainer called", "containerd log"),
    ("container_started", "nftlb process started", "/proc, 10 ms"),
    ("cri_start_returned", "StartContainer returned", "containerd log"),
    ("nftlb_backend_chosen", "nftlb: backend chosen (1st log line)", "CRI log"),
    ("nftlb_table_installed", "nftlb: table installed", "CRI log"),
    ("sandbox_reported", "sandbox reported (PodReadyToStartContainers)", "watch"),
    ("running_reported", "container reported running", "watch"),
    ("startup_probe_passed", "started=true (the startup probe passed, if there is one)", "watch"),
    ("pod_ready", "pod Ready (readiness probe passed)", "watch"),
    ("status_written", "status written with the node (operator)", "operator log"),
    ("listed_seen", "ingress lists the node", "watch"),
    ("kube_proxy_rule", "kube-proxy rule for address:port on the node", "nsenter"),
    ("first_answer", "first answer on the address (any path)", "TCP from host"),
    ("first_answer_vip", "first answer through kube-proxy (ipMode VIP)", "TCP from host"),
]


def values(rounds, key):
    """Per round: (first, last) over the nodes, or (v, v) for a Service-wide step."""
    out = []
    for r in rounds:
        if key in r:
            v = r[key]
            if v is not None:
                out.append((v, v))
            continue
        vs = [n.get(key) for n in r["nodes"].values()]
        if vs and all(v is not None for v in vs):
            out.append((min(vs), max(vs)))
    return out


def summary(files):
    rounds = [json.load(open(f)) for f in files]
    rows = []
    for key, label, src in STEPS:
        vals = values(rounds, key)
        if not vals:
            rows.append((key, label, src, None, None, []))
            continue
        first = statistics.median(v[0] for v in vals)
        last = statistics.median(v[1] for v in vals)
        rows.append((key, label, src, first, last, [v[1] for v in vals]))
    # Chronological by the last node's median; an indented row stays under its parent.
    groups = []
    for row in rows:
        if row[1].startswith("  ") and groups:
            groups[-1].append(row)
        else:
            groups.append([row])
    groups.sort(key=lambda g: float("inf") if g[0][4] is None else g[0][4])
    rows = [r for g in groups for r in g]
    print("%-48s %-14s %10s %10s %10s  %s" % ("step (ms after the create request was sent)", "seen by",
                                            "first", "last node", "+ step", "last node, each round"))
    prev = 0.0
    for key, label, src, first, last, each in rows:
        if last is None:
            print("%-48s %-14s %10s" % (label, src, "n/a"))
            continue
        step = last - prev if not label.startswith("  ") else None
        print("%-48s %-14s %10.0f %10.0f %10s  %s" % (
            label, src, first, last, "" if step is None else "%+.0f" % step,
            " ".join("%.0f" % v for v in each)))
        if not label.startswith("  "):
            prev = last
    # Which path answered first on each address, in each round.
    paths = {}
    for r in rounds:
        for n in r["nodes"].values():
            k = n.get("first_answer_path") or "none"
            paths[k] = paths.get(k, 0) + 1
    print("the first answer on an address came through: " +
          ", ".join("%s %d" % (k, v) for k, v in sorted(paths.items())))
    early = []
    for r in rounds:
        for n in r["nodes"].values():
            if n.get("first_answer") is not None and n.get("listed_seen") is not None:
                early.append(n["first_answer"] - n["listed_seen"])
    if early:
        print("first answer minus the moment its address was listed (ms, median; negative = answered "
              "before it was published): %.0f" % statistics.median(early))
    reads = [n["rule_read_ms_median"] for r in rounds for n in r["nodes"].values() if n.get("rule_read_ms_median")]
    if reads:
        print("one read of a node's kube-proxy rules took %.0f ms (median): the rule's time is known to "
              "within that plus the 50 ms interval" % statistics.median(reads))
    # Lines for bench.sh's measure(): name, value, unit, samples (tab-separated) on fd 3.
    with os.fdopen(3, "w") as m:
        for key, label, src, first, last, each in rows:
            if last is None:
                continue
            m.write("\t".join([label.strip() + " (last node)", "%.1f" % last, "ms",
                               "%s; first node %.1f ms" % (src, first), " ".join("%.1f" % v for v in each)]) + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("round")
    r.add_argument("--name", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--target-port", type=int, required=True)
    r.add_argument("--selector", required=True)
    r.add_argument("--nodes", required=True, help="NAME=IP:PID,...")
    r.add_argument("--proxy-mode", default="iptables")
    r.add_argument("--timeout", type=float, default=120)
    r.add_argument("--out", required=True)
    s = sub.add_parser("summary")
    s.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.cmd == "round":
        run_round(a)
    else:
        summary(a.files)


if __name__ == "__main__":
    main()

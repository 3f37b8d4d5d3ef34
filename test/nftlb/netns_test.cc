// SPDX-License-Identifier: Apache-2.0
// nftlb on the real kernel: client ns -> pod ns (nftlb) -> backend ns (echo servers).
// Every test builds its own namespaces (Topology) and removes them on the way out.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test/nftlb/netns_util.h"

namespace nftlb::testing {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kForwards = {
    "--forward", "tcp/80=198.51.100.2:8080",  "--forward", "tcp/80=[2001:db8:2::2]:8080",
    "--forward", "udp/53=198.51.100.2:5353",  "--forward", "udp/53=[2001:db8:2::2]:5353",
    "--forward", "sctp/90=198.51.100.2:9090", "--forward", "sctp/90=[2001:db8:2::2]:9090"};

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// nftlb in the pod namespace.
std::vector<std::string> Nftlb(const Topology& t, const std::vector<std::string>& args) {
  return t.pod->Exec(Cat({NFTLB_BIN}, args));
}

// iptables-save text without its timestamp comments and with the built-in chains' packet
// counters zeroed (stray IPv6 neighbour discovery moves them; they are not the ruleset).
std::string WithoutComments(const std::string& s) {
  std::istringstream in(s);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) continue;
    if (line.rfind(":", 0) == 0 && line.find(" [") != std::string::npos) {
      line = line.substr(0, line.find(" [")) + " [0:0]";
    }
    out += line + "\n";
  }
  return out;
}

// Everything a user would look at in the pod: the nftables ruleset and both legacy saves
// (minus their timestamp comments).
std::string Snapshot(const Topology& t) {
  std::string nft, v4, v6;
  Run(t.pod->Exec({"nft", "list", "ruleset"}), &nft);
  Run(t.pod->Exec({"iptables-legacy-save"}), &v4);
  Run(t.pod->Exec({"ip6tables-legacy-save"}), &v6);
  return "nft:\n" + nft + "iptables:\n" + WithoutComments(v4) + "ip6tables:\n" +
         WithoutComments(v6);
}

void CheckNothingInstalled(const Topology& t) {
  std::string nft;
  CHECK(Run(t.pod->Exec({"nft", "list", "ruleset"}), &nft) == 0);
  CHECK_MESSAGE(nft.empty(), "nft list ruleset: " << nft);
  const std::string snap = Snapshot(t);
  CHECK_MESSAGE(snap.find("AKROBATEO") == std::string::npos, snap);
}

std::string PodSysctl(const Topology& t, const std::string& path) {
  std::string v;
  Run(t.pod->Exec({"cat", "/proc/sys/net/" + path}), &v);
  return v.substr(0, v.find('\n'));
}

bool Sctp() {
  std::string why;
  return KernelSupports(L4::kSctp, &why);
}

void ReportSctpSkip() {
  std::string why;
  if (!KernelSupports(L4::kSctp, &why)) {
    // Printed directly: doctest shows MESSAGE only next to failures.
    std::fprintf(stderr,
                 "SCTP traffic skipped: this kernel has no SCTP sockets (%s); the sctp "
                 "rules are still installed and checked\n",
                 why.c_str());
  }
}

const std::vector<std::string> kBackends = {"nftables", "iptables-legacy"};

// Polls until a TCP request through the pod succeeds or `limit` passes.
bool WaitForPath(const Topology& t, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 300).ok) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST_CASE("TCP, UDP and SCTP over IPv4 and IPv6 cross nftlb, then --delete leaves nothing") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    CHECK_FALSE(Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 500).ok);

    std::string out, err;
    REQUIRE(Run(Nftlb(t, Cat({"--once", "--backend", backend}, kForwards)), &out, &err) == 0);
    CHECK(err.find(std::string("backend=") + backend) != std::string::npos);
    CHECK(err.substr(0, err.find('\n')).find("backend=") != std::string::npos);

    for (const std::string dst : {"192.0.2.2", "2001:db8:1::2"}) {
      CAPTURE(dst);
      Reply tcp = Request(*t.client, L4::kTcp, dst, 80);
      CHECK_MESSAGE(tcp.ok, tcp.error);
      CHECK(tcp.text == "b2:hello");
      Reply udp = Request(*t.client, L4::kUdp, dst, 53);
      CHECK_MESSAGE(udp.ok, udp.error);
      CHECK(udp.text == "b2:hello");
      if (Sctp()) {
        Reply sctp = Request(*t.client, L4::kSctp, dst, 90);
        CHECK_MESSAGE(sctp.ok, sctp.error);
        CHECK(sctp.text == "b2:hello");
      }
    }
    ReportSctpSkip();
    // Forwarding came from nftlb's per-interface switch, not the global sysctl.
    CHECK(PodSysctl(t, "ipv4/ip_forward") == "0");
    CHECK(PodSysctl(t, "ipv4/conf/eth0/forwarding") == "1");
    CHECK(PodSysctl(t, "ipv4/conf/eth1/forwarding") == "1");
    CHECK(PodSysctl(t, "ipv4/conf/eth0/send_redirects") == "0");

    // What is installed is exactly what --dry-run prints.
    std::string dry;
    REQUIRE(Run(Nftlb(t, Cat({"--dry-run", "--backend", backend}, kForwards)), &dry) == 0);
    if (std::string(backend) == "nftables") {
      std::string listed;
      REQUIRE(Run(t.pod->Exec({"nft", "list", "table", "inet", "akrobateo"}), &listed) == 0);
      CHECK(listed == dry);
    } else {
      std::string saved;
      Run(t.pod->Exec({"iptables-legacy-save"}), &saved);
      std::istringstream in(dry);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("-A ", 0) == 0 && line.find("2001:db8") == std::string::npos) {
          CHECK_MESSAGE(saved.find(line + "\n") != std::string::npos, line);
        }
      }
    }

    REQUIRE(Run(Nftlb(t, {"--delete", "--backend", backend}), &out, &err) == 0);
    CheckNothingInstalled(t);
    CHECK_FALSE(Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 500).ok);
    // --delete when nothing is there is fine too.
    CHECK(Run(Nftlb(t, {"--delete", "--backend", backend})) == 0);
  }
}

TEST_CASE("node and [node] targets from --node-ips, under a custom --table") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    // The "node" here is the backend namespace's second address pair (answers as b3).
    REQUIRE(Run(Nftlb(t, {"--once", "--backend", backend, "--table", "lb-test", "--node-ips",
                          "2001:db8:2::3,198.51.100.3", "--forward", "tcp/80=node:8080",
                          "--forward", "tcp/80=[node]:8080"})) == 0);
    for (const std::string dst : {"192.0.2.2", "2001:db8:1::2"}) {
      Reply r = Request(*t.client, L4::kTcp, dst, 80);
      CHECK_MESSAGE(r.ok, dst << ": " << r.error);
      CHECK(r.text == "b3:hello");
    }
    const std::string snap = Snapshot(t);
    if (backend == "nftables") {
      CHECK(snap.find("table inet lb-test {") != std::string::npos);
      CHECK(snap.find("dnat ip6 to [2001:db8:2::3]:8080") != std::string::npos);
    } else {
      CHECK(snap.find("-A PREROUTING -j LB-TEST-PRE") != std::string::npos);
    }
    CHECK(snap.find("akrobateo") == std::string::npos);
    REQUIRE(Run(Nftlb(t, {"--delete", "--backend", backend, "--table", "lb-test"})) == 0);
    CheckNothingInstalled(t);
    CHECK(Snapshot(t).find("LB-TEST") == std::string::npos);
  }
}

TEST_CASE("--source-range: allowed sources pass, others are dropped") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    REQUIRE(Run(Nftlb(t, Cat({"--once", "--backend", backend, "--source-range", "192.0.2.1/32",
                              "--source-range", "2001:db8:1::1/128"},
                             kForwards))) == 0);
    Reply ok4 = Request(*t.client, L4::kTcp, "192.0.2.2", 80, "192.0.2.1");
    CHECK_MESSAGE(ok4.ok, ok4.error);
    Reply ok6 = Request(*t.client, L4::kTcp, "2001:db8:1::2", 80, "2001:db8:1::1");
    CHECK_MESSAGE(ok6.ok, ok6.error);
    Reply ok_udp = Request(*t.client, L4::kUdp, "192.0.2.2", 53, "192.0.2.1");
    CHECK_MESSAGE(ok_udp.ok, ok_udp.error);
    CHECK_FALSE(Request(*t.client, L4::kTcp, "192.0.2.2", 80, "192.0.2.100", 800).ok);
    CHECK_FALSE(Request(*t.client, L4::kTcp, "2001:db8:1::2", 80, "2001:db8:1::100", 800).ok);
    CHECK_FALSE(Request(*t.client, L4::kUdp, "192.0.2.2", 53, "192.0.2.100", 800).ok);
    REQUIRE(Run(Nftlb(t, {"--delete", "--backend", backend})) == 0);
    CheckNothingInstalled(t);
  }
}

TEST_CASE("daemon: removed or altered rules are back within --resync; SIGTERM leaves nothing") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    Child nftlb(Nftlb(t, Cat({"--backend", backend, "--resync", "1"}, kForwards)));
    REQUIRE_MESSAGE(WaitForPath(t, 5s), nftlb.Log());
    const bool nft = std::string(backend) == "nftables";

    // Altered: a rule that stops DNAT (accept before it in the nat chain).
    if (nft) {
      Sh(t.pod->Exec({"nft", "insert", "rule", "inet", "akrobateo", "prerouting", "tcp", "dport",
                      "80", "accept"}));
    } else {
      Sh(t.pod->Exec({"iptables-legacy", "-t", "nat", "-I", "AKROBATEO-PRE", "-p", "tcp", "--dport",
                      "80", "-j", "ACCEPT"}));
    }
    CHECK_FALSE(Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 300).ok);
    CHECK_MESSAGE(WaitForPath(t, 4s), nftlb.Log());

    // Removed behind its back.
    if (nft) {
      Sh(t.pod->Exec({"nft", "delete", "table", "inet", "akrobateo"}));
    } else {
      Sh(t.pod->Exec({"iptables-legacy", "-t", "nat", "-D", "PREROUTING", "-j", "AKROBATEO-PRE"}));
    }
    CHECK_FALSE(Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 300).ok);
    CHECK_MESSAGE(WaitForPath(t, 4s), nftlb.Log());
    Reply udp6 = Request(*t.client, L4::kUdp, "2001:db8:1::2", 53);
    CHECK_MESSAGE(udp6.ok, udp6.error);

    CHECK(nftlb.Stop(SIGTERM) == 0);
    const std::string log = nftlb.Log();
    CHECK(log.find("missing or altered") != std::string::npos);
    CHECK(log.find(std::string("backend=") + backend) < log.find('\n'));
    CheckNothingInstalled(t);
  }
}

// Polls `ok` until it holds or `limit` passes (a condition, not a sleep standing in for one).
bool Eventually(const std::function<bool()>& ok, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (ok()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return ok();
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// The kubelet's view of a balancer pod: a tcpSocket probe on --ready-port from outside the pod.
// The port must answer only while the rules are in. To hold the repair of a table deleted by hand
// off for as long as the test looks, nftlb forwards to an IPv6 target and runs where /proc/sys is
// read-only (as in a pod without the sysctl): with net.ipv6.conf.all.forwarding set back to 0 from
// outside, every re-install fails until the test sets it to 1 again.
TEST_CASE(
    "--ready-port answers exactly while the rules are in: after the install, not while "
    "they are missing, again after the repair") {
  constexpr int kReady = 9901;
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    const bool nft = backend == "nftables";
    auto probe = [&] { return Connect(*t.client, "192.0.2.2", kReady, 300).ok; };
    auto rules_in = [&] {
      std::string out;
      if (nft) return Run(t.pod->Exec({"nft", "list", "table", "inet", "akrobateo"}), &out) == 0;
      Run(t.pod->Exec({"iptables-legacy-save", "-t", "nat"}), &out);
      return out.find("-A PREROUTING -j AKROBATEO-PRE") != std::string::npos;
    };
    auto forwarding = [&](const char* v) {
      Sh(t.pod->Exec({"sysctl", "-q", "-w", std::string("net.ipv6.conf.all.forwarding=") + v}));
    };
    CHECK_FALSE(probe());  // nothing listens before nftlb
    forwarding("1");
    const std::string script =
        "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec \"$0\" "
        "\"$@\"";
    Child nftlb(t.pod->Exec(Cat({"unshare", "--mount", "sh", "-c", script, NFTLB_BIN, "--backend",
                                 backend, "--resync", "1", "--ready-port", std::to_string(kReady)},
                                kForwards)));
    // The first answer of the port: the rules are there by then, and traffic crosses them.
    REQUIRE_MESSAGE(Eventually(probe, 5s), nftlb.Log());
    CHECK(rules_in());
    Reply first = Request(*t.client, L4::kTcp, "192.0.2.2", 80);
    CHECK_MESSAGE(first.ok, first.error);
    CHECK(probe());  // and it keeps answering, probe after probe

    // Deleted by hand, and no repair possible: the daemon closes the port at its next check.
    forwarding("0");
    if (nft) {
      Sh(t.pod->Exec({"nft", "delete", "table", "inet", "akrobateo"}));
    } else {
      Sh(t.pod->Exec({"iptables-legacy", "-t", "nat", "-D", "PREROUTING", "-j", "AKROBATEO-PRE"}));
    }
    CHECK_MESSAGE(Eventually([&] { return !probe(); }, 4s), nftlb.Log());
    // Two failed repairs later the port is still closed and the rules still missing.
    CHECK_MESSAGE(Eventually([&] { return Count(nftlb.Log(), "re-install failed") >= 2; }, 5s),
                  nftlb.Log());
    CHECK_FALSE(probe());
    CHECK_FALSE(rules_in());
    CHECK_FALSE(Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 300).ok);

    // Repairable again: the port answers once the rules are back, and only then.
    forwarding("1");
    CHECK_MESSAGE(Eventually(probe, 4s), nftlb.Log());
    CHECK(rules_in());
    Reply again = Request(*t.client, L4::kTcp, "192.0.2.2", 80);
    CHECK_MESSAGE(again.ok, again.error);

    // SIGTERM: the port closes, the rules go.
    CHECK(nftlb.Stop(SIGTERM) == 0);
    CHECK_FALSE(probe());
    CheckNothingInstalled(t);
    const std::string log = nftlb.Log();
    CHECK_MESSAGE(log.find("ready-port=" + std::to_string(kReady)) != std::string::npos, log);
    forwarding("0");
  }
}

TEST_CASE("--ready-port that cannot be had: exit 1 before any rule is installed") {
  Topology t;
  // Something else holds the port in the pod's namespace.
  Child holder(t.pod->Exec({"/usr/bin/python3", "-c",
                            "import socket,time\n"
                            "s=socket.socket(socket.AF_INET6)\n"
                            "s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\n"
                            "s.bind(('::',9901)); s.listen(1); print('held',flush=True)\n"
                            "time.sleep(60)"}));
  REQUIRE_MESSAGE(Eventually([&] { return holder.Log().find("held") != std::string::npos; }, 5s),
                  holder.Log());
  std::string out, err;
  CHECK(Run(Nftlb(t, Cat({"--ready-port", "9901"}, kForwards)), &out, &err) == 1);
  CHECK_MESSAGE(err.find("ready port 9901") != std::string::npos, err);
  CHECK_MESSAGE(err.find("Address already in use") != std::string::npos, err);
  CheckNothingInstalled(t);
}

TEST_CASE("256 forwards: one install, and the daemon finds it intact at every resync") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    std::vector<std::string> args = {"--backend", backend, "--resync", "1"};
    for (int i = 0; i < 255; ++i) {
      args.push_back("--forward");
      args.push_back("udp/" + std::to_string(10000 + i) +
                     "=198.51.100.2:" + std::to_string(20000 + i));
    }
    args.push_back("--forward");
    args.push_back("tcp/80=198.51.100.2:8080");
    Child nftlb(Nftlb(t, args));
    REQUIRE_MESSAGE(WaitForPath(t, 5s), nftlb.Log());
    std::this_thread::sleep_for(2500ms);  // at least two resync checks
    CHECK(nftlb.Stop(SIGTERM) == 0);
    const std::string log = nftlb.Log();
    CHECK_MESSAGE(log.find("missing or altered") == std::string::npos, log);
    CHECK_MESSAGE(log.find("failed") == std::string::npos, log);
    CheckNothingInstalled(t);
  }
}

TEST_CASE("with CAP_NET_ADMIN only, a balancer pod's one capability, both backends work") {
  // setpriv limits the bounding set: nftlb and the tools it runs get NET_ADMIN and nothing
  // else, as in a pod with capabilities drop ALL, add NET_ADMIN.
  const std::vector<std::string> net_admin_only = {"setpriv", "--bounding-set=-all,+net_admin"};
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    if (backend == "iptables-legacy") {
      // The control: without the shim the legacy tools cannot even read a table, since their
      // raw socket needs CAP_NET_RAW.
      std::string err;
      CHECK(Run(t.pod->Exec(Cat(net_admin_only, {"iptables-legacy-save", "-t", "nat"})), nullptr,
                &err) != 0);
      CHECK_MESSAGE(err.find("Permission denied") != std::string::npos, err);
    }
    std::string err;
    REQUIRE_MESSAGE(
        Run(t.pod->Exec(Cat(net_admin_only, Cat({NFTLB_BIN, "--once", "--backend", backend},
                                                {"--forward", "tcp/80=198.51.100.2:8080",
                                                 "--forward", "udp/53=198.51.100.2:5353"}))),
            nullptr, &err) == 0,
        err);
    Reply tcp = Request(*t.client, L4::kTcp, "192.0.2.2", 80);
    CHECK_MESSAGE(tcp.ok, tcp.error);
    CHECK(tcp.text == "b2:hello");
    Reply udp = Request(*t.client, L4::kUdp, "192.0.2.2", 53);
    CHECK_MESSAGE(udp.ok, udp.error);
    CHECK(udp.text == "b2:hello");
    CHECK(Run(t.pod->Exec(Cat(net_admin_only, {NFTLB_BIN, "--delete", "--backend", backend}))) ==
          0);
    CheckNothingInstalled(t);
  }
}

// nftlb --check in the pod namespace as the kubelet's exec probe runs it in a balancer pod:
// CAP_NET_ADMIN only (setpriv), a read-only root filesystem and a read-only /run (a private
// mount namespace), extra environment variables (env NAME=VALUE ...) as in the container.
int CheckRun(const Topology& t, const std::vector<std::string>& env,
             const std::vector<std::string>& args, std::string* out) {
  const std::string script =
      "mount -o remount,bind,ro / && mount -t tmpfs -o ro tmpfs /run && "
      "exec setpriv --bounding-set=-all,+net_admin \"$0\" \"$@\"";
  std::vector<std::string> argv = {"unshare", "--mount", "sh", "-c", script, "env"};
  argv = Cat(Cat(argv, env), Cat({NFTLB_BIN, "--check"}, args));
  std::string err;
  const int rc = Run(t.pod->Exec(argv), out, &err);
  *out += err;  // the probe's output is both streams; --check writes its one line to stdout
  return rc;
}

bool OneLine(const std::string& s) {
  return !s.empty() && s.find('\n') == s.size() - 1;
}

TEST_CASE("--check: absent 1, installed 0, other arguments 1, altered 1; reads only") {
  const std::vector<std::string> args = {
      "--forward", "tcp/80=198.51.100.2:8080", "--forward",      "tcp/80=[2001:db8:2::2]:8080",
      "--forward", "udp/53=198.51.100.2:5353", "--source-range", "192.0.2.0/24"};
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    const bool nft = backend == "nftables";
    Topology t;
    auto check = [&](const std::vector<std::string>& a, std::string* out) {
      return CheckRun(t, {}, Cat({"--backend", backend}, a), out);
    };
    std::string out;
    if (!nft) {
      // The first read of a legacy table in a namespace (any iptables-save) makes the kernel
      // instantiate its empty built-in chains; that is no rule, so read once before comparing.
      for (const char* table : {"nat", "filter"}) {
        Sh(t.pod->Exec({"iptables-legacy-save", "-t", table}));
        Sh(t.pod->Exec({"ip6tables-legacy-save", "-t", table}));
      }
    }
    const std::string nothing = Snapshot(t);
    CHECK(check(args, &out) == 1);
    CHECK_MESSAGE(
        out.find(nft ? "table inet akrobateo is absent"
                     : "chains AKROBATEO-PRE, AKROBATEO-POST, AKROBATEO-FWD are absent") !=
            std::string::npos,
        out);
    CHECK_MESSAGE(OneLine(out), out);
    CHECK(Snapshot(t) == nothing);

    REQUIRE(Run(Nftlb(t, Cat({"--once", "--backend", backend}, args))) == 0);
    const std::string installed = Snapshot(t);
    CHECK(check(args, &out) == 0);
    CHECK_MESSAGE(out.find("the kernel holds exactly the wanted ruleset") != std::string::npos,
                  out);
    CHECK_MESSAGE(OneLine(out), out);
    // The order of the flags is not the ruleset.
    CHECK(
        check({"--source-range", "192.0.2.0/24", "--forward", "udp/53=198.51.100.2:5353",
               "--forward", "tcp/80=[2001:db8:2::2]:8080", "--forward", "tcp/80=198.51.100.2:8080"},
              &out) == 0);

    // Arguments other than those installed: another target, one forward less or more, no
    // source range, another range, another table.
    const std::vector<std::vector<std::string>> others = {
        {"--forward", "tcp/80=198.51.100.3:8080", "--forward", "tcp/80=[2001:db8:2::2]:8080",
         "--forward", "udp/53=198.51.100.2:5353", "--source-range", "192.0.2.0/24"},
        {"--forward", "tcp/80=198.51.100.2:8080", "--forward", "tcp/80=[2001:db8:2::2]:8080",
         "--source-range", "192.0.2.0/24"},
        Cat(args, {"--forward", "tcp/81=198.51.100.2:8080"}),
        {"--forward", "tcp/80=198.51.100.2:8080", "--forward", "tcp/80=[2001:db8:2::2]:8080",
         "--forward", "udp/53=198.51.100.2:5353"},
        {"--forward", "tcp/80=198.51.100.2:8080", "--forward", "tcp/80=[2001:db8:2::2]:8080",
         "--forward", "udp/53=198.51.100.2:5353", "--source-range", "192.0.2.0/25"},
        Cat({"--table", "other"}, args),
    };
    for (const auto& other : others) {
      CAPTURE(other.size());
      CHECK(check(other, &out) == 1);
      CHECK_MESSAGE(
          (out.find("differ") != std::string::npos || out.find("absent") != std::string::npos),
          out);
      CHECK_MESSAGE(OneLine(out), out);
    }
    CHECK(Snapshot(t) == installed);

    // Altered by hand: an accept in front of the DNAT rules.
    if (nft) {
      Sh(t.pod->Exec({"nft", "insert", "rule", "inet", "akrobateo", "prerouting", "tcp", "dport",
                      "80", "accept"}));
    } else {
      Sh(t.pod->Exec({"iptables-legacy", "-t", "nat", "-I", "AKROBATEO-PRE", "-p", "tcp", "--dport",
                      "80", "-j", "ACCEPT"}));
    }
    CHECK(check(args, &out) == 1);
    CHECK_MESSAGE(
        out.find(nft ? "table inet akrobateo differs from the wanted ruleset: rule"
                     : "chain AKROBATEO-PRE differs from the wanted ruleset") != std::string::npos,
        out);
    CHECK_MESSAGE(OneLine(out), out);
    REQUIRE(Run(Nftlb(t, Cat({"--once", "--backend", backend}, args))) == 0);
    CHECK(check(args, &out) == 0);
    // A jump or a chain removed.
    if (nft) {
      Sh(t.pod->Exec({"nft", "delete", "chain", "inet", "akrobateo", "filter-prerouting"}));
    } else {
      Sh(t.pod->Exec({"iptables-legacy", "-t", "nat", "-D", "PREROUTING", "-j", "AKROBATEO-PRE"}));
    }
    CHECK(check(args, &out) == 1);
    CHECK_MESSAGE(out.find("differ") != std::string::npos, out);

    REQUIRE(Run(Nftlb(t, {"--delete", "--backend", backend})) == 0);
    CHECK(check(args, &out) == 1);
    CHECK_MESSAGE(out.find("absent") != std::string::npos, out);
    CheckNothingInstalled(t);
  }
}

TEST_CASE("--check --backend auto finds what the auto daemon installed; node IPs from the env") {
  Topology t;
  EchoServers servers(*t.backend);
  // The balancer pod's Local-policy arguments: the node's address from a variable.
  const std::vector<std::string> env = {"AKROBATEO_HOST_IPS=198.51.100.3,2001:db8:2::3"};
  const std::vector<std::string> args = {"--forward", "tcp/80=node:8080", "--forward",
                                         "tcp/80=[node]:8080", "--node-ips-env=AKROBATEO_HOST_IPS"};
  std::string out;
  CHECK(CheckRun(t, env, args, &out) == 1);
  Child nftlb(t.pod->Exec(Cat(Cat({"env"}, env), Cat({NFTLB_BIN, "--resync", "3600"}, args))));
  // Ready right after the install: poll as a startup probe would, every 20 ms.
  const auto start = std::chrono::steady_clock::now();
  int rc = 1;
  while (rc != 0 && std::chrono::steady_clock::now() - start < 5s) {
    rc = CheckRun(t, env, args, &out);
    if (rc != 0) std::this_thread::sleep_for(20ms);
  }
  REQUIRE_MESSAGE(rc == 0, out << nftlb.Log());
  CHECK_MESSAGE(out.find("backend=nftables") != std::string::npos, out);
  CHECK(nftlb.Log().find("backend=nftables") < nftlb.Log().find('\n'));
  Reply r = Request(*t.client, L4::kTcp, "192.0.2.2", 80);
  CHECK_MESSAGE(r.ok, r.error);
  CHECK(r.text == "b3:hello");
  // Another node address in the variable is another ruleset.
  CHECK(CheckRun(t, {"AKROBATEO_HOST_IPS=198.51.100.2,2001:db8:2::3"}, args, &out) == 1);
  // The other backend's rules are not there.
  CHECK(CheckRun(t, env, Cat({"--backend", "iptables-legacy"}, args), &out) == 1);
  // The daemon's resync is an hour away: a deleted table stays deleted, and --check says so.
  Sh(t.pod->Exec({"nft", "delete", "table", "inet", "akrobateo"}));
  CHECK(CheckRun(t, env, args, &out) == 1);
  CHECK_MESSAGE(out.find("table inet akrobateo is absent") != std::string::npos, out);
  CHECK(nftlb.Stop(SIGTERM) == 0);
  CheckNothingInstalled(t);
}

TEST_CASE("--check: a kernel refusal of the read is exit 1 with the errno text") {
  Topology t;
  REQUIRE(Run(Nftlb(t, Cat({"--once"}, kForwards))) == 0);
  const std::vector<std::string> unprivileged = {
      "setpriv",         "--reuid=65534",       "--regid=65534", "--clear-groups",
      "--inh-caps=-all", "--bounding-set=-all", NFTLB_BIN,       "--check"};
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    std::string out, err;
    CHECK(Run(t.pod->Exec(Cat(unprivileged, Cat({"--backend", backend}, kForwards))), &out, &err) ==
          1);
    CHECK_MESSAGE(OneLine(out), out << err);
    CHECK_MESSAGE((out.find("Operation not permitted") != std::string::npos ||
                   out.find("Permission denied") != std::string::npos),
                  out);
  }
  REQUIRE(Run(Nftlb(t, {"--delete"})) == 0);
}

TEST_CASE("SIGINT also removes everything and exits 0") {
  Topology t;
  Child nftlb(Nftlb(t, Cat({"--resync", "5"}, kForwards)));
  std::string nft;
  for (int i = 0; i < 50 && nft.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    Run(t.pod->Exec({"nft", "list", "ruleset"}), &nft);
  }
  REQUIRE(!nft.empty());
  CHECK(nftlb.Stop(SIGINT) == 0);
  CheckNothingInstalled(t);
}

TEST_CASE("atomic replacement: no failed connection while the target changes") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    EchoServers servers(*t.backend);
    auto install = [&](const std::string& target) {
      return Run(Nftlb(t, {"--once", "--backend", backend, "--forward", "tcp/80=" + target}));
    };
    REQUIRE(install("198.51.100.2:8080") == 0);

    std::atomic<bool> stop{false};
    std::map<std::string, int> answers;
    std::vector<std::string> failures;
    std::thread client([&] {
      while (!stop) {
        Reply r = Request(*t.client, L4::kTcp, "192.0.2.2", 80, "", 2000);
        if (r.ok) {
          ++answers[r.text];
        } else {
          failures.push_back(r.error);
        }
      }
    });
    // At least 6 replacements and at least 2.5 s of client traffic, however slow the
    // machine: counted, not timed, so a loaded CI host cannot make it fail.
    const auto end = std::chrono::steady_clock::now() + 2500ms;
    int runs = 0;
    while (runs < 6 || std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(150ms);
      CHECK(install(runs++ % 2 == 0 ? "198.51.100.3:8080" : "198.51.100.2:8080") == 0);
    }
    stop = true;
    client.join();
    std::fprintf(stderr,
                 "atomic replacement (%s): %d replacements, answers b2=%d b3=%d, failures=%zu\n",
                 backend.c_str(), runs, answers["b2:hello"], answers["b3:hello"], failures.size());
    CHECK(failures.empty());
    if (!failures.empty()) {
      MESSAGE("first failure: " << failures.front());
      // The kernel's counters say where a connection died (a SYN-ACK with no route back
      // from the backend, IpOutNoRoutes there, is a connection that was not masqueraded).
      for (const Netns* ns : {t.client.get(), t.pod.get(), t.backend.get()}) {
        std::string out;
        Run(ns->Exec({"nstat", "-asz"}), &out);
        MESSAGE(ns->name() << " counters:\n" << out);
      }
    }
    CHECK(answers["b2:hello"] > 0);
    CHECK(answers["b3:hello"] > 0);
    int total = 0;
    for (const auto& [text, n] : answers) total += n;
    CHECK(total == answers["b2:hello"] + answers["b3:hello"]);
  }
}

TEST_CASE("bad input leaves the installed ruleset byte-for-byte unchanged") {
  for (const std::string& backend : kBackends) {
    CAPTURE(backend);
    Topology t;
    REQUIRE(Run(Nftlb(t, Cat({"--once", "--backend", backend, "--source-range", "192.0.2.0/24"},
                             kForwards))) == 0);
    const std::string before = Snapshot(t);
    REQUIRE(before.find(std::string(backend) == "nftables" ? "table inet akrobateo"
                                                           : "AKROBATEO-PRE") != std::string::npos);
    const std::vector<std::vector<std::string>> bad = {
        {"--once", "--forward", "tcp/0=198.51.100.3:80"},
        {"--once", "--forward", "tcp/80=2001:db8::3:80"},
        {"--forward", "tcp/80=198.51.100.3:80", "--source-range", "192.0.2.0/99"},
        {"--delete", "--table", "no way"},
        {"--once", "--forward", "tcp/80=[node]:30080", "--node-ips", "192.0.2.9"},
        {"--once"},
    };
    for (const auto& args : bad) {
      std::string err;
      CHECK(Run(Nftlb(t, Cat({"--backend", backend}, args)), nullptr, &err) == 2);
      CHECK(Snapshot(t) == before);
    }
    REQUIRE(Run(Nftlb(t, {"--delete", "--backend", backend})) == 0);
  }
}

TEST_CASE("iptables-legacy needs no writable /run (read-only root filesystem)") {
  Topology t;
  EchoServers servers(*t.backend);
  // /run read-only, so /run/xtables.lock cannot be created, as in the balancer pod.
  const std::string script = "mount -t tmpfs -o ro tmpfs /run && exec \"$0\" \"$@\"";
  std::string out, err;
  CHECK(Run(t.pod->Exec(Cat({"unshare", "--mount", "sh", "-c", script, NFTLB_BIN, "--once",
                             "--backend", "iptables-legacy"},
                            kForwards)),
            &out, &err) == 0);
  CHECK_MESSAGE(err.find("xtables.lock") == std::string::npos, err);
  Reply r = Request(*t.client, L4::kTcp, "192.0.2.2", 80);
  CHECK_MESSAGE(r.ok, r.error);
  CHECK(Run(t.pod->Exec({"unshare", "--mount", "sh", "-c", script, NFTLB_BIN, "--delete",
                         "--backend", "iptables-legacy"})) == 0);
  CheckNothingInstalled(t);
}

TEST_CASE("IPv6 targets with all.forwarding=0 that cannot be set: exit 1, rules untouched") {
  Topology t;
  REQUIRE(Run(Nftlb(t, {"--once", "--forward", "tcp/80=198.51.100.2:8080"})) == 0);
  const std::string before = Snapshot(t);
  REQUIRE(PodSysctl(t, "ipv6/conf/all/forwarding") == "0");
  // /proc/sys read-only, as in a container without the sysctl allowed.
  const std::string script =
      "mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys && exec \"$0\" "
      "\"$@\"";
  std::string out, err;
  CHECK(Run(t.pod->Exec({"unshare", "--mount", "sh", "-c", script, NFTLB_BIN, "--once", "--forward",
                         "tcp/80=198.51.100.3:8080", "--forward", "tcp/80=[2001:db8:2::2]:8080"}),
            &out, &err) == 1);
  CHECK_MESSAGE(err.find("net.ipv6.conf.all.forwarding=1") != std::string::npos, err);
  CHECK_MESSAGE(err.find("Read-only file system") != std::string::npos, err);
  CHECK(Snapshot(t) == before);
  CHECK(PodSysctl(t, "ipv6/conf/all/forwarding") == "0");
}

TEST_CASE("kernel refusal exits 1 with the errno text; auto falls back with the reason") {
  Topology t;
  REQUIRE(Run(Nftlb(t, Cat({"--once"}, kForwards))) == 0);
  const std::string before = Snapshot(t);
  // Without CAP_NET_ADMIN the kernel refuses every nf_tables message.
  const std::vector<std::string> unprivileged = {
      "setpriv",         "--reuid=65534",       "--regid=65534", "--clear-groups",
      "--inh-caps=-all", "--bounding-set=-all", NFTLB_BIN};
  std::string out, err;
  CHECK(Run(t.pod->Exec(Cat(unprivileged, Cat({"--backend", "nftables", "--once"}, kForwards))),
            &out, &err) == 1);
  CHECK_MESSAGE(err.find("Operation not permitted") != std::string::npos, err);
  CHECK(Snapshot(t) == before);
  CHECK(Run(t.pod->Exec(Cat(unprivileged, Cat({"--dry-run"}, kForwards))), &out, &err) == 0);
  const std::string first = err.substr(0, err.find('\n'));
  CHECK_MESSAGE(first.find("backend=iptables-legacy reason=nf_tables unusable (NFT_MSG_GETGEN") !=
                    std::string::npos,
                first);
  CHECK(out.find("*nat") != std::string::npos);
  // In a namespace it may use, auto picks nftables.
  CHECK(Run(Nftlb(t, Cat({"--dry-run"}, kForwards)), &out, &err) == 0);
  CHECK(err.substr(0, err.find('\n')).find("backend=nftables") != std::string::npos);
  REQUIRE(Run(Nftlb(t, {"--delete"})) == 0);
  CheckNothingInstalled(t);
}

}  // namespace
}  // namespace nftlb::testing

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "nftlb netns tests need root (network namespaces); skipped\n");
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  doctest::Context ctx(argc, argv);
  return ctx.run();
}

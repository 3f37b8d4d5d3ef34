// SPDX-License-Identifier: Apache-2.0
// Every flag of nftlb and every kind of bad input, through ParseArgs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "nftlb/config.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace nftlb {
namespace {

Config MustParse(const std::vector<std::string>& args) {
  Result<Config> r = ParseArgs(args);
  if (!r) FAIL("unexpected error: " << r.error());
  return *r;
}

std::string MustFail(const std::vector<std::string>& args) {
  Result<Config> r = ParseArgs(args);
  REQUIRE_MESSAGE(!r.ok(), "expected a parse error");
  return r.error();
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST_CASE("defaults with one forward") {
  Config c = MustParse({"--forward", "tcp/80=10.96.0.10:8080"});
  CHECK(c.backend == BackendChoice::kAuto);
  CHECK(c.ruleset.table == "akrobateo");
  CHECK(c.resync_seconds == 10);
  CHECK(c.mode == Mode::kDaemon);
  CHECK(c.ruleset.source_ranges.empty());
  REQUIRE(c.ruleset.forwards.size() == 1);
  CHECK(c.ruleset.forwards[0].proto == Proto::kTcp);
  CHECK(c.ruleset.forwards[0].port == 80);
  CHECK(c.ruleset.forwards[0].target.ToString() == "10.96.0.10");
  CHECK(c.ruleset.forwards[0].target.family == Family::kIpv4);
  CHECK(c.ruleset.forwards[0].target_port == 8080);
}

TEST_CASE("every flag, both spellings") {
  Config c = MustParse({"--backend=iptables-legacy", "--table", "lb1", "--source-range",
                        "192.0.2.0/24", "--source-range=2001:db8::/32", "--resync", "3", "--once",
                        "--forward=udp/53=[2001:db8::53]:5353", "--forward", "SCTP/9=192.0.2.9:99",
                        "--node-ips", "10.0.0.1,fd00::1"});
  CHECK(c.backend == BackendChoice::kIptablesLegacy);
  CHECK(c.ruleset.table == "lb1");
  REQUIRE(c.ruleset.source_ranges.size() == 2);
  CHECK(c.ruleset.source_ranges[0].ToString() == "192.0.2.0/24");
  CHECK(c.ruleset.source_ranges[1].ToString() == "2001:db8::/32");
  CHECK(c.resync_seconds == 3);
  CHECK(c.mode == Mode::kOnce);
  REQUIRE(c.ruleset.forwards.size() == 2);
  CHECK(c.ruleset.forwards[0].proto == Proto::kUdp);
  CHECK(c.ruleset.forwards[0].target.family == Family::kIpv6);
  CHECK(c.ruleset.forwards[0].target.ToString() == "2001:db8::53");
  CHECK(c.ruleset.forwards[0].target_port == 5353);
  CHECK(c.ruleset.forwards[1].proto == Proto::kSctp);
  CHECK(c.ruleset.forwards[1].port == 9);
  REQUIRE(c.node_ips.size() == 2);
  CHECK(c.node_ips[1].ToString() == "fd00::1");
  CHECK(MustParse({"--backend", "nftables", "--forward", "tcp/1=192.0.2.1:1"}).backend ==
        BackendChoice::kNftables);
  CHECK(MustParse({"--backend", "auto", "--forward", "tcp/1=192.0.2.1:1"}).backend ==
        BackendChoice::kAuto);
}

TEST_CASE("modes") {
  CHECK(MustParse({"--dry-run", "--forward", "tcp/1=192.0.2.1:1"}).mode == Mode::kDryRun);
  CHECK(MustParse({"--once", "--forward", "tcp/1=192.0.2.1:1"}).mode == Mode::kOnce);
  CHECK(MustParse({"--delete"}).mode == Mode::kDelete);  // needs no --forward
  CHECK(MustParse({"--check", "--forward", "tcp/1=192.0.2.1:1"}).mode == Mode::kCheck);
  CHECK(Contains(MustFail({"--once", "--delete"}), "exclude each other"));
  for (const char* other : {"--once", "--delete", "--dry-run"}) {
    CAPTURE(other);
    CHECK(Contains(MustFail({"--check", other, "--forward", "tcp/1=192.0.2.1:1"}),
                   "exclude each other"));
  }
  CHECK(Contains(MustFail({"--check"}), "no --forward"));  // it checks a ruleset: needs one
  CHECK(Contains(MustFail({"--dry-run=yes", "--forward", "tcp/1=192.0.2.1:1"}), "takes no value"));
  CHECK(Contains(MustFail({"--check=1", "--forward", "tcp/1=192.0.2.1:1"}), "takes no value"));
}

TEST_CASE("ports: 1 and 65535 are fine, 0 and 65536 are not") {
  CHECK(MustParse({"--forward", "tcp/1=192.0.2.1:65535"}).ruleset.forwards[0].port == 1);
  CHECK(MustParse({"--forward", "tcp/65535=192.0.2.1:1"}).ruleset.forwards[0].port == 65535);
  CHECK(Contains(MustFail({"--forward", "tcp/0=192.0.2.1:80"}), "port \"0\""));
  CHECK(Contains(MustFail({"--forward", "tcp/65536=192.0.2.1:80"}), "port \"65536\""));
  CHECK(Contains(MustFail({"--forward", "tcp/80=192.0.2.1:0"}), "target port \"0\""));
  CHECK(Contains(MustFail({"--forward", "tcp/80=192.0.2.1:65536"}), "target port \"65536\""));
  CHECK(Contains(MustFail({"--forward", "tcp/-1=192.0.2.1:80"}), "\"-1\""));
  CHECK(Contains(MustFail({"--forward", "tcp/8o=192.0.2.1:80"}), "\"8o\""));
  CHECK(Contains(MustFail({"--forward", "tcp/=192.0.2.1:80"}), "port \"\""));
}

TEST_CASE("protocols") {
  CHECK(Contains(MustFail({"--forward", "icmp/80=192.0.2.1:80"}), "unknown protocol \"icmp\""));
  CHECK(Contains(MustFail({"--forward", "80=192.0.2.1:80"}), "PROTO/PORT"));
  CHECK(MustParse({"--forward", "UDP/80=192.0.2.1:80"}).ruleset.forwards[0].proto == Proto::kUdp);
}

TEST_CASE("target addresses") {
  CHECK(Contains(MustFail({"--forward", "tcp/80=2001:db8::1:80"}), "must be in brackets"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=[2001:db8::g]:80"}),
                 "\"2001:db8::g\" is not an IPv6"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=[2001:db8::1:80"}), "missing ']'"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=[2001:db8::1]80"}), "':PORT'"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=[192.0.2.1]:80"}), "not an IPv6"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=192.0.2.256:80"}), "\"192.0.2.256\""));
  CHECK(Contains(MustFail({"--forward", "tcp/80=example.com:80"}), "\"example.com\""));
  CHECK(Contains(MustFail({"--forward", "tcp/80=192.0.2.1"}), "ADDR:PORT"));
  CHECK(Contains(MustFail({"--forward", "tcp/80"}), "PROTO/PORT=ADDR:PORT"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=127.0.0.1:80"}), "127.0.0.1"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=0.0.0.0:80"}), "0.0.0.0"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=[::1]:80"}), "::1"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=[ff02::1]:80"}), "ff02::1"));
}

TEST_CASE("duplicate forwards: one per (protocol, port, family)") {
  std::string e =
      MustFail({"--forward", "tcp/80=192.0.2.1:80", "--forward", "tcp/80=192.0.2.2:80"});
  CHECK(Contains(e, "duplicate --forward \"tcp/80=192.0.2.2:80\""));
  // Dual stack and other protocols on the same port are fine.
  Config c = MustParse({"--forward", "tcp/80=192.0.2.1:80", "--forward", "tcp/80=[2001:db8::1]:80",
                        "--forward", "udp/80=192.0.2.1:80"});
  CHECK(c.ruleset.forwards.size() == 3);
}

TEST_CASE("empty and unknown input") {
  CHECK(Contains(MustFail({}), "no --forward"));
  CHECK(Contains(MustFail({"--forward", ""}), "invalid --forward \"\""));
  CHECK(Contains(MustFail({"--forward"}), "--forward needs a value"));
  CHECK(Contains(MustFail({"--frobnicate", "--forward", "tcp/1=192.0.2.1:1"}),
                 "unknown argument \"--frobnicate\""));
  CHECK(Contains(MustFail({"extra", "--forward", "tcp/1=192.0.2.1:1"}), "\"extra\""));
}

TEST_CASE("source ranges: CIDR errors and normalisation") {
  auto fw = std::vector<std::string>{"--forward", "tcp/1=192.0.2.1:1"};
  auto with = [&](const std::string& cidr) {
    std::vector<std::string> a = fw;
    a.push_back("--source-range");
    a.push_back(cidr);
    return a;
  };
  CHECK(Contains(MustFail(with("192.0.2.0")), "\"192.0.2.0\": missing /PREFIX-LENGTH"));
  CHECK(Contains(MustFail(with("192.0.2.0/33")), "\"192.0.2.0/33\": prefix length must be 0..32"));
  CHECK(Contains(MustFail(with("2001:db8::/129")), "0..128"));
  CHECK(Contains(MustFail(with("192.0.2.0/")), "prefix length"));
  CHECK(Contains(MustFail(with("192.0.2.0/x")), "prefix length"));
  CHECK(Contains(MustFail(with("192.0.2.0/-1")), "prefix length"));
  CHECK(Contains(MustFail(with("300.0.0.0/8")), "not an IPv4 or IPv6 address"));
  CHECK(Contains(MustFail(with("192.0.2.0/24,10.0.0.0/8")), "\"192.0.2.0/24,10.0.0.0/8\""));
  CHECK(Contains(MustFail(with("")), "--source-range \"\""));
  // Host bits are cleared, as Kubernetes does for loadBalancerSourceRanges.
  CHECK(MustParse(with("192.0.2.77/24")).ruleset.source_ranges[0].ToString() == "192.0.2.0/24");
  CHECK(MustParse(with("10.16.3.4/12")).ruleset.source_ranges[0].ToString() == "10.16.0.0/12");
  CHECK(MustParse(with("2001:db8:ffff::1/33")).ruleset.source_ranges[0].ToString() ==
        "2001:db8:8000::/33");
  CHECK(MustParse(with("0.0.0.0/0")).ruleset.source_ranges[0].ToString() == "0.0.0.0/0");
}

TEST_CASE("other flag values") {
  CHECK(Contains(MustFail({"--backend", "nft", "--forward", "tcp/1=192.0.2.1:1"}),
                 "invalid --backend \"nft\""));
  CHECK(Contains(MustFail({"--table", "9lives", "--forward", "tcp/1=192.0.2.1:1"}),
                 "invalid --table \"9lives\""));
  CHECK(Contains(MustFail({"--table", "a b", "--forward", "tcp/1=192.0.2.1:1"}), "\"a b\""));
  CHECK(Contains(MustFail({"--table", "abcdefghijklmnopqrstu", "--forward", "tcp/1=192.0.2.1:1"}),
                 "1-20 characters"));
  CHECK(Contains(MustFail({"--resync", "0", "--forward", "tcp/1=192.0.2.1:1"}),
                 "invalid --resync \"0\""));
  CHECK(Contains(MustFail({"--resync", "1.5", "--forward", "tcp/1=192.0.2.1:1"}), "\"1.5\""));
  CHECK(Contains(MustFail({"--resync", "86401", "--forward", "tcp/1=192.0.2.1:1"}), "86401"));
}

TEST_CASE("--ready-port: the daemon's readiness port") {
  CHECK(MustParse({"--forward", "tcp/80=192.0.2.1:80"}).ready_port == 0);  // none by default
  CHECK(MustParse({"--ready-port", "9901", "--forward", "tcp/80=192.0.2.1:80"}).ready_port == 9901);
  CHECK(MustParse({"--ready-port=1", "--forward", "tcp/80=192.0.2.1:80"}).ready_port == 1);
  // With --check: taken and not used, so that a check runs with the container's own args.
  const Config check =
      MustParse({"--check", "--ready-port=9901", "--forward", "tcp/80=192.0.2.1:80"});
  CHECK(check.mode == Mode::kCheck);
  CHECK(check.ready_port == 9901);
  for (const char* bad : {"0", "65536", "x", ""}) {
    CAPTURE(bad);
    CHECK(Contains(MustFail({"--ready-port", bad, "--forward", "tcp/80=192.0.2.1:80"}),
                   "invalid --ready-port \"" + std::string(bad) + "\""));
  }
  // The modes that exit at once have no use for it.
  for (const char* mode : {"--once", "--delete", "--dry-run"}) {
    CAPTURE(mode);
    CHECK(Contains(MustFail({mode, "--ready-port=9901", "--forward", "tcp/80=192.0.2.1:80"}),
                   "--ready-port is for the daemon"));
  }
  // A forwarded tcp port would carry the probe to the Service; udp and sctp ports are others.
  CHECK(Contains(MustFail({"--ready-port=80", "--forward", "tcp/80=192.0.2.1:8080"}),
                 "forwards that tcp port"));
  CHECK(MustParse({"--ready-port=53", "--forward", "udp/53=192.0.2.1:53", "--forward",
                   "sctp/53=192.0.2.1:53"})
            .ready_port == 53);
}

TEST_CASE("node and [node] targets resolve from --node-ips") {
  Config c = MustParse({"--forward", "tcp/80=node:30080", "--forward", "tcp/80=[node]:30080",
                        "--node-ips", "fd00::7,10.0.0.7,10.0.0.8"});
  REQUIRE(c.ruleset.forwards.size() == 2);
  CHECK(c.ruleset.forwards[0].target.ToString() == "10.0.0.7");
  CHECK(c.ruleset.forwards[0].target_port == 30080);
  CHECK(c.ruleset.forwards[1].target.ToString() == "fd00::7");
  CHECK(Contains(MustFail({"--forward", "tcp/80=[node]:30080", "--node-ips", "10.0.0.7"}),
                 "--node-ips has no IPv6 address"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=node:30080"}), "--node-ips has no IPv4 address"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=node:30080", "--node-ips", "10.0.0.7,,"}),
                 "\"\" is not an IP address"));
  CHECK(Contains(MustFail({"--forward", "tcp/80=node:30080", "--node-ips", "10.0.0.7,bogus"}),
                 "\"bogus\""));
  CHECK(Contains(MustFail({"--forward", "tcp/80=node:30080", "--node-ips", "127.0.0.1"}),
                 "127.0.0.1"));
  // An empty list (downward API without addresses) is valid until a node target needs it.
  CHECK(MustParse({"--forward", "tcp/80=192.0.2.1:80", "--node-ips", ""}).node_ips.empty());
}

TEST_CASE("--node-ips-env reads the node addresses from the named variable") {
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOST_IPS") return "fd00::7,10.0.0.7";
    if (name == "EMPTY") return "";
    if (name == "BAD") return "10.0.0.7,bogus";
    if (name == "TRAILING") return "10.0.0.7,";
    return std::nullopt;
  };
  auto parse = [&](const std::vector<std::string>& args) { return ParseArgs(args, env); };
  auto fail = [&](const std::vector<std::string>& args) {
    Result<Config> r = parse(args);
    REQUIRE_MESSAGE(!r.ok(), "expected a parse error");
    return r.error();
  };
  Result<Config> r = parse({"--forward", "tcp/80=node:30080", "--forward", "tcp/80=[node]:30080",
                            "--node-ips-env=HOST_IPS"});
  REQUIRE(r.ok());
  const Config& c = *r;
  REQUIRE(c.ruleset.forwards.size() == 2);
  CHECK(c.ruleset.forwards[0].target.ToString() == "10.0.0.7");
  CHECK(c.ruleset.forwards[1].target.ToString() == "fd00::7");
  // The same ruleset as with the list itself.
  CHECK(c.ruleset.forwards == MustParse({"--forward", "tcp/80=node:30080", "--forward",
                                         "tcp/80=[node]:30080", "--node-ips", "fd00::7,10.0.0.7"})
                                  .ruleset.forwards);
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips-env", "UNSET"}),
                 "invalid --node-ips-env \"UNSET\": the variable is not set"));
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips-env", "EMPTY"}),
                 "--node-ips-env EMPTY (\"\") has no IPv4 address"));
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips-env", "BAD"}),
                 "its value \"10.0.0.7,bogus\": \"bogus\" is not an IP address"));
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips-env", "TRAILING"}),
                 "empty entry"));
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips-env", "$(HOST_IPS)"}),
                 "an environment variable name"));
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips-env", ""}),
                 "an environment variable name"));
  CHECK(Contains(fail({"--forward", "tcp/80=node:30080", "--node-ips", "10.0.0.1", "--node-ips-env",
                       "HOST_IPS"}),
                 "exclude each other"));
  // An empty value is fine until a node target needs an address.
  r = parse({"--forward", "tcp/80=192.0.2.1:80", "--node-ips-env", "EMPTY"});
  REQUIRE(r.ok());
  CHECK(r->node_ips.empty());
}

TEST_CASE("help and version") {
  CHECK(MustParse({"--help"}).mode == Mode::kHelp);
  CHECK(MustParse({"-h"}).mode == Mode::kHelp);
  CHECK(MustParse({"--version"}).mode == Mode::kVersion);
  // They end the parse: nothing after them is looked at.
  CHECK(MustParse({"--forward", "tcp/1=192.0.2.1:1", "--help", "--bogus"}).mode == Mode::kHelp);
  CHECK(Contains(UsageText(), "--forward PROTO/PORT=ADDR:PORT"));
  CHECK(Contains(UsageText(), "[--ready-port PORT]"));
}

}  // namespace
}  // namespace nftlb

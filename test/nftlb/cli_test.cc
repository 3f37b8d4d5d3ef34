// SPDX-License-Identifier: Apache-2.0
// The nftlb binary's contract for bad input and --dry-run: exit 2 with a message naming
// the bad value, and the dry-run text on stdout. No case here changes kernel state.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "nftlb/subprocess.h"

namespace nftlb {
namespace {

ProcessResult Run(const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.emplace_back(NFTLB_BIN);
  for (const std::string& a : args) argv.push_back(a);
  Result<ProcessResult> pr = RunProcess(argv, "");
  REQUIRE_MESSAGE(pr.ok(), pr.error());
  return *pr;
}

TEST_CASE("bad input exits 2 and names the bad value") {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{"--forward", "tcp/0=192.0.2.1:80"}, "\"0\""},
      {{"--forward", "tcp/65536=192.0.2.1:80"}, "\"65536\""},
      {{"--forward", "gre/80=192.0.2.1:80"}, "\"gre\""},
      {{"--forward", "tcp/80=2001:db8::1:80"}, "must be in brackets"},
      {{"--forward", "tcp/80=[2001:db8:::1]:80"}, "\"2001:db8:::1\""},
      {{"--forward", "tcp/80=192.0.2.1:80", "--forward", "tcp/80=192.0.2.2:80"}, "duplicate"},
      {{}, "no --forward"},
      {{"--forward", "tcp/80=192.0.2.1:80", "--source-range", "192.0.2.0/40"}, "192.0.2.0/40"},
      {{"--forward", "tcp/80=[node]:30080", "--node-ips", "10.0.0.1"}, "no IPv6 address"},
      {{"--backend", "ebpf", "--forward", "tcp/80=192.0.2.1:80"}, "\"ebpf\""},
      // --check takes the same arguments and rejects the same bad ones, before any kernel read.
      {{"--check", "--forward", "tcp/0=192.0.2.1:80"}, "\"0\""},
      {{"--check", "--forward", "tcp/80=192.0.2.1:80", "--source-range", "192.0.2.0/40"},
       "192.0.2.0/40"},
      {{"--check", "--once", "--forward", "tcp/80=192.0.2.1:80"}, "exclude each other"},
      {{"--check"}, "no --forward"},
      {{"--check", "--forward", "tcp/80=node:30080", "--node-ips-env", "AKROBATEO_TEST_UNSET"},
       "the variable is not set"},
  };
  for (const Case& c : cases) {
    ProcessResult pr = Run(c.args);
    INFO("args: " << [&] {
      std::string s;
      for (const auto& a : c.args) s += a + " ";
      return s;
    }());
    CHECK(pr.exit_code == 2);
    CHECK(pr.err.find(c.expect) != std::string::npos);
    CHECK(pr.out.empty());
  }
}

TEST_CASE("--version prints the CMake project version and the git revision, exits 0") {
  ProcessResult pr = Run({"--version"});
  CHECK(pr.exit_code == 0);
  std::string want = std::string("nftlb ") + AKROBATEO_TEST_VERSION;
  if (std::string(AKROBATEO_TEST_REVISION) != "") want += " (" AKROBATEO_TEST_REVISION ")";
  CHECK(pr.out == want + "\n");
}

TEST_CASE("--help exits 0") {
  ProcessResult pr = Run({"--help"});
  CHECK(pr.exit_code == 0);
  CHECK(pr.out.find("usage: nftlb") != std::string::npos);
}

TEST_CASE("--dry-run with iptables-legacy prints restore text for each family") {
  ProcessResult pr = Run({"--backend", "iptables-legacy", "--dry-run", "--forward",
                          "tcp/80=198.51.100.2:8080", "--forward", "tcp/80=[2001:db8::2]:8080"});
  CHECK(pr.exit_code == 0);
  CHECK(pr.out == R"(# iptables-legacy-restore --noflush
*nat
:AKROBATEO-PRE - [0:0]
:AKROBATEO-POST - [0:0]
-A PREROUTING -j AKROBATEO-PRE
-A POSTROUTING -j AKROBATEO-POST
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x100000/0x100000
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.51.100.2:8080
-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE
COMMIT
# ip6tables-legacy-restore --noflush
*nat
:AKROBATEO-PRE - [0:0]
:AKROBATEO-POST - [0:0]
-A PREROUTING -j AKROBATEO-PRE
-A POSTROUTING -j AKROBATEO-POST
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x100000/0x100000
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j DNAT --to-destination [2001:db8::2]:8080
-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE
COMMIT
)");
  // The first log line names the backend and why.
  CHECK(pr.err.find("backend=iptables-legacy reason=--backend=iptables-legacy") !=
        std::string::npos);
}

}  // namespace
}  // namespace nftlb

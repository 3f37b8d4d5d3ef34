// SPDX-License-Identifier: Apache-2.0
// The ruleset model and its two text forms (what --dry-run prints).
#include "nftlb/ruleset.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "nftlb/config.h"
#include "nftlb/legacy_text.h"
#include "nftlb/nft_text.h"
#include "nftlb/subprocess.h"
#include "test/nftlb/parse_ruleset.h"

namespace nftlb {
namespace {

const std::vector<std::string> kExample = {"--forward",      "udp/53=[2001:db8:2::2]:5353",
                                           "--forward",      "tcp/80=198.51.100.2:8080",
                                           "--forward",      "tcp/80=[2001:db8:2::2]:8080",
                                           "--forward",      "sctp/90=198.51.100.3:9090",
                                           "--source-range", "192.0.2.0/24",
                                           "--source-range", "10.16.0.0/12",
                                           "--source-range", "2001:db8:1::/64",
                                           "--source-range", "203.0.113.7/32"};

TEST_CASE("model: sorted forwards, families, guarded ports") {
  Ruleset r = (ParseRuleset(kExample));
  REQUIRE(r.forwards.size() == 4);
  CHECK(r.forwards[0].proto == Proto::kTcp);
  CHECK(r.forwards[0].target.family == Family::kIpv4);
  CHECK(r.forwards[1].proto == Proto::kTcp);
  CHECK(r.forwards[1].target.family == Family::kIpv6);
  CHECK(r.forwards[2].proto == Proto::kUdp);
  CHECK(r.forwards[3].proto == Proto::kSctp);
  CHECK(r.HasFamily(Family::kIpv4));
  CHECK(r.HasFamily(Family::kIpv6));
  // tcp/80 appears once although it has two families.
  std::vector<GuardedPort> g = r.GuardedPorts();
  REQUIRE(g.size() == 3);
  CHECK(g[0] == GuardedPort{Proto::kTcp, 80});
  CHECK(g[1] == GuardedPort{Proto::kUdp, 53});
  CHECK(g[2] == GuardedPort{Proto::kSctp, 90});
  // Flag order does not change the model.
  std::vector<std::string> reversed;
  for (size_t i = kExample.size(); i >= 2; i -= 2) {
    reversed.push_back(kExample[i - 2]);
    reversed.push_back(kExample[i - 1]);
  }
  CHECK((ParseRuleset(reversed)).forwards == r.forwards);
  // Without source ranges nothing is guarded.
  CHECK((ParseRuleset({"--forward", "tcp/1=192.0.2.1:1"})).GuardedPorts().empty());
  CHECK_FALSE((ParseRuleset({"--forward", "tcp/1=192.0.2.1:1"})).HasFamily(Family::kIpv6));
}

constexpr const char* kExampleNft = R"(table inet akrobateo {
	chain filter-prerouting {
		type filter hook prerouting priority dstnat - 10; policy accept;
		ct direction original ip saddr 192.0.2.0/24 accept
		ct direction original ip saddr 10.16.0.0/12 accept
		ct direction original ip6 saddr 2001:db8:1::/64 accept
		ct direction original ip saddr 203.0.113.7 accept
		ct direction original tcp dport 80 drop
		ct direction original udp dport 53 drop
		ct direction original sctp dport 90 drop
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		tcp dport 80 meta mark set meta mark | 0x00100000 dnat ip to 198.51.100.2:8080
		tcp dport 80 meta mark set meta mark | 0x00100000 dnat ip6 to [2001:db8:2::2]:8080
		udp dport 53 meta mark set meta mark | 0x00100000 dnat ip6 to [2001:db8:2::2]:5353
		sctp dport 90 meta mark set meta mark | 0x00100000 dnat ip to 198.51.100.3:9090
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		meta mark & 0x00100000 == 0x00100000 masquerade
	}
}
)";

TEST_CASE("nft text of the example") {
  CHECK(RenderNftText((ParseRuleset(kExample))) == kExampleNft);
}

TEST_CASE("nft text without source ranges has no filter chain, and honours --table") {
  std::string t =
      RenderNftText((ParseRuleset({"--table", "lb-x", "--forward", "tcp/1=192.0.2.1:2"})));
  CHECK(t.rfind("table inet lb-x {\n\tchain prerouting {\n", 0) == 0);
  CHECK(t.find("filter") == std::string::npos);
  CHECK(t.find("\t\ttcp dport 1 meta mark set meta mark | 0x00100000 dnat ip to 192.0.2.1:2\n") !=
        std::string::npos);
}

TEST_CASE("iptables-restore text of the example, per family") {
  Ruleset r = (ParseRuleset(kExample));
  CHECK(LegacyRestoreText(r, Family::kIpv4, {}, {}) == R"(*nat
:AKROBATEO-PRE - [0:0]
:AKROBATEO-POST - [0:0]
-A PREROUTING -j AKROBATEO-PRE
-A POSTROUTING -j AKROBATEO-POST
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x100000/0x100000
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.51.100.2:8080
-A AKROBATEO-PRE -p sctp -m sctp --dport 90 -j MARK --set-xmark 0x100000/0x100000
-A AKROBATEO-PRE -p sctp -m sctp --dport 90 -j DNAT --to-destination 198.51.100.3:9090
-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE
COMMIT
*filter
:AKROBATEO-FWD - [0:0]
-A FORWARD -j AKROBATEO-FWD
-A AKROBATEO-FWD -s 192.0.2.0/24 -j RETURN
-A AKROBATEO-FWD -s 10.16.0.0/12 -j RETURN
-A AKROBATEO-FWD -s 203.0.113.7/32 -j RETURN
-A AKROBATEO-FWD -p tcp -m conntrack --ctstate DNAT --ctorigdstport 80 --ctdir ORIGINAL -j DROP
-A AKROBATEO-FWD -p udp -m conntrack --ctstate DNAT --ctorigdstport 53 --ctdir ORIGINAL -j DROP
-A AKROBATEO-FWD -p sctp -m conntrack --ctstate DNAT --ctorigdstport 90 --ctdir ORIGINAL -j DROP
COMMIT
)");
  CHECK(LegacyRestoreText(r, Family::kIpv6, {}, {}) == R"(*nat
:AKROBATEO-PRE - [0:0]
:AKROBATEO-POST - [0:0]
-A PREROUTING -j AKROBATEO-PRE
-A POSTROUTING -j AKROBATEO-POST
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x100000/0x100000
-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j DNAT --to-destination [2001:db8:2::2]:8080
-A AKROBATEO-PRE -p udp -m udp --dport 53 -j MARK --set-xmark 0x100000/0x100000
-A AKROBATEO-PRE -p udp -m udp --dport 53 -j DNAT --to-destination [2001:db8:2::2]:5353
-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE
COMMIT
*filter
:AKROBATEO-FWD - [0:0]
-A FORWARD -j AKROBATEO-FWD
-A AKROBATEO-FWD -s 2001:db8:1::/64 -j RETURN
-A AKROBATEO-FWD -p tcp -m conntrack --ctstate DNAT --ctorigdstport 80 --ctdir ORIGINAL -j DROP
-A AKROBATEO-FWD -p udp -m conntrack --ctstate DNAT --ctorigdstport 53 --ctdir ORIGINAL -j DROP
-A AKROBATEO-FWD -p sctp -m conntrack --ctstate DNAT --ctorigdstport 90 --ctdir ORIGINAL -j DROP
COMMIT
)");
  CHECK(LegacyChainNames("lb-x").pre == "LB-X-PRE");
}

TEST_CASE("nft -c -f accepts the nftables text") {
  if (geteuid() != 0) {
    MESSAGE("skipped: nft -c needs CAP_NET_ADMIN (run as root)");
    return;
  }
  char path[] = "/tmp/nftlb-unit-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  for (const auto& args :
       {kExample, std::vector<std::string>{"--forward", "tcp/1=192.0.2.1:2"},
        std::vector<std::string>{"--forward", "udp/7=[2001:db8::7]:8", "--source-range",
                                 "0.0.0.0/0", "--source-range", "2001:db8::/33"}}) {
    const std::string text = RenderNftText((ParseRuleset(args)));
    std::ofstream(path) << text;
    // In a throwaway network namespace: -c only validates, but nothing here should be
    // able to touch the host's ruleset.
    Result<ProcessResult> pr = RunProcess({"unshare", "--net", "nft", "-c", "-f", path}, "");
    REQUIRE(pr.ok());
    CHECK_MESSAGE(pr->exit_code == 0, "nft -c rejected:\n" << text << pr->err);
  }
  std::remove(path);
}

}  // namespace
}  // namespace nftlb

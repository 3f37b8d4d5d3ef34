// SPDX-License-Identifier: Apache-2.0
// The iptables-legacy backend against fake tools: what Install sends is exactly what
// --dry-run prints, and the restore text follows what the save tools report. No root, no
// real iptables.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "nftlb/config.h"
#include "nftlb/legacy_backend.h"
#include "nftlb/legacy_text.h"
#include "test/nftlb/parse_ruleset.h"

namespace nftlb {
namespace {

// Fake iptables tools: the save tools print `saved` (per tool and table), the restore
// tools record their stdin (per tool).
struct FakeTools {
  std::map<std::string, std::string> saved;  // "iptables-legacy-save nat" -> output
  std::map<std::string, std::string> restored;

  ToolRunner Runner() {
    return [this](const std::vector<std::string>& argv, const std::string& input,
                  const EnvVars&) -> Result<ProcessResult> {
      ProcessResult pr;
      pr.exit_code = 0;
      if (argv[0].find("-save") != std::string::npos) {
        REQUIRE(argv.size() == 3);
        pr.out = saved[argv[0] + " " + argv[2]];
      } else {
        CHECK(argv == std::vector<std::string>{argv[0], "--noflush", "-w", "5"});
        restored[argv[0]] += input;
      }
      return pr;
    };
  }
};

// The --dry-run text split into its blocks, by the tool named in each block's head line.
std::map<std::string, std::string> DryRunBlocks(const std::string& text) {
  std::map<std::string, std::string> out;
  std::string tool;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("# ", 0) == 0) {
      tool = line.substr(2, line.find(' ', 2) - 2);
      CHECK(line == "# " + tool + " --noflush");
    } else {
      out[tool] += line + "\n";
    }
  }
  return out;
}

const std::string kEmptyNat =
    "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":POSTROUTING ACCEPT [0:0]\nCOMMIT\n";
const std::string kEmptyFilter =
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";

TEST_CASE("Install sends exactly the --dry-run text where nothing is installed yet") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--forward", "tcp/80=198.51.100.2:8080"},
           {"--forward", "tcp/80=198.51.100.2:8080", "--forward", "tcp/80=[2001:db8::2]:8080",
            "--forward", "udp/53=[2001:db8::2]:53", "--forward", "sctp/9=198.51.100.3:9"},
           {"--table", "lb-x", "--forward", "tcp/80=198.51.100.2:8080", "--forward",
            "udp/80=[2001:db8::2]:8080", "--source-range", "192.0.2.0/24", "--source-range",
            "2001:db8:1::/64", "--source-range", "0.0.0.0/0"}}) {
    const Ruleset r = ParseRuleset(args);
    FakeTools tools;
    for (const char* save : {"iptables-legacy-save", "ip6tables-legacy-save"}) {
      tools.saved[std::string(save) + " nat"] = kEmptyNat;
      tools.saved[std::string(save) + " filter"] = kEmptyFilter;
    }
    LegacyBackend backend(tools.Runner());
    const std::string dry = backend.DryRun(r);
    CAPTURE(dry);
    REQUIRE(backend.Install(r).ok());
    CHECK(tools.restored == DryRunBlocks(dry));
  }
}

TEST_CASE("Install follows what is installed: no second jump, and chains no longer wanted go") {
  const Ruleset before = ParseRuleset({"--forward", "tcp/80=198.51.100.2:8080", "--source-range",
                                       "192.0.2.0/24", "--forward", "tcp/80=[2001:db8::2]:8080"});
  // What iptables-legacy-save prints after the first install (IPv4).
  const std::string nat =
      "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      ":POSTROUTING ACCEPT [0:0]\n:AKROBATEO-POST - [0:0]\n:AKROBATEO-PRE - [0:0]\n"
      "-A PREROUTING -j AKROBATEO-PRE\n-A POSTROUTING -j AKROBATEO-POST\n"
      "-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE\nCOMMIT\n";
  const std::string filter =
      "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
      ":AKROBATEO-FWD - [0:0]\n-A FORWARD -j AKROBATEO-FWD\n"
      "-A AKROBATEO-FWD -s 192.0.2.0/24 -j RETURN\nCOMMIT\n";
  const LegacyTableState nat_state = ParseLegacySave(nat, before.table);
  const LegacyTableState filter_state = ParseLegacySave(filter, before.table);
  CHECK(nat_state.declared == std::vector<std::string>{"AKROBATEO-POST", "AKROBATEO-PRE"});
  CHECK(nat_state.jumps.size() == 2);
  CHECK(filter_state.rules ==
        std::vector<std::string>{"-A AKROBATEO-FWD -s 192.0.2.0/24 -j RETURN"});

  // Re-install without source ranges: the chains are re-declared (flushed) and refilled,
  // no jump is added twice, and the filter chain and its jump are removed.
  const Ruleset after = ParseRuleset({"--forward", "tcp/80=198.51.100.3:8080"});
  CHECK(LegacyRestoreText(after, Family::kIpv4, nat_state, filter_state) ==
        "*nat\n:AKROBATEO-PRE - [0:0]\n:AKROBATEO-POST - [0:0]\n"
        "-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x100000/0x100000\n"
        "-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.51.100.3:8080\n"
        "-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE\nCOMMIT\n"
        "*filter\n-D FORWARD -j AKROBATEO-FWD\n:AKROBATEO-FWD - [0:0]\n-X AKROBATEO-FWD\n"
        "COMMIT\n");
  // Remove: every chain and jump goes; nothing installed means nothing to send.
  const Ruleset none = MakeRuleset("akrobateo", {}, {});
  CHECK(LegacyRestoreText(none, Family::kIpv4, nat_state, filter_state) ==
        "*nat\n-D PREROUTING -j AKROBATEO-PRE\n:AKROBATEO-PRE - [0:0]\n-X AKROBATEO-PRE\n"
        "-D POSTROUTING -j AKROBATEO-POST\n:AKROBATEO-POST - [0:0]\n-X AKROBATEO-POST\nCOMMIT\n"
        "*filter\n-D FORWARD -j AKROBATEO-FWD\n:AKROBATEO-FWD - [0:0]\n-X AKROBATEO-FWD\n"
        "COMMIT\n");
  CHECK(LegacyRestoreText(none, Family::kIpv4, {}, {}).empty());
}

TEST_CASE("Check against the fake save output") {
  const Ruleset r = ParseRuleset({"--forward", "tcp/80=198.51.100.2:8080"});
  FakeTools tools;
  tools.saved["iptables-legacy-save nat"] =
      "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:AKROBATEO-POST - [0:0]\n"
      ":AKROBATEO-PRE - [0:0]\n-A PREROUTING -j AKROBATEO-PRE\n"
      "-A POSTROUTING -j AKROBATEO-POST\n"
      "-A AKROBATEO-POST -m mark --mark 0x100000/0x100000 -j MASQUERADE\n"
      "-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x100000/0x100000\n"
      "-A AKROBATEO-PRE -p tcp -m tcp --dport 80 -j DNAT --to-destination 198.51.100.2:8080\n"
      "COMMIT\n";
  tools.saved["iptables-legacy-save filter"] = kEmptyFilter;
  tools.saved["ip6tables-legacy-save nat"] = kEmptyNat;
  tools.saved["ip6tables-legacy-save filter"] = kEmptyFilter;
  LegacyBackend backend(tools.Runner());
  Result<CheckOutcome> c = backend.Check(r);
  REQUIRE(c.ok());
  CHECK_MESSAGE(c->matches(), c->difference);
  c = backend.Check(ParseRuleset({"--forward", "tcp/80=198.51.100.9:8080"}));
  REQUIRE(c.ok());
  CHECK(c->difference ==
        "iptables-legacy chain AKROBATEO-PRE differs from the wanted ruleset "
        "(iptables-legacy-save)");
  CHECK(tools.restored.empty());  // Check touches nothing
}

}  // namespace
}  // namespace nftlb

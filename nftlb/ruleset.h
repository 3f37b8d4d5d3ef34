// SPDX-License-Identifier: Apache-2.0
// The desired state: what nftlb wants in the kernel, independent of the backend. Both
// backends render it (nftables as netlink objects and `nft -f` text, iptables-legacy as
// iptables-restore text), so the dry-run output and the installed rules come from one model.
#ifndef AKROBATEO_NFTLB_RULESET_H_
#define AKROBATEO_NFTLB_RULESET_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nftlb/config.h"

namespace nftlb {

// The packet-mark bit that nftlb's DNAT rules set and its one masquerade rule matches. The
// masquerade decision is thus taken by the same rule, in the same table generation, as the
// DNAT: a connection whose first packet crosses a table replacement (prerouting under the old
// rules, postrouting under the new) is still masqueraded, which a postrouting match on the
// current target address would miss. Marks stay inside the pod's network namespace: the kernel
// clears them when a packet crosses into another one.
inline constexpr uint32_t kMasqueradeMark = 0x00100000;

struct GuardedPort {
  Proto proto;
  uint16_t port;
  friend bool operator==(const GuardedPort&, const GuardedPort&) = default;
};

struct Ruleset {
  std::string table;
  std::vector<Forward> forwards;    // sorted by (proto, port, family)
  std::vector<Cidr> source_ranges;  // empty: no source filtering

  bool HasFamily(Family f) const;
  // The (proto, port) pairs that --source-range protects, each once.
  std::vector<GuardedPort> GuardedPorts() const;
};

Ruleset BuildRuleset(const Config& config);

// `nft -f` text, identical to what `nft list table inet NAME` prints once installed.
std::string RenderNftText(const Ruleset& r);

// iptables-legacy chain names derived from the table name ("akrobateo" -> "AKROBATEO-PRE").
struct LegacyChains {
  std::string pre;   // nat, jumped to from PREROUTING: DNAT
  std::string post;  // nat, jumped to from POSTROUTING: MASQUERADE
  std::string fwd;   // filter, jumped to from FORWARD: source-range drops
};
LegacyChains LegacyChainNames(const std::string& table);

// The "-A CHAIN ..." lines of nftlb's own chains for one family, in iptables-save's canonical
// form (so they compare equal to what iptables-legacy-save prints back).
std::vector<std::string> LegacyNatRules(const Ruleset& r, Family f);
std::vector<std::string> LegacyFilterRules(const Ruleset& r, Family f);  // empty: no ranges

// iptables-restore text (for `--noflush`) of one family on a host where nothing of nftlb's
// is installed yet: chains, their rules and the one jump per chain. This is the dry-run.
std::string RenderIptablesText(const Ruleset& r, Family f);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_RULESET_H_

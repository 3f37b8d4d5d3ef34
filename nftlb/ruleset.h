// SPDX-License-Identifier: Apache-2.0
// The desired state, the one model of nftlb: what it wants in the kernel, independent of
// the backend. The command line is parsed into it (nftlb/config.h), and each backend renders
// it in its own terms (nftlb/nft_layout.h for nftables, nftlb/legacy_text.h for
// iptables-legacy), so the dry-run output and the installed rules come from one value.
#ifndef AKROBATEO_NFTLB_RULESET_H_
#define AKROBATEO_NFTLB_RULESET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "nftlb/address.h"
#include "nftlb/forward.h"

namespace nftlb {

// The packet-mark bit that nftlb's DNAT rules set and its one masquerade rule matches. The
// masquerade decision is thus taken by the same rule, in the same table generation, as the
// DNAT: a connection whose first packet crosses a table replacement (prerouting under the old
// rules, postrouting under the new) is still masqueraded, which a postrouting match on the
// current target address would miss. Marks stay inside the pod's network namespace: the kernel
// clears them when a packet crosses into another one.
inline constexpr uint32_t kMasqueradeMark = 0x00100000;

// A (protocol, port) that --source-range protects.
struct GuardedPort {
  Proto proto;
  uint16_t port;
  friend bool operator==(const GuardedPort&, const GuardedPort&) = default;
};

struct Ruleset {
  std::string table;
  std::vector<Forward> forwards;    // sorted by (proto, port, family): see MakeRuleset
  std::vector<Cidr> source_ranges;  // empty: no source filtering

  bool HasFamily(Family f) const;
  // The (proto, port) pairs that --source-range protects, each once.
  std::vector<GuardedPort> GuardedPorts() const;
  friend bool operator==(const Ruleset&, const Ruleset&) = default;
};

// The ruleset with its forwards sorted, so that the same Service gives the same ruleset
// whatever the order of its flags.
Ruleset MakeRuleset(std::string table, std::vector<Forward> forwards,
                    std::vector<Cidr> source_ranges);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_RULESET_H_

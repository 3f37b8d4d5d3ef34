// SPDX-License-Identifier: Apache-2.0
#include "nftlb/nft_layout.h"

#include <linux/netfilter.h>

#include <utility>

namespace nftlb {

const char* NftHookName(NftHook h) {
  return h == NftHook::kPrerouting ? "prerouting" : "postrouting";
}

uint32_t NftHookNumber(NftHook h) {
  return h == NftHook::kPrerouting ? NF_INET_PRE_ROUTING : NF_INET_POST_ROUTING;
}

int32_t NftPriority::value() const {
  // nft's values for these names (NF_IP_PRI_NAT_DST and NF_IP_PRI_NAT_SRC).
  return (base == Base::kDstnat ? -100 : 100) + offset;
}

std::string NftPriority::ToString() const {
  std::string s = base == Base::kDstnat ? "dstnat" : "srcnat";
  if (offset < 0) s += " - " + std::to_string(-offset);
  if (offset > 0) s += " + " + std::to_string(offset);
  return s;
}

std::vector<NftChainRules> NftLayout(const Ruleset& r) {
  std::vector<NftChainRules> out;
  const std::vector<GuardedPort> guarded = r.GuardedPorts();
  if (!guarded.empty()) {
    NftChainRules filter{kNftFilterPrerouting, {}};
    for (const Cidr& c : r.source_ranges) filter.rules.push_back(NftAllowSource{c});
    for (const GuardedPort& g : guarded) filter.rules.push_back(NftDropGuarded{g});
    out.push_back(std::move(filter));
  }
  NftChainRules pre{kNftPrerouting, {}};
  for (const Forward& f : r.forwards) pre.rules.push_back(NftDnat{f});
  out.push_back(std::move(pre));
  out.push_back({kNftPostrouting, {NftMasquerade{}}});
  return out;
}

}  // namespace nftlb

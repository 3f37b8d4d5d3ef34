// SPDX-License-Identifier: Apache-2.0
// What nftlb's nftables table holds for a Ruleset, as values: its chains, described once in
// a small table (name, type, hook, priority), and each chain's rules, described by what
// they do. The `nft -f` text (nft_text.h) and the netlink objects of the install batch
// (nft_batch.h) are both rendered from this layout, so they cannot disagree on which chains
// exist, in which order, with which hook and priority, nor on which rule sits where.
#ifndef AKROBATEO_NFTLB_NFT_LAYOUT_H_
#define AKROBATEO_NFTLB_NFT_LAYOUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nftlb/ruleset.h"

namespace nftlb {

enum class NftHook { kPrerouting, kPostrouting };
const char* NftHookName(NftHook h);  // "prerouting", as nft prints it
uint32_t NftHookNumber(NftHook h);   // NF_INET_*

// A chain priority as nft prints it: relative to one of its named priorities.
struct NftPriority {
  enum class Base { kDstnat, kSrcnat };  // -100 and 100
  Base base;
  int32_t offset = 0;

  int32_t value() const;         // what netlink carries: -110 for dstnat - 10
  std::string ToString() const;  // "dstnat - 10", "srcnat"
};

// A base chain. Every chain of nftlb's has policy accept.
struct NftChain {
  std::string_view name;
  std::string_view type;  // "filter" / "nat"
  NftHook hook;
  NftPriority priority;
};

// The chains nftlb may install, in the order it adds them (and nft lists them).
// Before DNAT: --source-range drops.
inline constexpr NftChain kNftFilterPrerouting{
    "filter-prerouting", "filter", NftHook::kPrerouting, {NftPriority::Base::kDstnat, -10}};
// DNAT to the targets, marking what it DNATs.
inline constexpr NftChain kNftPrerouting{
    "prerouting", "nat", NftHook::kPrerouting, {NftPriority::Base::kDstnat, 0}};
// Masquerade what carries the mark.
inline constexpr NftChain kNftPostrouting{
    "postrouting", "nat", NftHook::kPostrouting, {NftPriority::Base::kSrcnat, 0}};

// The rules, one type per kind. filter-prerouting: accept a connection's original
// direction from an allowed range, then drop it to a guarded port.
struct NftAllowSource {
  Cidr range;
};
struct NftDropGuarded {
  GuardedPort port;
};
// prerouting: set the mark bit and DNAT to the forward's target (in its family).
struct NftDnat {
  Forward forward;
};
// postrouting: masquerade packets with the mark bit.
struct NftMasquerade {};

using NftRule = std::variant<NftAllowSource, NftDropGuarded, NftDnat, NftMasquerade>;

struct NftChainRules {
  NftChain chain;
  std::vector<NftRule> rules;
};

// The table `inet r.table`: its chains in order, each with its rules in order.
std::vector<NftChainRules> NftLayout(const Ruleset& r);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_NFT_LAYOUT_H_

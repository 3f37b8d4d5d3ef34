// SPDX-License-Identifier: Apache-2.0
// The nftables backend's netlink form of a Ruleset: libnftnl objects for the chains and
// rules of its layout (nft_layout.h), and the batches that install or remove the table.
// Built without a socket, so tests can decode what would be sent.
#ifndef AKROBATEO_NFTLB_NFT_BATCH_H_
#define AKROBATEO_NFTLB_NFT_BATCH_H_

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include <cstdint>
#include <memory>
#include <string>

#include "nftlb/netlink.h"
#include "nftlb/nft_layout.h"
#include "nftlb/ruleset.h"

namespace nftlb {

struct NftTableDeleter {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct NftChainDeleter {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct NftRuleDeleter {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using NftTablePtr = std::unique_ptr<nftnl_table, NftTableDeleter>;
using NftChainPtr = std::unique_ptr<nftnl_chain, NftChainDeleter>;
using NftRulePtr = std::unique_ptr<nftnl_rule, NftRuleDeleter>;

// `inet NAME`.
NftTablePtr MakeNftTable(const std::string& name);
// The base chain `c` of `inet table`, policy accept.
NftChainPtr MakeNftChain(const std::string& table, const NftChain& c);
// `rule` in chain `c` of `inet table`, with the expressions nft itself emits for it, so that
// `nft list` prints it as RenderNftText does.
NftRulePtr MakeNftRule(const std::string& table, const NftChain& c, const NftRule& rule);

// How an install batch treats a table of that name that may exist already.
enum class NftInstall {
  kCreate,   // create it exclusively: the kernel refuses the batch with EEXIST if it exists
  kReplace,  // create-if-absent, delete, create: whatever was there is replaced
};

// The install batch: the table, then the layout's chains, then their rules. Without
// commit its END message is left out, so the kernel checks and then discards it.
Batch BuildNftInstallBatch(const Ruleset& r, NftInstall how, bool commit, uint32_t first_seq);

// Create-if-absent, delete: removes `inet NAME`, and succeeds when it was not there.
Batch BuildNftRemoveBatch(const std::string& table, uint32_t first_seq);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_NFT_BATCH_H_

// SPDX-License-Identifier: Apache-2.0
#include "nftlb/probe.h"

#include "nftlb/legacy_backend.h"
#include "nftlb/nft_backend.h"

namespace nftlb {

namespace {

// A ruleset using every expression and chain type nftlb installs, in both families.
Ruleset ProbeRuleset(const std::string& table) {
  return MakeRuleset(table,
                     {{Proto::kTcp, 1, *ParseAddress("192.0.2.1"), 1},
                      {Proto::kTcp, 1, *ParseAddress("2001:db8::1"), 1}},
                     {*ParseCidr("192.0.2.0/24")});
}

// validate: also send the validate-only batch. It costs the kernel an RCU grace period on
// abort (~10 ms here), so a forced --backend nftables skips it: its install batch is then
// the check, and a refusal is reported as such.
Result<std::unique_ptr<NftBackend>> Probe(const std::string& table, bool validate) {
  Result<std::unique_ptr<NftBackend>> nft = NftBackend::Create();
  if (!nft) return nft;
  Result<uint32_t> gen = (*nft)->GetGeneration();
  if (!gen) return Error{"NFT_MSG_GETGEN: " + gen.error()};
  if (validate) {
    Status s = (*nft)->Validate(ProbeRuleset(table));
    if (!s.ok()) return Error{"validate-only batch: " + s.error()};
  }
  return nft;
}

}  // namespace

Result<ChosenBackend> ChooseBackend(BackendChoice choice, const std::string& table) {
  if (choice == BackendChoice::kIptablesLegacy) {
    return ChosenBackend{std::make_unique<LegacyBackend>(), "--backend=iptables-legacy"};
  }
  Result<std::unique_ptr<NftBackend>> nft = Probe(table, choice == BackendChoice::kAuto);
  if (nft) return ChosenBackend{std::move(nft).value(), ""};
  if (choice == BackendChoice::kNftables) {
    return Error{"--backend=nftables, but nf_tables is unusable: " + nft.error()};
  }
  return ChosenBackend{std::make_unique<LegacyBackend>(),
                       "nf_tables unusable (" + nft.error() + ")"};
}

}  // namespace nftlb

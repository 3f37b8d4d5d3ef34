// SPDX-License-Identifier: Apache-2.0
#include "nftlb/probe.h"

#include "nftlb/legacy_backend.h"
#include "nftlb/nft_backend.h"

namespace nftlb {

namespace {

// A ruleset using every expression and chain type nftlb installs, in both families.
Ruleset ProbeRuleset(const std::string& table) {
  Config c;
  c.table = table;
  std::string why;
  c.source_ranges.push_back(*ParseCidr("192.0.2.0/24", &why));
  c.forwards.push_back({Proto::kTcp, 1, *ParseAddress("192.0.2.1"), 1});
  c.forwards.push_back({Proto::kTcp, 1, *ParseAddress("2001:db8::1"), 1});
  return BuildRuleset(c);
}

// validate: also send the validate-only batch. It costs the kernel an RCU grace period on
// abort (~10 ms here), so a forced --backend nftables skips it: its install batch is then
// the check, and a refusal is reported as such.
Status Probe(const std::string& table, bool validate, std::unique_ptr<NftBackend>* out) {
  std::unique_ptr<NftBackend> nft;
  Status s = NftBackend::Create(&nft);
  if (!s.ok()) return s;
  uint32_t gen = 0;
  s = nft->GetGeneration(&gen);
  if (!s.ok()) return Status::Error("NFT_MSG_GETGEN: " + s.message());
  if (validate) s = nft->Validate(ProbeRuleset(table));
  if (!s.ok()) return Status::Error("validate-only batch: " + s.message());
  *out = std::move(nft);
  return Status::Ok();
}

}  // namespace

Status ProbeNftables(const std::string& table) {
  std::unique_ptr<NftBackend> nft;
  return Probe(table, true, &nft);
}

Status ChooseBackend(BackendChoice choice, const std::string& table, ChosenBackend* out) {
  if (choice == BackendChoice::kIptablesLegacy) {
    out->backend = std::make_unique<LegacyBackend>();
    out->reason = "--backend=iptables-legacy";
    return Status::Ok();
  }
  std::unique_ptr<NftBackend> nft;
  Status s = Probe(table, choice == BackendChoice::kAuto, &nft);
  if (s.ok()) {
    out->backend = std::move(nft);
    out->reason.clear();
    return Status::Ok();
  }
  if (choice == BackendChoice::kNftables) {
    return Status::Error("--backend=nftables, but nf_tables is unusable: " + s.message());
  }
  out->backend = std::make_unique<LegacyBackend>();
  out->reason = "nf_tables unusable (" + s.message() + ")";
  return Status::Ok();
}

}  // namespace nftlb

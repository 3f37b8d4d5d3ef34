// The iptables-legacy backend for kernels where nf_tables is unusable: nftlb's own chains
// (<TABLE>-PRE and <TABLE>-POST in nat, <TABLE>-FWD in filter for --source-range), each
// hooked by one jump, applied with iptables-legacy-restore --noflush (ip6tables-legacy-
// restore for IPv6). Each restore commits each iptables table in one step.
#ifndef AKROBATEO_NFTLB_LEGACY_BACKEND_H_
#define AKROBATEO_NFTLB_LEGACY_BACKEND_H_

#include <string>
#include <vector>

#include "nftlb/backend.h"

namespace nftlb {

class LegacyBackend : public Backend {
 public:
  const char* name() const override { return "iptables-legacy"; }
  Status Install(const Ruleset& r) override;
  Status Remove(const std::string& table) override;
  Status Check(const Ruleset& r, bool* matches, std::string* why) override;
  std::string DryRun(const Ruleset& r) const override;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_LEGACY_BACKEND_H_

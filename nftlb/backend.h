// SPDX-License-Identifier: Apache-2.0
// What nftlb needs from a packet-filter backend: install a ruleset as one transaction,
// remove it, tell whether the kernel still holds exactly it, and show it as text. Each
// backend renders the Ruleset in its own terms.
#ifndef AKROBATEO_NFTLB_BACKEND_H_
#define AKROBATEO_NFTLB_BACKEND_H_

#include <string>
#include <utility>

#include "nftlb/result.h"
#include "nftlb/ruleset.h"

namespace nftlb {

// What Backend::Check found: the kernel holds exactly the ruleset, or the first thing that
// is absent or differs.
struct CheckOutcome {
  static CheckOutcome Matches() { return {}; }
  static CheckOutcome Differs(std::string why) { return {std::move(why)}; }

  bool matches() const { return difference.empty(); }
  std::string difference;  // what is absent or differs; empty when it matches
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // Replaces whatever nftlb had installed under r.table with r, atomically.
  virtual Status Install(const Ruleset& r) = 0;
  // Removes what nftlb installed under `table`; ok when nothing was there.
  virtual Status Remove(const std::string& table) = 0;
  // Compares the kernel's rules with r, touching nothing; fails only when they cannot be read.
  virtual Result<CheckOutcome> Check(const Ruleset& r) = 0;
  // The text a user could feed to the backend's own tool to get the same ruleset.
  virtual std::string DryRun(const Ruleset& r) const = 0;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_BACKEND_H_

// SPDX-License-Identifier: Apache-2.0
// What nftlb needs from a packet-filter backend: install a ruleset as one transaction,
// remove it, tell whether the kernel still holds exactly it, and show it as text.
#ifndef AKROBATEO_NFTLB_BACKEND_H_
#define AKROBATEO_NFTLB_BACKEND_H_

#include <string>

#include "nftlb/ruleset.h"
#include "nftlb/status.h"

namespace nftlb {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // Replaces whatever nftlb had installed under r.table with r, atomically.
  virtual Status Install(const Ruleset& r) = 0;
  // Removes what nftlb installed under `table`; ok when nothing was there.
  virtual Status Remove(const std::string& table) = 0;
  // Sets *matches to whether the kernel holds exactly r; if not, *why says what differs.
  virtual Status Check(const Ruleset& r, bool* matches, std::string* why) = 0;
  // The text a user could feed to the backend's own tool to get the same ruleset.
  virtual std::string DryRun(const Ruleset& r) const = 0;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_BACKEND_H_

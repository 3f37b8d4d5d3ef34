// SPDX-License-Identifier: Apache-2.0
// The iptables-legacy backend for kernels where nf_tables is unusable: nftlb's own chains
// (<TABLE>-PRE and <TABLE>-POST in nat, <TABLE>-FWD in filter for --source-range), each
// hooked by one jump, applied with iptables-legacy-restore --noflush (ip6tables-legacy-
// restore for IPv6) in the text legacy_text.h renders. Each restore commits each iptables
// table in one step. The tools run with inet-socket.so preloaded when it is installed next
// to nftlb, so that CAP_NET_ADMIN is all they need (see nftlb/inet_socket_shim.cc).
#ifndef AKROBATEO_NFTLB_LEGACY_BACKEND_H_
#define AKROBATEO_NFTLB_LEGACY_BACKEND_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nftlb/backend.h"
#include "nftlb/legacy_text.h"
#include "nftlb/subprocess.h"

namespace nftlb {

// Runs one iptables tool: argv, its stdin, the variables added to its environment.
using ToolRunner = std::function<Result<ProcessResult>(
    const std::vector<std::string>& argv, const std::string& input, const EnvVars& env)>;

class LegacyBackend : public Backend {
 public:
  // The real tools (RunProcess), with the socket shim and the lock file described below.
  LegacyBackend();
  // The tools as `run` answers them, with no shim and no lock (tests).
  explicit LegacyBackend(ToolRunner run);
  ~LegacyBackend() override;
  LegacyBackend(const LegacyBackend&) = delete;
  LegacyBackend& operator=(const LegacyBackend&) = delete;

  const char* name() const override { return "iptables-legacy"; }
  Status Install(const Ruleset& r) override;
  Status Remove(const std::string& table) override;
  Result<CheckOutcome> Check(const Ruleset& r) override;
  // Per family of r, headed by the command that takes it: the text Install sends where
  // nothing of nftlb's is installed yet.
  std::string DryRun(const Ruleset& r) const override;

 private:
  // One family's nat and filter tables as the save tool prints them. nullopt when the tool
  // fails for a family r does not use (e.g. no IPv6 here, and none asked for): nothing of
  // ours can be there.
  struct FamilyState {
    LegacyTableState nat;
    LegacyTableState filter;
  };
  Result<std::optional<FamilyState>> SaveFamily(Family f, const Ruleset& r) const;
  Result<LegacyTableState> Save(Family f, const char* table, const std::string& ours) const;
  // Makes one family's nftlb chains equal to r's (removes them when r has none of f).
  Status ApplyFamily(const Ruleset& r, Family f);

  ToolRunner run_;
  // The iptables tools lock /run/xtables.lock, which a container with a read-only root
  // filesystem cannot create. Then the tools get XTABLES_LOCKFILE=/proc/self/fd/N, an
  // anonymous file this object owns; in a pod nftlb is the only iptables user, so a
  // private lock loses nothing.
  int lock_fd_ = -1;
  EnvVars env_;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_LEGACY_BACKEND_H_

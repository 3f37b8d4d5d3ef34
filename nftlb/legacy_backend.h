// SPDX-License-Identifier: Apache-2.0
// The iptables-legacy backend for kernels where nf_tables is unusable: nftlb's own chains
// (<TABLE>-PRE and <TABLE>-POST in nat, <TABLE>-FWD in filter for --source-range), each
// hooked by one jump, applied with iptables-legacy-restore --noflush (ip6tables-legacy-
// restore for IPv6). Each restore commits each iptables table in one step. The tools run
// with inet-socket.so preloaded when it is installed next to nftlb, so that CAP_NET_ADMIN
// is all they need (see nftlb/inet_socket_shim.cc).
#ifndef AKROBATEO_NFTLB_LEGACY_BACKEND_H_
#define AKROBATEO_NFTLB_LEGACY_BACKEND_H_

#include <string>
#include <vector>

#include "nftlb/backend.h"
#include "nftlb/subprocess.h"

namespace nftlb {

class LegacyBackend : public Backend {
 public:
  LegacyBackend();
  ~LegacyBackend() override;
  LegacyBackend(const LegacyBackend&) = delete;
  LegacyBackend& operator=(const LegacyBackend&) = delete;

  const char* name() const override { return "iptables-legacy"; }
  Status Install(const Ruleset& r) override;
  Status Remove(const std::string& table) override;
  Status Check(const Ruleset& r, bool* matches, std::string* why) override;
  std::string DryRun(const Ruleset& r) const override;

 private:
  // The iptables tools lock /run/xtables.lock, which a container with a read-only root
  // filesystem cannot create. Then the tools get XTABLES_LOCKFILE=/proc/self/fd/N, an
  // anonymous file this object owns; in a pod nftlb is the only iptables user, so a
  // private lock loses nothing.
  int lock_fd_ = -1;
  EnvVars env_;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_LEGACY_BACKEND_H_

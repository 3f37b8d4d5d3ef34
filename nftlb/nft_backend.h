// SPDX-License-Identifier: Apache-2.0
// The nftables backend: one `inet` table, replaced as a whole in one netlink batch
// (NEWTABLE, DELTABLE, NEWTABLE, chains, rules) built with libnftnl and sent with libmnl.
// A table that is not there yet is created by a batch without the delete (see Install).
#ifndef AKROBATEO_NFTLB_NFT_BACKEND_H_
#define AKROBATEO_NFTLB_NFT_BACKEND_H_

#include <memory>

#include "nftlb/backend.h"
#include "nftlb/netlink.h"

namespace nftlb {

class NftBackend : public Backend {
 public:
  static Status Create(std::unique_ptr<NftBackend>* out);

  const char* name() const override { return "nftables"; }
  Status Install(const Ruleset& r) override;
  Status Remove(const std::string& table) override;
  Status Check(const Ruleset& r, bool* matches, std::string* why) override;
  std::string DryRun(const Ruleset& r) const override { return RenderNftText(r); }

  // Sends the install batch of r without its END message: the kernel checks every
  // object (loading nat/masq support on demand) and then discards the batch.
  Status Validate(const Ruleset& r);
  // NFT_MSG_GETGEN: is nf_tables there and may we talk to it?
  Status GetGeneration(uint32_t* gen);

 private:
  explicit NftBackend(std::unique_ptr<NetfilterSocket> sock) : sock_(std::move(sock)) {}
  // replace: the batch first deletes whatever table of that name exists; without it the
  // batch creates the table exclusively (EEXIST if one appeared meanwhile).
  Status SendInstall(const Ruleset& r, bool replace, bool commit);
  // GETTABLE: whether `inet NAME` exists.
  Status TableExists(const std::string& name, bool* exists);

  std::unique_ptr<NetfilterSocket> sock_;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_NFT_BACKEND_H_

// SPDX-License-Identifier: Apache-2.0
// The nftables backend: one `inet` table, replaced as a whole in one netlink batch
// (NEWTABLE, DELTABLE, NEWTABLE, chains, rules; nft_batch.h) sent with libmnl. A table that
// is not there yet is created by a batch without the delete (see Install).
#ifndef AKROBATEO_NFTLB_NFT_BACKEND_H_
#define AKROBATEO_NFTLB_NFT_BACKEND_H_

#include <memory>

#include "nftlb/backend.h"
#include "nftlb/netlink.h"
#include "nftlb/nft_batch.h"
#include "nftlb/nft_text.h"

namespace nftlb {

class NftBackend : public Backend {
 public:
  static Result<std::unique_ptr<NftBackend>> Create();

  const char* name() const override { return "nftables"; }
  Status Install(const Ruleset& r) override;
  Status Remove(const std::string& table) override;
  Result<CheckOutcome> Check(const Ruleset& r) override;
  std::string DryRun(const Ruleset& r) const override { return RenderNftText(r); }

  // Sends the install batch of r without its END message: the kernel checks every
  // object (loading nat/masq support on demand) and then discards the batch.
  Status Validate(const Ruleset& r);
  // NFT_MSG_GETGEN: is nf_tables there and may we talk to it? The generation id.
  Result<uint32_t> GetGeneration();

 private:
  explicit NftBackend(std::unique_ptr<NetfilterSocket> sock) : sock_(std::move(sock)) {}
  Status SendInstall(const Ruleset& r, NftInstall how, bool commit);
  // GETTABLE: whether `inet NAME` exists.
  Result<bool> TableExists(const std::string& name);

  std::unique_ptr<NetfilterSocket> sock_;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_NFT_BACKEND_H_

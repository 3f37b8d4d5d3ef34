// SPDX-License-Identifier: Apache-2.0
// Chooses the backend. `auto` asks the kernel what it can do, in order: an nfnetlink
// socket, NFT_MSG_GETGEN, then a validate-only batch holding the real table, nat chains,
// dnat/masquerade and filter expressions. Any refusal means iptables-legacy, with the
// refusal as the reason. It never looks at lsmod or at other programs' rules.
#ifndef AKROBATEO_NFTLB_PROBE_H_
#define AKROBATEO_NFTLB_PROBE_H_

#include <memory>
#include <string>

#include "nftlb/backend.h"
#include "nftlb/config.h"
#include "nftlb/result.h"

namespace nftlb {

struct ChosenBackend {
  std::unique_ptr<Backend> backend;
  std::string reason;  // why iptables-legacy; empty for nftables
};

// Fails only when --backend nftables was forced and nf_tables is unusable.
Result<ChosenBackend> ChooseBackend(BackendChoice choice, const std::string& table);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_PROBE_H_

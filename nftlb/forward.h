// SPDX-License-Identifier: Apache-2.0
// One forwarding of the model: traffic to a (protocol, port) of the pod goes to a target
// address and port. Protocols carry their names (as nft and iptables spell them) and their
// IP protocol numbers (as the netlink expressions compare them).
#ifndef AKROBATEO_NFTLB_FORWARD_H_
#define AKROBATEO_NFTLB_FORWARD_H_

#include <cstdint>

#include "nftlb/address.h"

namespace nftlb {

enum class Proto { kTcp, kUdp, kSctp };
const char* ProtoName(Proto p);  // "tcp" / "udp" / "sctp"
uint8_t ProtoNumber(Proto p);    // IPPROTO_*

// Traffic to (proto, port) of `target`'s family goes to target:target_port.
struct Forward {
  Proto proto = Proto::kTcp;
  uint16_t port = 0;
  Address target;
  uint16_t target_port = 0;
  friend bool operator==(const Forward&, const Forward&) = default;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_FORWARD_H_

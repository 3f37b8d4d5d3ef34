// SPDX-License-Identifier: Apache-2.0
#include "nftlb/forward.h"

#include <netinet/in.h>

namespace nftlb {

const char* ProtoName(Proto p) {
  switch (p) {
    case Proto::kTcp:
      return "tcp";
    case Proto::kUdp:
      return "udp";
    case Proto::kSctp:
      return "sctp";
  }
  return "?";
}

uint8_t ProtoNumber(Proto p) {
  switch (p) {
    case Proto::kTcp:
      return IPPROTO_TCP;
    case Proto::kUdp:
      return IPPROTO_UDP;
    case Proto::kSctp:
      return IPPROTO_SCTP;
  }
  return 0;
}

}  // namespace nftlb

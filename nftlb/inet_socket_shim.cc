// SPDX-License-Identifier: Apache-2.0
// LD_PRELOAD shim for the iptables-legacy tools that nftlb runs (never loaded into nftlb).
//
// libiptc opens socket(AF_INET[6], SOCK_RAW, IPPROTO_RAW) only to call the netfilter
// get/setsockopt()s on it (IPT_SO_GET_INFO, IPT_SO_SET_REPLACE, ...). The kernel serves
// those on any AF_INET[6] socket and checks CAP_NET_ADMIN; only the raw socket itself needs
// CAP_NET_RAW. Handing the tools a UDP socket instead lets the legacy fallback run with
// NET_ADMIN alone, the one capability a balancer pod has.
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace {

using SocketFn = int (*)(int, int, int);
constexpr int kSocketTypeMask = 0xf;  // SOCK_TYPE_MASK: the type without SOCK_CLOEXEC etc.

}  // namespace

extern "C" int socket(int domain, int type, int protocol) noexcept {
  // Looked up per call (the tools open one or two sockets): no static, no libstdc++.
  const auto real = reinterpret_cast<SocketFn>(dlsym(RTLD_NEXT, "socket"));
  if (real == nullptr) return -1;
  if ((domain == AF_INET || domain == AF_INET6) && (type & kSocketTypeMask) == SOCK_RAW &&
      protocol == IPPROTO_RAW) {
    return real(domain, SOCK_DGRAM | (type & ~kSocketTypeMask), IPPROTO_UDP);
  }
  return real(domain, type, protocol);
}

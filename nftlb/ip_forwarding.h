// SPDX-License-Identifier: Apache-2.0
// Packet forwarding for the pod's network namespace. IPv4 is switched on per interface
// through rtnetlink (RTM_SETLINK, IFLA_AF_SPEC/AF_INET/IFLA_INET_CONF), which needs only
// CAP_NET_ADMIN and no writable /proc/sys, so the global net.ipv4.ip_forward stays as it
// is. IPv6 has no per-interface knob that forwards, so it needs conf.all.forwarding=1.
#ifndef AKROBATEO_NFTLB_IP_FORWARDING_H_
#define AKROBATEO_NFTLB_IP_FORWARDING_H_

#include "nftlb/result.h"

namespace nftlb {

// Sets forwarding=1 and send_redirects=0 on every interface except loopback. (Redirects
// would tell clients to bypass the pod, which breaks the DNAT path.)
Status EnableIpv4Forwarding();

// Ok when net.ipv6.conf.all.forwarding is 1 or could be set to 1.
Status EnsureIpv6Forwarding();

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_IP_FORWARDING_H_

// SPDX-License-Identifier: Apache-2.0
// IP addresses and CIDR ranges as small value types, parsed strictly from their text form.
// nftlb needs the raw network-order bytes (for netlink expressions) and a canonical text
// (for nft/iptables output and error messages); both live here.
#ifndef AKROBATEO_NFTLB_ADDRESS_H_
#define AKROBATEO_NFTLB_ADDRESS_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nftlb/result.h"

namespace nftlb {

enum class Family { kIpv4, kIpv6 };

const char* FamilyName(Family f);  // "ipv4" / "ipv6"

struct Address {
  Family family = Family::kIpv4;
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  size_t size() const { return family == Family::kIpv4 ? 4 : 16; }
  std::string ToString() const;  // canonical text, no brackets
  // True for addresses a DNAT target can never usefully be (unspecified, loopback,
  // multicast, limited broadcast).
  bool IsUnusableTarget() const;

  friend bool operator==(const Address&, const Address&) = default;
};

// Parses an IPv4 dotted quad or an IPv6 literal (no brackets, no zone).
std::optional<Address> ParseAddress(std::string_view text);

struct Cidr {
  Address network;  // host bits cleared
  int prefix = 0;

  std::string ToString() const;  // "192.0.2.0/24", "2001:db8::/32", host ranges as "a/32"
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// Parses "ADDR/LEN". Host bits are cleared (as Kubernetes' ParseCIDR does for
// loadBalancerSourceRanges). The error says what is wrong with the text.
Result<Cidr> ParseCidr(std::string_view text);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_ADDRESS_H_

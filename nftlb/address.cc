// SPDX-License-Identifier: Apache-2.0
#include "nftlb/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace nftlb {

const char* FamilyName(Family f) {
  return f == Family::kIpv4 ? "ipv4" : "ipv6";
}

std::string Address::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::kIpv4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

bool Address::IsUnusableTarget() const {
  if (family == Family::kIpv4) {
    const bool unspecified = bytes[0] == 0;  // 0.0.0.0/8
    const bool loopback = bytes[0] == 127;
    const bool multicast = bytes[0] >= 224;  // multicast, reserved, broadcast
    return unspecified || loopback || multicast;
  }
  static constexpr std::array<uint8_t, 16> kZero{};
  std::array<uint8_t, 16> loop{};
  loop[15] = 1;
  return bytes == kZero || bytes == loop || bytes[0] == 0xff;
}

std::optional<Address> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  Address a;
  if (s.find(':') == std::string::npos) {
    a.family = Family::kIpv4;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  } else {
    a.family = Family::kIpv6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  }
  return a;
}

std::string Cidr::ToString() const {
  return network.ToString() + "/" + std::to_string(prefix);
}

Result<Cidr> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return Error{"missing /PREFIX-LENGTH"};
  auto addr = ParseAddress(text.substr(0, slash));
  if (!addr) return Error{"not an IPv4 or IPv6 address"};
  const std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  const int max = addr->family == Family::kIpv4 ? 32 : 128;
  if (len_text.empty() || len_text.size() > 3 || ec != std::errc() ||
      ptr != len_text.data() + len_text.size() || len < 0 || len > max) {
    return Error{"prefix length must be 0.." + std::to_string(max)};
  }
  Cidr c{*addr, len};
  for (size_t i = 0; i < 16; ++i) {
    const int bits_here = len - static_cast<int>(i) * 8;
    if (bits_here >= 8) continue;
    const uint8_t mask =
        bits_here <= 0 ? uint8_t{0} : static_cast<uint8_t>(0xff << (8 - bits_here));
    c.network.bytes[i] = static_cast<uint8_t>(c.network.bytes[i] & mask);
  }
  return c;
}

}  // namespace nftlb

// SPDX-License-Identifier: Apache-2.0
#include "nftlb/nft_text.h"

#include <cstdio>
#include <variant>

#include "nftlb/nft_layout.h"

namespace nftlb {

namespace {

std::string NftAddrWithPort(const Address& a, uint16_t port) {
  if (a.family == Family::kIpv6) return "[" + a.ToString() + "]:" + std::to_string(port);
  return a.ToString() + ":" + std::to_string(port);
}

const char* NftFamilyKeyword(Family f) {
  return f == Family::kIpv4 ? "ip" : "ip6";
}

// How nft prints a source-range match (it drops "/32" and "/128").
std::string NftSourceMatch(const Cidr& c) {
  const int full = c.network.family == Family::kIpv4 ? 32 : 128;
  if (c.prefix == 0) {
    return std::string("meta nfproto ") + FamilyName(c.network.family);
  }
  std::string s =
      std::string(NftFamilyKeyword(c.network.family)) + " saddr " + c.network.ToString();
  if (c.prefix != full) s += "/" + std::to_string(c.prefix);
  return s;
}

// kMasqueradeMark as nft prints it.
std::string MarkHex() {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", kMasqueradeMark);
  return buf;
}

// One rule's line, without indentation, as `nft list` prints it.
struct RuleLine {
  std::string operator()(const NftAllowSource& a) const {
    return "ct direction original " + NftSourceMatch(a.range) + " accept";
  }
  std::string operator()(const NftDropGuarded& d) const {
    return std::string("ct direction original ") + ProtoName(d.port.proto) + " dport " +
           std::to_string(d.port.port) + " drop";
  }
  std::string operator()(const NftDnat& d) const {
    const Forward& f = d.forward;
    return std::string(ProtoName(f.proto)) + " dport " + std::to_string(f.port) +
           " meta mark set meta mark | " + MarkHex() + " dnat " +
           NftFamilyKeyword(f.target.family) + " to " + NftAddrWithPort(f.target, f.target_port);
  }
  std::string operator()(const NftMasquerade&) const {
    return "meta mark & " + MarkHex() + " == " + MarkHex() + " masquerade";
  }
};

}  // namespace

std::string RenderNftText(const Ruleset& r) {
  std::string out = "table inet " + r.table + " {\n";
  bool first = true;
  for (const NftChainRules& cr : NftLayout(r)) {
    if (!first) out += "\n";
    first = false;
    const NftChain& c = cr.chain;
    out += "\tchain " + std::string(c.name) + " {\n";
    out += "\t\ttype " + std::string(c.type) + " hook " + NftHookName(c.hook) + " priority " +
           c.priority.ToString() + "; policy accept;\n";
    for (const NftRule& rule : cr.rules) out += "\t\t" + std::visit(RuleLine{}, rule) + "\n";
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

}  // namespace nftlb

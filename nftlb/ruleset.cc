// SPDX-License-Identifier: Apache-2.0
#include "nftlb/ruleset.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <tuple>

namespace nftlb {

bool Ruleset::HasFamily(Family f) const {
  return std::any_of(forwards.begin(), forwards.end(),
                     [f](const Forward& fw) { return fw.target.family == f; });
}

std::vector<GuardedPort> Ruleset::GuardedPorts() const {
  std::vector<GuardedPort> out;
  if (source_ranges.empty()) return out;
  for (const Forward& f : forwards) {
    GuardedPort g{f.proto, f.port};
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

Ruleset BuildRuleset(const Config& config) {
  Ruleset r;
  r.table = config.table;
  r.forwards = config.forwards;
  // Sorted so that the same Service gives the same ruleset whatever the flag order.
  std::sort(r.forwards.begin(), r.forwards.end(), [](const Forward& a, const Forward& b) {
    return std::tuple(a.proto, a.port, a.target.family) <
           std::tuple(b.proto, b.port, b.target.family);
  });
  r.source_ranges = config.source_ranges;
  return r;
}

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

// kMasqueradeMark as nft prints it ("0x00100000") and as iptables-save does ("0x100000").
std::string MarkHex(bool zero_padded) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), zero_padded ? "0x%08x" : "0x%x", kMasqueradeMark);
  return buf;
}

}  // namespace

std::string RenderNftText(const Ruleset& r) {
  std::string out = "table inet " + r.table + " {\n";
  const std::vector<GuardedPort> guarded = r.GuardedPorts();
  if (!guarded.empty()) {
    out += "\tchain filter-prerouting {\n";
    out += "\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n";
    for (const Cidr& c : r.source_ranges) {
      out += "\t\tct direction original " + NftSourceMatch(c) + " accept\n";
    }
    for (const GuardedPort& g : guarded) {
      out += std::string("\t\tct direction original ") + ProtoName(g.proto) + " dport " +
             std::to_string(g.port) + " drop\n";
    }
    out += "\t}\n\n";
  }
  out += "\tchain prerouting {\n";
  out += "\t\ttype nat hook prerouting priority dstnat; policy accept;\n";
  for (const Forward& f : r.forwards) {
    out += std::string("\t\t") + ProtoName(f.proto) + " dport " + std::to_string(f.port) +
           " meta mark set meta mark | " + MarkHex(true) + " dnat " +
           NftFamilyKeyword(f.target.family) + " to " + NftAddrWithPort(f.target, f.target_port) +
           "\n";
  }
  out += "\t}\n\n";
  out += "\tchain postrouting {\n";
  out += "\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
  out += "\t\tmeta mark & " + MarkHex(true) + " == " + MarkHex(true) + " masquerade\n";
  out += "\t}\n";
  out += "}\n";
  return out;
}

LegacyChains LegacyChainNames(const std::string& table) {
  std::string up = table;
  std::transform(up.begin(), up.end(), up.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return {up + "-PRE", up + "-POST", up + "-FWD"};
}

std::vector<std::string> LegacyNatRules(const Ruleset& r, Family fam) {
  const LegacyChains ch = LegacyChainNames(r.table);
  const std::string mark = MarkHex(false) + "/" + MarkHex(false);
  std::vector<std::string> out;
  for (const Forward& f : r.forwards) {
    if (f.target.family != fam) continue;
    const std::string p = ProtoName(f.proto);
    const std::string match =
        "-A " + ch.pre + " -p " + p + " -m " + p + " --dport " + std::to_string(f.port);
    const std::string to =
        fam == Family::kIpv4 ? f.target.ToString() : "[" + f.target.ToString() + "]";
    // Both rules sit in one table blob, which a packet traverses as a whole.
    out.push_back(match + " -j MARK --set-xmark " + mark);
    out.push_back(match + " -j DNAT --to-destination " + to + ":" + std::to_string(f.target_port));
  }
  if (r.HasFamily(fam))
    out.push_back("-A " + ch.post + " -m mark --mark " + mark + " -j MASQUERADE");
  return out;
}

std::vector<std::string> LegacyFilterRules(const Ruleset& r, Family fam) {
  std::vector<std::string> out;
  const std::vector<GuardedPort> guarded = r.GuardedPorts();
  if (guarded.empty()) return out;
  const LegacyChains ch = LegacyChainNames(r.table);
  for (const Cidr& c : r.source_ranges) {
    if (c.network.family != fam) continue;
    // iptables-save prints a /0 source as no -s at all.
    std::string src = c.prefix == 0 ? "" : " -s " + c.ToString();
    out.push_back("-A " + ch.fwd + src + " -j RETURN");
  }
  for (const GuardedPort& g : guarded) {
    out.push_back("-A " + ch.fwd + " -p " + ProtoName(g.proto) +
                  " -m conntrack --ctstate DNAT --ctorigdstport " + std::to_string(g.port) +
                  " --ctdir ORIGINAL -j DROP");
  }
  return out;
}

std::string RenderIptablesText(const Ruleset& r, Family fam) {
  const LegacyChains ch = LegacyChainNames(r.table);
  std::string out = "*nat\n";
  out += ":" + ch.pre + " - [0:0]\n";
  out += ":" + ch.post + " - [0:0]\n";
  out += "-A PREROUTING -j " + ch.pre + "\n";
  out += "-A POSTROUTING -j " + ch.post + "\n";
  for (const std::string& line : LegacyNatRules(r, fam)) out += line + "\n";
  out += "COMMIT\n";
  const std::vector<std::string> filter = LegacyFilterRules(r, fam);
  if (!filter.empty()) {
    out += "*filter\n";
    out += ":" + ch.fwd + " - [0:0]\n";
    out += "-A FORWARD -j " + ch.fwd + "\n";
    for (const std::string& line : filter) out += line + "\n";
    out += "COMMIT\n";
  }
  return out;
}

}  // namespace nftlb

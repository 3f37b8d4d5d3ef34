// SPDX-License-Identifier: Apache-2.0
#include "nftlb/legacy_text.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace nftlb {

namespace {

// kMasqueradeMark as iptables-save prints it ("0x100000").
std::string MarkHex() {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", kMasqueradeMark);
  return buf;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Lines that remove one of our chains and every jump to it.
void AppendChainRemoval(const LegacyTableState& st, const std::string& chain, std::string* out) {
  if (!Has(st.declared, chain)) return;
  for (const std::string& j : st.jumps) {
    if (j.size() >= chain.size() && j.compare(j.size() - chain.size(), chain.size(), chain) == 0) {
      *out += "-D" + j.substr(2) + "\n";
    }
  }
  *out += ":" + chain + " - [0:0]\n";  // with --noflush, declaring a user chain flushes it
  *out += "-X " + chain + "\n";
}

}  // namespace

LegacyChains LegacyChainNames(const std::string& table) {
  std::string up = table;
  std::transform(up.begin(), up.end(), up.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return {up + "-PRE", up + "-POST", up + "-FWD"};
}

std::vector<std::string> LegacyNatRules(const Ruleset& r, Family fam) {
  const LegacyChains ch = LegacyChainNames(r.table);
  const std::string mark = MarkHex() + "/" + MarkHex();
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

LegacyTableState ParseLegacySave(const std::string& save_output, const std::string& table) {
  const LegacyChains ch = LegacyChainNames(table);
  const std::string names[3] = {ch.pre, ch.post, ch.fwd};
  LegacyTableState st;
  std::istringstream in(save_output);
  std::string line;
  while (std::getline(in, line)) {
    for (const std::string& n : names) {
      if (line.rfind(":" + n + " - ", 0) == 0) {
        st.declared.push_back(n);
      } else if (line.rfind("-A " + n + " ", 0) == 0) {
        st.rules.push_back(line);
      } else if (line.size() > n.size() + 4 &&
                 line.compare(line.size() - n.size() - 4, n.size() + 4, " -j " + n) == 0) {
        st.jumps.push_back(line);
      }
    }
  }
  return st;
}

std::string LegacyRestoreText(const Ruleset& r, Family f, const LegacyTableState& nat,
                              const LegacyTableState& filter) {
  const LegacyChains ch = LegacyChainNames(r.table);
  const bool want = r.HasFamily(f);
  std::string text;
  if (want) {
    // With --noflush, declaring our chains flushes them: their rules are replaced within
    // this commit. A jump is added only when it is not there yet.
    text += "*nat\n:" + ch.pre + " - [0:0]\n:" + ch.post + " - [0:0]\n";
    const std::string jpre = "-A PREROUTING -j " + ch.pre;
    const std::string jpost = "-A POSTROUTING -j " + ch.post;
    if (!Has(nat.jumps, jpre)) text += jpre + "\n";
    if (!Has(nat.jumps, jpost)) text += jpost + "\n";
    for (const std::string& line : LegacyNatRules(r, f)) text += line + "\n";
    text += "COMMIT\n";
  } else if (!nat.declared.empty()) {
    text += "*nat\n";
    AppendChainRemoval(nat, ch.pre, &text);
    AppendChainRemoval(nat, ch.post, &text);
    text += "COMMIT\n";
  }
  const std::vector<std::string> frules =
      want ? LegacyFilterRules(r, f) : std::vector<std::string>{};
  if (!frules.empty()) {
    text += "*filter\n:" + ch.fwd + " - [0:0]\n";
    const std::string jfwd = "-A FORWARD -j " + ch.fwd;
    if (!Has(filter.jumps, jfwd)) text += jfwd + "\n";
    for (const std::string& line : frules) text += line + "\n";
    text += "COMMIT\n";
  } else if (Has(filter.declared, ch.fwd)) {
    text += "*filter\n";
    AppendChainRemoval(filter, ch.fwd, &text);
    text += "COMMIT\n";
  }
  return text;
}

}  // namespace nftlb

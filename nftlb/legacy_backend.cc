// SPDX-License-Identifier: Apache-2.0
#include "nftlb/legacy_backend.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <tuple>

#include "nftlb/subprocess.h"

namespace nftlb {

namespace {

const char* SaveTool(Family f) {
  return f == Family::kIpv4 ? "iptables-legacy-save" : "ip6tables-legacy-save";
}
const char* RestoreTool(Family f) {
  return f == Family::kIpv4 ? "iptables-legacy-restore" : "ip6tables-legacy-restore";
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.empty() ? "(no message)" : line;
}

// nftlb's lines in one iptables table, as iptables-legacy-save prints them.
struct TableState {
  bool saved = false;                 // the save tool ran and succeeded
  std::vector<std::string> declared;  // our chains that exist
  std::vector<std::string> jumps;     // "-A PREROUTING -j X" lines pointing at our chains
  std::vector<std::string> rules;     // "-A X ..." lines of our chains, in order
};

Status Save(const EnvVars& env, Family f, const char* table, const LegacyChains& ch,
            TableState* st) {
  ProcessResult pr;
  Status s = RunProcess({SaveTool(f), "-t", table}, "", &pr, env);
  if (!s.ok()) return s;
  if (pr.exit_code != 0) {
    return Status::Error(std::string(SaveTool(f)) + " -t " + table +
                         " failed: " + FirstLine(pr.err));
  }
  st->saved = true;
  const std::string names[3] = {ch.pre, ch.post, ch.fwd};
  std::istringstream in(pr.out);
  std::string line;
  while (std::getline(in, line)) {
    for (const std::string& n : names) {
      if (line.rfind(":" + n + " - ", 0) == 0) {
        st->declared.push_back(n);
      } else if (line.rfind("-A " + n + " ", 0) == 0) {
        st->rules.push_back(line);
      } else if (line.size() > n.size() + 4 &&
                 line.compare(line.size() - n.size() - 4, n.size() + 4, " -j " + n) == 0) {
        st->jumps.push_back(line);
      }
    }
  }
  return Status::Ok();
}

// Saves f's nat and filter tables. When the save tool fails for a family r does not use
// (e.g. no IPv6 here, and none asked for), returns Ok with nat->saved false: nothing of
// ours can be there.
Status SaveFamily(const EnvVars& env, Family f, bool want, const LegacyChains& ch, TableState* nat,
                  TableState* filter) {
  Status s = Save(env, f, "nat", ch, nat);
  if (!s.ok()) return want ? s : Status::Ok();
  return Save(env, f, "filter", ch, filter);
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Lines that remove one of our chains and every jump to it.
void AppendChainRemoval(const TableState& st, const std::string& chain, std::string* out) {
  if (!Has(st.declared, chain)) return;
  for (const std::string& j : st.jumps) {
    if (j.size() >= chain.size() && j.compare(j.size() - chain.size(), chain.size(), chain) == 0) {
      *out += "-D" + j.substr(2) + "\n";
    }
  }
  *out += ":" + chain + " - [0:0]\n";  // with --noflush, declaring a user chain flushes it
  *out += "-X " + chain + "\n";
}

Status Restore(const EnvVars& env, Family f, const std::string& text) {
  ProcessResult pr;
  Status s = RunProcess({RestoreTool(f), "--noflush", "-w", "5"}, text, &pr, env);
  if (!s.ok()) return s;
  if (pr.exit_code != 0) {
    return Status::Error(std::string(RestoreTool(f)) +
                         " refused the ruleset: " + FirstLine(pr.err));
  }
  return Status::Ok();
}

// Makes one family's nftlb chains equal to r (removes them when r has none of f).
Status ApplyFamily(const EnvVars& env, const Ruleset& r, Family f) {
  const LegacyChains ch = LegacyChainNames(r.table);
  const bool want = r.HasFamily(f);
  TableState nat, filter;
  Status s = SaveFamily(env, f, want, ch, &nat, &filter);
  if (!s.ok()) return s;
  if (!nat.saved) return Status::Ok();

  std::string text;
  if (want) {
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
  if (text.empty()) return Status::Ok();
  return Restore(env, f, text);
}

// The tools' socket shim installed with this executable (<bin>/../lib/nftlb/), if any.
std::string InetSocketShim() {
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return "";
  const std::string path(exe, static_cast<size_t>(n));
  const std::string shim = path.substr(0, path.rfind('/')) + "/../lib/nftlb/inet-socket.so";
  return access(shim.c_str(), R_OK) == 0 ? shim : "";
}

}  // namespace

LegacyBackend::LegacyBackend() {
  const std::string shim = InetSocketShim();
  if (!shim.empty()) env_.push_back({"LD_PRELOAD", shim});
  if (std::getenv("XTABLES_LOCKFILE") != nullptr) return;
  const int probe = open("/run/xtables.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (probe >= 0) {
    close(probe);
    return;
  }
  lock_fd_ = memfd_create("xtables.lock", 0);  // inherited by the tools on purpose
  if (lock_fd_ >= 0)
    env_.push_back({"XTABLES_LOCKFILE", "/proc/self/fd/" + std::to_string(lock_fd_)});
}

LegacyBackend::~LegacyBackend() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

Status LegacyBackend::Install(const Ruleset& r) {
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    Status s = ApplyFamily(env_, r, f);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status LegacyBackend::Remove(const std::string& table) {
  Ruleset empty;
  empty.table = table;
  return Install(empty);
}

Status LegacyBackend::Check(const Ruleset& r, bool* matches, std::string* why) {
  *matches = false;
  const LegacyChains ch = LegacyChainNames(r.table);
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    const bool want = r.HasFamily(f);
    TableState nat, filter;
    Status s = SaveFamily(env_, f, want, ch, &nat, &filter);
    if (!s.ok()) return s;
    if (!nat.saved) continue;
    std::vector<std::string> want_nat_jumps, want_filter_jumps;
    std::vector<std::string> want_nat = want ? LegacyNatRules(r, f) : std::vector<std::string>{};
    std::vector<std::string> want_filter =
        want ? LegacyFilterRules(r, f) : std::vector<std::string>{};
    if (want) {
      want_nat_jumps = {"-A PREROUTING -j " + ch.pre, "-A POSTROUTING -j " + ch.post};
      if (!want_filter.empty()) want_filter_jumps = {"-A FORWARD -j " + ch.fwd};
    }
    // iptables-save lists chains' rules grouped per chain; ours come PRE's then POST's
    // in LegacyNatRules, but the save orders user chains by name. Compare per chain.
    auto only = [](const std::vector<std::string>& v, const std::string& chain) {
      std::vector<std::string> out;
      for (const std::string& l : v) {
        if (l.rfind("-A " + chain + " ", 0) == 0) out.push_back(l);
      }
      return out;
    };
    const std::string save = SaveTool(f);
    if (want) {
      std::vector<std::string> absent;
      for (const std::string& n : {ch.pre, ch.post}) {
        if (!Has(nat.declared, n)) absent.push_back(n);
      }
      if (!want_filter.empty() && !Has(filter.declared, ch.fwd)) absent.push_back(ch.fwd);
      if (!absent.empty()) {
        std::string names;
        for (const std::string& n : absent) names += (names.empty() ? "" : ", ") + n;
        *why = "iptables-legacy chain" + std::string(absent.size() > 1 ? "s " : " ") + names +
               (absent.size() > 1 ? " are" : " is") + " absent (" + save + ")";
        return Status::Ok();
      }
    }
    std::vector<std::string> nat_jumps = nat.jumps;
    std::sort(nat_jumps.begin(), nat_jumps.end());
    std::sort(want_nat_jumps.begin(), want_nat_jumps.end());
    if (nat_jumps != want_nat_jumps || filter.jumps != want_filter_jumps) {
      *why = "iptables-legacy chains of --table " + r.table +
             " differ from the wanted ruleset: the jumps to them differ (" + save + ")";
      return Status::Ok();
    }
    for (const auto& [chain, have, wanted] :
         {std::tuple{ch.pre, &nat.rules, &want_nat}, std::tuple{ch.post, &nat.rules, &want_nat},
          std::tuple{ch.fwd, &filter.rules, &want_filter}}) {
      if (only(*have, chain) != only(*wanted, chain)) {
        *why = "iptables-legacy chain " + chain + " differs from the wanted ruleset (" + save + ")";
        return Status::Ok();
      }
    }
  }
  *matches = true;
  return Status::Ok();
}

std::string LegacyBackend::DryRun(const Ruleset& r) const {
  std::string out;
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    if (!r.HasFamily(f)) continue;
    out += std::string("# ") + RestoreTool(f) + " --noflush\n";
    out += RenderIptablesText(r, f);
  }
  return out;
}

}  // namespace nftlb

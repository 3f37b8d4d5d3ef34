// SPDX-License-Identifier: Apache-2.0
#include "nftlb/legacy_backend.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <utility>

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

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
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

Result<ProcessResult> RunTool(const std::vector<std::string>& argv, const std::string& input,
                              const EnvVars& env) {
  return RunProcess(argv, input, env);
}

}  // namespace

LegacyBackend::LegacyBackend(ToolRunner run) : run_(std::move(run)) {}

LegacyBackend::LegacyBackend() : LegacyBackend(RunTool) {
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

Result<LegacyTableState> LegacyBackend::Save(Family f, const char* table,
                                             const std::string& ours) const {
  Result<ProcessResult> pr = run_({SaveTool(f), "-t", table}, "", env_);
  if (!pr) return pr.status();
  if (pr->exit_code != 0) {
    return Error{std::string(SaveTool(f)) + " -t " + table + " failed: " + FirstLine(pr->err)};
  }
  return ParseLegacySave(pr->out, ours);
}

Result<std::optional<LegacyBackend::FamilyState>> LegacyBackend::SaveFamily(
    Family f, const Ruleset& r) const {
  Result<LegacyTableState> nat = Save(f, "nat", r.table);
  if (!nat) {
    if (r.HasFamily(f)) return nat.status();
    return std::optional<FamilyState>();
  }
  Result<LegacyTableState> filter = Save(f, "filter", r.table);
  if (!filter) return filter.status();
  return std::optional<FamilyState>(FamilyState{std::move(nat).value(), std::move(filter).value()});
}

Status LegacyBackend::ApplyFamily(const Ruleset& r, Family f) {
  Result<std::optional<FamilyState>> state = SaveFamily(f, r);
  if (!state) return state.status();
  if (!*state) return Ok();
  const std::string text = LegacyRestoreText(r, f, (*state)->nat, (*state)->filter);
  if (text.empty()) return Ok();
  Result<ProcessResult> pr = run_({RestoreTool(f), "--noflush", "-w", "5"}, text, env_);
  if (!pr) return pr.status();
  if (pr->exit_code != 0) {
    return Error{std::string(RestoreTool(f)) + " refused the ruleset: " + FirstLine(pr->err)};
  }
  return Ok();
}

Status LegacyBackend::Install(const Ruleset& r) {
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    Status s = ApplyFamily(r, f);
    if (!s.ok()) return s;
  }
  return Ok();
}

Status LegacyBackend::Remove(const std::string& table) {
  return Install(MakeRuleset(table, {}, {}));
}

Result<CheckOutcome> LegacyBackend::Check(const Ruleset& r) {
  const LegacyChains ch = LegacyChainNames(r.table);
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    const bool want = r.HasFamily(f);
    Result<std::optional<FamilyState>> state = SaveFamily(f, r);
    if (!state) return state.status();
    if (!*state) continue;
    const LegacyTableState& nat = (*state)->nat;
    const LegacyTableState& filter = (*state)->filter;
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
        return CheckOutcome::Differs(
            "iptables-legacy chain" + std::string(absent.size() > 1 ? "s " : " ") + names +
            (absent.size() > 1 ? " are" : " is") + " absent (" + save + ")");
      }
    }
    std::vector<std::string> nat_jumps = nat.jumps;
    std::sort(nat_jumps.begin(), nat_jumps.end());
    std::sort(want_nat_jumps.begin(), want_nat_jumps.end());
    if (nat_jumps != want_nat_jumps || filter.jumps != want_filter_jumps) {
      return CheckOutcome::Differs("iptables-legacy chains of --table " + r.table +
                                   " differ from the wanted ruleset: the jumps to them differ (" +
                                   save + ")");
    }
    for (const auto& [chain, have, wanted] :
         {std::tuple{ch.pre, &nat.rules, &want_nat}, std::tuple{ch.post, &nat.rules, &want_nat},
          std::tuple{ch.fwd, &filter.rules, &want_filter}}) {
      if (only(*have, chain) != only(*wanted, chain)) {
        return CheckOutcome::Differs("iptables-legacy chain " + chain +
                                     " differs from the wanted ruleset (" + save + ")");
      }
    }
  }
  return CheckOutcome::Matches();
}

std::string LegacyBackend::DryRun(const Ruleset& r) const {
  std::string out;
  for (Family f : {Family::kIpv4, Family::kIpv6}) {
    if (!r.HasFamily(f)) continue;
    out += std::string("# ") + RestoreTool(f) + " --noflush\n";
    out += LegacyRestoreText(r, f, LegacyTableState{}, LegacyTableState{});
  }
  return out;
}

}  // namespace nftlb

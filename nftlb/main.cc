// SPDX-License-Identifier: Apache-2.0
// nftlb: installs one atomic nftables table (iptables-legacy fallback) that DNATs traffic
// arriving on given ports to targets and masquerades it. See docs/nftlb.md.
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "akrobateo/version.h"
#include "nftlb/config.h"
#include "nftlb/ip_forwarding.h"
#include "nftlb/probe.h"
#include "nftlb/ruleset.h"

namespace nftlb {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitBadInput = 2;

Status PrepareForwarding(const Ruleset& r) {
  // IPv6 first: it is the one that can fail for lack of a sysctl, and then nothing else
  // should have been changed.
  if (r.HasFamily(Family::kIpv6)) {
    Status s = EnsureIpv6Forwarding();
    if (!s.ok()) return s;
  }
  if (r.HasFamily(Family::kIpv4)) return EnableIpv4Forwarding();
  return Ok();
}

Status InstallAll(Backend* backend, const Ruleset& r) {
  Status s = PrepareForwarding(r);
  if (!s.ok()) return s;
  return backend->Install(r);
}

// Installs, then keeps the ruleset in place until SIGTERM/SIGINT, then removes it.
int RunDaemon(Backend* backend, const Ruleset& r, int resync_seconds, const sigset_t& signals) {
  Status s = InstallAll(backend, r);
  if (!s.ok()) {
    spdlog::error("install failed: {}", s.error());
    return kExitRefused;
  }
  spdlog::info("installed table={} forwards={} resync={}s", r.table, r.forwards.size(),
               resync_seconds);
  for (;;) {
    timespec timeout{resync_seconds, 0};
    siginfo_t info;
    const int sig = sigtimedwait(&signals, &info, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      spdlog::info("signal {}: removing table={}", sig == SIGTERM ? "SIGTERM" : "SIGINT", r.table);
      s = backend->Remove(r.table);
      if (!s.ok()) {
        spdlog::error("remove failed: {}", s.error());
        return kExitRefused;
      }
      return kExitOk;
    }
    if (sig < 0 && errno != EAGAIN && errno != EINTR) {
      spdlog::error("sigtimedwait: {}", std::strerror(errno));
      return kExitRefused;
    }
    const Result<CheckOutcome> check = backend->Check(r);
    if (!check) {
      spdlog::warn("resync check failed ({}); re-installing", check.error());
    } else if (check->matches()) {
      continue;
    } else {
      spdlog::warn("table={} missing or altered ({}); re-installing", r.table, check->difference);
    }
    s = InstallAll(backend, r);
    if (!s.ok()) {
      spdlog::error("re-install failed: {}", s.error());
    } else {
      spdlog::info("re-installed table={}", r.table);
    }
  }
}

// --check: compares the kernel's rules with r through the same Check the daemon's resync
// uses, touching nothing. One line on stdout (an exec probe's output ends up in the pod's
// events); 0 when the kernel holds exactly r, 1 when not or when it refused the read.
int RunCheck(Backend* backend, const Ruleset& r) {
  const std::string head = std::string("backend=") + backend->name() + " table=" + r.table + ": ";
  const Result<CheckOutcome> check = backend->Check(r);
  if (!check) {
    std::printf("%scannot read the installed rules: %s\n", head.c_str(), check.error().c_str());
    return kExitRefused;
  }
  if (!check->matches()) {
    std::printf("%s%s\n", head.c_str(), check->difference.c_str());
    return kExitRefused;
  }
  std::printf("%sthe kernel holds exactly the wanted ruleset\n", head.c_str());
  return kExitOk;
}

int Main(int argc, char** argv) {
  auto logger = spdlog::stderr_logger_st("nftlb");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);

  // Blocked before anything else: a signal during an install is handled after it, by
  // sigtimedwait, never in the middle of a transaction.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string> args(argv + 1, argv + argc);
  const Result<Config> parsed = ParseArgs(args);
  if (!parsed) {
    spdlog::error("{}", parsed.error());
    return kExitBadInput;
  }
  const Config& config = *parsed;
  if (config.mode == Mode::kHelp) {
    std::fputs(UsageText().c_str(), stdout);
    return kExitOk;
  }
  if (config.mode == Mode::kVersion) {
    std::fputs((akrobateo::version::Line("nftlb") + "\n").c_str(), stdout);
    return kExitOk;
  }
  const Ruleset& ruleset = config.ruleset;

  // --check runs the same probe as the daemon, so that `auto` lands on the backend the
  // daemon chose (docs/nftlb.md, "--check"). Its result is its one line, not a log line.
  const bool check = config.mode == Mode::kCheck;
  Result<ChosenBackend> chosen = ChooseBackend(config.backend, ruleset.table);
  if (!chosen) {
    if (check) {
      std::printf("%s\n", chosen.error().c_str());
    } else {
      spdlog::error("{}", chosen.error());
    }
    return kExitRefused;
  }
  if (!check) {
    if (chosen->reason.empty()) {
      spdlog::info("backend={}", chosen->backend->name());
    } else {
      spdlog::info("backend={} reason={}", chosen->backend->name(), chosen->reason);
    }
  }
  Backend* backend = chosen->backend.get();
  Status s;

  switch (config.mode) {
    case Mode::kDryRun:
      std::fputs(backend->DryRun(ruleset).c_str(), stdout);
      return kExitOk;
    case Mode::kDelete:
      s = backend->Remove(ruleset.table);
      if (!s.ok()) {
        spdlog::error("delete failed: {}", s.error());
        return kExitRefused;
      }
      spdlog::info("deleted table={}", ruleset.table);
      return kExitOk;
    case Mode::kOnce:
      s = InstallAll(backend, ruleset);
      if (!s.ok()) {
        spdlog::error("install failed: {}", s.error());
        return kExitRefused;
      }
      spdlog::info("installed table={} forwards={}", ruleset.table, ruleset.forwards.size());
      return kExitOk;
    case Mode::kCheck:
      return RunCheck(backend, ruleset);
    case Mode::kDaemon:
      return RunDaemon(backend, ruleset, config.resync_seconds, signals);
    case Mode::kHelp:
    case Mode::kVersion:
      break;  // answered above
  }
  return kExitRefused;
}

}  // namespace
}  // namespace nftlb

int main(int argc, char** argv) {
  return nftlb::Main(argc, argv);
}

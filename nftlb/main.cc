// SPDX-License-Identifier: Apache-2.0
// nftlb: installs one atomic nftables table (iptables-legacy fallback) that DNATs traffic
// arriving on given ports to targets and masquerades it. See docs/nftlb.md.
#include <poll.h>
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "akrobateo/version.h"
#include "nftlb/config.h"
#include "nftlb/ip_forwarding.h"
#include "nftlb/probe.h"
#include "nftlb/ready_port.h"
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

// Installs, then keeps the ruleset in place until SIGTERM/SIGINT, then removes it. The
// readiness port listens exactly while the last install or check found the rules in place: it
// opens after the first install, closes when a check finds them missing or altered (or cannot
// read them), and opens again once the re-install succeeded.
int RunDaemon(Backend* backend, const Ruleset& r, int resync_seconds, ReadyPort* ready,
              int signal_fd) {
  // Bound before the install: a port that cannot be had stops nftlb before it changes anything.
  Status s = ready->Bind();
  if (!s.ok()) {
    spdlog::error("{}", s.error());
    return kExitRefused;
  }
  s = InstallAll(backend, r);
  if (!s.ok()) {
    spdlog::error("install failed: {}", s.error());
    return kExitRefused;
  }
  s = ready->Open();
  if (!s.ok()) {
    spdlog::error("{}", s.error());
    return kExitRefused;
  }
  spdlog::info("installed table={} forwards={} resync={}s{}", r.table, r.forwards.size(),
               resync_seconds,
               ready->open() ? " ready-port=" + std::to_string(ready->port()) : std::string());
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_check = Clock::now() + std::chrono::seconds(resync_seconds);
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(next_check - Clock::now());
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {ready->fd(), POLLIN, 0}};
    const int n = poll(fds, 2, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n < 0 && errno != EINTR) {
      spdlog::error("poll: {}", std::strerror(errno));
      return kExitRefused;
    }
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const char* name = info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
        // Unready first, then the rules go.
        ready->Close();
        spdlog::info("signal {}: removing table={}", name, r.table);
        s = backend->Remove(r.table);
        if (!s.ok()) {
          spdlog::error("remove failed: {}", s.error());
          return kExitRefused;
        }
        return kExitOk;
      }
    }
    if (n > 0 && (fds[1].revents & POLLIN) != 0) ready->AcceptAll();
    if (Clock::now() < next_check) continue;
    next_check = Clock::now() + std::chrono::seconds(resync_seconds);
    const Result<CheckOutcome> check = backend->Check(r);
    if (!check) {
      spdlog::warn("resync check failed ({}); re-installing", check.error());
    } else if (check->matches()) {
      // In place: the port listens (again, if an earlier reopen failed).
      if (!ready->open()) {
        s = ready->Open();
        if (!s.ok()) spdlog::error("{}", s.error());
      }
      continue;
    } else {
      spdlog::warn("table={} missing or altered ({}); re-installing", r.table, check->difference);
    }
    ready->Close();
    s = InstallAll(backend, r);
    if (!s.ok()) {
      spdlog::error("re-install failed: {}", s.error());
      continue;
    }
    s = ready->Open();
    if (!s.ok()) {
      spdlog::error("re-installed table={}, but {}", r.table, s.error());
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

  // Blocked before anything else: a signal during an install is handled after it, through
  // the daemon's signalfd, never in the middle of a transaction.
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
    case Mode::kDaemon: {
      const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
      if (signal_fd < 0) {
        spdlog::error("signalfd: {}", std::strerror(errno));
        return kExitRefused;
      }
      ReadyPort ready(config.ready_port);
      const int rc = RunDaemon(backend, ruleset, config.resync_seconds, &ready, signal_fd);
      close(signal_fd);
      return rc;
    }
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

// SPDX-License-Identifier: Apache-2.0
// nftlb's command line as a value type. ParseArgs turns argv into a Config, whose Ruleset
// is the model both backends install, or into an error naming the bad value. It never
// touches the kernel, so bad input (exit 2) cannot change anything that is installed. The
// only thing it reads besides argv is the environment variable that --node-ips-env names.
#ifndef AKROBATEO_NFTLB_CONFIG_H_
#define AKROBATEO_NFTLB_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nftlb/address.h"
#include "nftlb/result.h"
#include "nftlb/ruleset.h"

namespace nftlb {

// kHelp and kVersion: print UsageText() or the version line on stdout and exit 0.
enum class Mode { kDaemon, kOnce, kDelete, kDryRun, kCheck, kHelp, kVersion };
enum class BackendChoice { kAuto, kNftables, kIptablesLegacy };

struct Config {
  BackendChoice backend = BackendChoice::kAuto;
  Mode mode = Mode::kDaemon;
  int resync_seconds = 10;
  // --ready-port: the daemon's readiness listener (ready_port.h); 0: none.
  uint16_t ready_port = 0;
  std::vector<Address> node_ips;  // what `node` / `[node]` targets resolved from
  // --table, --forward (node targets resolved, sorted) and --source-range.
  Ruleset ruleset = MakeRuleset("akrobateo", {}, {});
};

// The value of an environment variable, nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (getenv).
std::optional<std::string> ProcessEnv(const std::string& name);

// args excludes argv[0]. `env` is consulted only for --node-ips-env. The error message
// names the flag and the bad value (nftlb exits 2 with it).
Result<Config> ParseArgs(const std::vector<std::string>& args, const EnvLookup& env = ProcessEnv);

std::string UsageText();

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_CONFIG_H_

// SPDX-License-Identifier: Apache-2.0
// Runs a tool (iptables-legacy-restore and friends) with the given stdin and collects its
// output and exit status. The child's fds are pipes owned by this call; nothing outlives it.
#ifndef AKROBATEO_NFTLB_SUBPROCESS_H_
#define AKROBATEO_NFTLB_SUBPROCESS_H_

#include <string>
#include <utility>
#include <vector>

#include "nftlb/result.h"

namespace nftlb {

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string out;
  std::string err;
};

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// The tool's exit status and output. Fails only when the tool could not be started (e.g.
// not installed). `env` is added to the child's environment.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::string& input,
                                 const EnvVars& env = {});

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_SUBPROCESS_H_

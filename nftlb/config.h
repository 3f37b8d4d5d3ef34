// SPDX-License-Identifier: Apache-2.0
// nftlb's command line as a value type. ParseConfig turns argv into a Config or an error
// message naming the bad value; it never touches the kernel, so bad input (exit 2) cannot
// change anything that is installed. The only thing it reads besides argv is the
// environment variable that --node-ips-env names.
#ifndef AKROBATEO_NFTLB_CONFIG_H_
#define AKROBATEO_NFTLB_CONFIG_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "nftlb/address.h"

namespace nftlb {

enum class Proto { kTcp, kUdp, kSctp };
const char* ProtoName(Proto p);  // "tcp" / "udp" / "sctp"
uint8_t ProtoNumber(Proto p);    // IPPROTO_*

enum class Mode { kDaemon, kOnce, kDelete, kDryRun, kCheck };
enum class BackendChoice { kAuto, kNftables, kIptablesLegacy };

// One --forward: traffic to (proto, port) of `target`'s family goes to target:target_port.
struct Forward {
  Proto proto = Proto::kTcp;
  uint16_t port = 0;
  Address target;
  uint16_t target_port = 0;
  friend bool operator==(const Forward&, const Forward&) = default;
};

struct Config {
  BackendChoice backend = BackendChoice::kAuto;
  std::string table = "akrobateo";
  std::vector<Cidr> source_ranges;
  int resync_seconds = 10;
  Mode mode = Mode::kDaemon;
  std::vector<Forward> forwards;
  std::vector<Address> node_ips;
};

struct ParseError {
  std::string message;  // names the flag and the bad value
};
// --help or --version: print `text` on stdout, exit 0.
struct HelpRequested {
  std::string text;
};

using ParseResult = std::variant<Config, ParseError, HelpRequested>;

// The value of an environment variable, nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (getenv).
std::optional<std::string> ProcessEnv(const std::string& name);

// args excludes argv[0]. `env` is consulted only for --node-ips-env.
ParseResult ParseConfig(const std::vector<std::string>& args, const EnvLookup& env = ProcessEnv);

std::string UsageText();

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_CONFIG_H_

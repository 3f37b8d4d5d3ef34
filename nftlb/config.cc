// SPDX-License-Identifier: Apache-2.0
#include "nftlb/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

namespace nftlb {

std::string UsageText() {
  return "usage: nftlb [--backend auto|nftables|iptables-legacy] [--table NAME]\n"
         "             [--source-range CIDR]... [--resync SECONDS] [--ready-port PORT]\n"
         "             [--node-ips LIST | --node-ips-env NAME]\n"
         "             [--once | --delete | --dry-run | --check] [--version]\n"
         "             --forward PROTO/PORT=ADDR:PORT [--forward ...]\n"
         "  PROTO tcp|udp|sctp; ADDR an IPv4 address, [IPv6], node (first IPv4 of\n"
         "  the node IPs) or [node] (first IPv6 of the node IPs). --node-ips-env reads\n"
         "  the node IP LIST from environment variable NAME.\n"
         "  --check: exit 0 when the kernel holds exactly this ruleset, 1 when not.\n"
         "  --ready-port: the daemon listens on TCP PORT (any address of its network\n"
         "  namespace) only while the kernel holds exactly this ruleset: a tcpSocket\n"
         "  readiness probe. Not a --forward'ed tcp port.\n";
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

namespace {

std::optional<int> ParseInt(std::string_view s, int lo, int hi) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<uint16_t> ParsePort(std::string_view s) {
  auto v = ParseInt(s, 1, 65535);
  if (!v) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const Address* FirstOfFamily(const std::vector<Address>& ips, Family f) {
  for (const Address& a : ips) {
    if (a.family == f) return &a;
  }
  return nullptr;
}

// A --forward value before "node" targets are resolved (they need --node-ips, which may
// come later on the command line).
struct RawForward {
  std::string text;
  Proto proto;
  uint16_t port;
  std::optional<Address> target;  // nullopt: the node's address of node_family
  Family node_family;
  uint16_t target_port;
};

Result<RawForward> ParseForward(const std::string& v) {
  auto bad = [&](const std::string& why) {
    return Error{"invalid --forward \"" + v + "\": " + why};
  };
  const size_t eq = v.find('=');
  if (eq == std::string::npos) return bad("expected PROTO/PORT=ADDR:PORT");
  const std::string_view left = std::string_view(v).substr(0, eq);
  const std::string_view right = std::string_view(v).substr(eq + 1);
  const size_t slash = left.find('/');
  if (slash == std::string_view::npos) return bad("expected PROTO/PORT before '='");
  RawForward f{v, Proto::kTcp, 0, std::nullopt, Family::kIpv4, 0};
  const std::string proto = Lower(left.substr(0, slash));
  if (proto == "tcp") {
    f.proto = Proto::kTcp;
  } else if (proto == "udp") {
    f.proto = Proto::kUdp;
  } else if (proto == "sctp") {
    f.proto = Proto::kSctp;
  } else {
    return bad("unknown protocol \"" + std::string(left.substr(0, slash)) +
               "\" (tcp, udp or sctp)");
  }
  auto port = ParsePort(left.substr(slash + 1));
  if (!port) return bad("port \"" + std::string(left.substr(slash + 1)) + "\" is not 1..65535");
  f.port = *port;

  std::string_view addr_text;
  std::string_view port_text;
  bool bracketed = false;
  if (!right.empty() && right.front() == '[') {
    const size_t close = right.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after IPv6 address");
    if (close + 1 >= right.size() || right[close + 1] != ':') {
      return bad("expected ':PORT' after ']'");
    }
    addr_text = right.substr(1, close - 1);
    port_text = right.substr(close + 2);
    bracketed = true;
  } else {
    const size_t colon = right.rfind(':');
    if (colon == std::string_view::npos) return bad("expected ADDR:PORT after '='");
    addr_text = right.substr(0, colon);
    port_text = right.substr(colon + 1);
    if (addr_text.find(':') != std::string_view::npos) {
      return bad("IPv6 address \"" + std::string(addr_text) + "\" must be in brackets: [" +
                 std::string(addr_text) + "]:PORT");
    }
  }
  auto tport = ParsePort(port_text);
  if (!tport) return bad("target port \"" + std::string(port_text) + "\" is not 1..65535");
  f.target_port = *tport;

  if (addr_text == "node") {
    f.node_family = bracketed ? Family::kIpv6 : Family::kIpv4;
    return f;
  }
  auto addr = ParseAddress(addr_text);
  if (!addr) {
    return bad("\"" + std::string(addr_text) + "\" is not an " + (bracketed ? "IPv6" : "IPv4") +
               " address");
  }
  if (bracketed && addr->family != Family::kIpv6) {
    return bad("\"" + std::string(addr_text) + "\" in brackets is not an IPv6 address");
  }
  if (addr->IsUnusableTarget()) {
    return bad("target address " + addr->ToString() +
               " cannot be a DNAT target (unspecified, loopback or multicast)");
  }
  f.target = addr;
  return f;
}

bool ValidEnvName(const std::string& s) {
  if (s.empty() || s.size() > 128 ||
      !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// A comma-separated address list (--node-ips, or the value --node-ips-env names); the error
// says what is wrong with a bad one.
Result<std::vector<Address>> ParseAddressList(std::string_view list) {
  std::vector<Address> out;
  std::string_view rest = list;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    auto a = ParseAddress(item);
    if (!a) return Error{"\"" + std::string(item) + "\" is not an IP address"};
    out.push_back(*a);
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
    if (rest.empty()) return Error{"empty entry"};
  }
  return out;
}

bool ValidTableName(const std::string& s) {
  if (s.empty() || s.size() > 20 || !std::isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

}  // namespace

Result<Config> ParseArgs(const std::vector<std::string>& args, const EnvLookup& env) {
  Config c;
  std::string table = c.ruleset.table;
  std::vector<Cidr> source_ranges;
  std::vector<RawForward> raw;
  int modes = 0;
  // Where the node addresses came from, for messages: "--node-ips" or "--node-ips-env NAME".
  std::string node_ips_source = "--node-ips";
  bool node_ips_flag = false, node_ips_env = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (flag.rfind("--", 0) == 0) {
      const size_t eq = flag.find('=');
      if (eq != std::string::npos) {
        value = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
      }
    }
    auto take = [&]() -> std::optional<std::string> {
      if (value) return value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    // --help and --version end the parse: what follows them is not looked at.
    if (flag == "-h" || flag == "--help" || flag == "--version") {
      Config help;
      help.mode = flag == "--version" ? Mode::kVersion : Mode::kHelp;
      return help;
    }
    if (flag == "--once" || flag == "--delete" || flag == "--dry-run" || flag == "--check") {
      if (value) return Error{flag + " takes no value (got \"" + *value + "\")"};
      ++modes;
      c.mode = flag == "--once"     ? Mode::kOnce
               : flag == "--delete" ? Mode::kDelete
               : flag == "--check"  ? Mode::kCheck
                                    : Mode::kDryRun;
      continue;
    }
    static const char* const kValued[] = {"--backend",      "--table",     "--source-range",
                                          "--resync",       "--forward",   "--node-ips",
                                          "--node-ips-env", "--ready-port"};
    if (std::find(std::begin(kValued), std::end(kValued), flag) == std::end(kValued)) {
      return Error{"unknown argument \"" + args[i] + "\"\n" + UsageText()};
    }
    auto v = take();
    if (!v) return Error{flag + " needs a value"};
    if (flag == "--backend") {
      if (*v == "auto") {
        c.backend = BackendChoice::kAuto;
      } else if (*v == "nftables") {
        c.backend = BackendChoice::kNftables;
      } else if (*v == "iptables-legacy") {
        c.backend = BackendChoice::kIptablesLegacy;
      } else {
        return Error{"invalid --backend \"" + *v + "\": auto, nftables or iptables-legacy"};
      }
    } else if (flag == "--table") {
      if (!ValidTableName(*v)) {
        return Error{"invalid --table \"" + *v +
                     "\": 1-20 characters, a letter first, then letters, digits, _ or -"};
      }
      table = *v;
    } else if (flag == "--source-range") {
      Result<Cidr> cidr = ParseCidr(*v);
      if (!cidr) return Error{"invalid --source-range \"" + *v + "\": " + cidr.error()};
      if (std::find(source_ranges.begin(), source_ranges.end(), *cidr) == source_ranges.end()) {
        source_ranges.push_back(*cidr);
      }
    } else if (flag == "--resync") {
      auto s = ParseInt(*v, 1, 86400);
      if (!s) return Error{"invalid --resync \"" + *v + "\": seconds, 1..86400"};
      c.resync_seconds = *s;
    } else if (flag == "--ready-port") {
      auto port = ParsePort(*v);
      if (!port) return Error{"invalid --ready-port \"" + *v + "\": not 1..65535"};
      c.ready_port = *port;
    } else if (flag == "--node-ips") {
      node_ips_flag = true;
      Result<std::vector<Address>> ips = ParseAddressList(*v);
      if (!ips) return Error{"invalid --node-ips \"" + *v + "\": " + ips.error()};
      c.node_ips = std::move(ips).value();
    } else if (flag == "--node-ips-env") {
      // For the exec readiness probe: the kubelet expands $(VAR) in a container's args, but
      // not downward-API variables in an exec probe's command, so the operator names the
      // variable and nftlb reads it (docs/nftlb.md).
      node_ips_env = true;
      if (!ValidEnvName(*v)) {
        return Error{"invalid --node-ips-env \"" + *v +
                     "\": an environment variable name (letters, digits, _)"};
      }
      const std::optional<std::string> list = env(*v);
      if (!list) {
        return Error{"invalid --node-ips-env \"" + *v + "\": the variable is not set"};
      }
      node_ips_source = "--node-ips-env " + *v + " (\"" + *list + "\")";
      Result<std::vector<Address>> ips = ParseAddressList(*list);
      if (!ips) {
        return Error{"invalid --node-ips-env \"" + *v + "\": its value \"" + *list +
                     "\": " + ips.error()};
      }
      c.node_ips = std::move(ips).value();
    } else if (flag == "--forward") {
      Result<RawForward> f = ParseForward(*v);
      if (!f) return f.status();
      raw.push_back(std::move(f).value());
    }
  }
  if (modes > 1) {
    return Error{"--once, --delete, --dry-run and --check exclude each other"};
  }
  // The port is the daemon's; --check takes it (and ignores it) so that it runs with exactly
  // the container's arguments.
  if (c.ready_port != 0 &&
      (c.mode == Mode::kOnce || c.mode == Mode::kDelete || c.mode == Mode::kDryRun)) {
    return Error{
        "--ready-port is for the daemon (and --check), not for --once, --delete or "
        "--dry-run"};
  }
  if (node_ips_flag && node_ips_env) {
    return Error{"--node-ips and --node-ips-env exclude each other"};
  }
  std::vector<Forward> forwards;
  for (const RawForward& r : raw) {
    Forward f{r.proto, r.port, {}, r.target_port};
    if (r.target) {
      f.target = *r.target;
    } else {
      const Address* a = FirstOfFamily(c.node_ips, r.node_family);
      if (!a) {
        return Error{"invalid --forward \"" + r.text + "\": " + node_ips_source + " has no " +
                     (r.node_family == Family::kIpv4 ? "IPv4" : "IPv6") + " address"};
      }
      if (a->IsUnusableTarget()) {
        return Error{"invalid " + node_ips_source + ": " + a->ToString() +
                     " cannot be a DNAT target"};
      }
      f.target = *a;
    }
    for (const Forward& prev : forwards) {
      if (prev.proto == f.proto && prev.port == f.port && prev.target.family == f.target.family) {
        return Error{"duplicate --forward \"" + r.text + "\": " + ProtoName(f.proto) + "/" +
                     std::to_string(f.port) + " already has an " +
                     (f.target.family == Family::kIpv4 ? "IPv4" : "IPv6") + " target"};
      }
    }
    if (f.proto == Proto::kTcp && f.port == c.ready_port) {
      return Error{"invalid --ready-port \"" + std::to_string(c.ready_port) + "\": --forward \"" +
                   r.text + "\" forwards that tcp port, so a probe on it would be forwarded too"};
    }
    forwards.push_back(f);
  }
  if (forwards.empty() && c.mode != Mode::kDelete) {
    return Error{"no --forward given (at least one is needed, except with --delete)"};
  }
  c.ruleset = MakeRuleset(std::move(table), std::move(forwards), std::move(source_ranges));
  return c;
}

}  // namespace nftlb

// SPDX-License-Identifier: Apache-2.0
// akrobateo-operator: gives type LoadBalancer Services an address through one nftlb DaemonSet
// each. Flags -> configuration -> Controller::Run() (operator/controller.h; docs/operator.md).
#include <malloc.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <tuple>

#include "akrobateo/version.h"
#include "operator/api/decode.h"
#include "operator/base/log.h"
#include "operator/controller.h"
#include "operator/kube/config.h"
#include "operator/leader/lease.h"
#include "operator/names.h"

namespace akrobateo {
namespace {

struct Flags {
  std::string kubeconfig;
  std::string ns;
  std::string image{names::kDefaultImage};
  std::string lb_class{names::kDefaultClass};
  bool default_class = true;
  std::string reserved_ports{names::kDefaultReservedPorts};
  std::string trusted_namespaces;
  std::string priority_class{names::kDefaultPriorityClass};
  bool cleanup_finalizer = false;
  std::string metrics_addr = ":8080";
  std::string health_addr = ":8081";
  bool leader_elect = false;
  int workers = 4;
  double qps = 20;
  int burst = 30;
  std::string log_format = "text";
  int verbosity = 0;
  // Leader election timings (hidden flags; docs/operator.md).
  std::string lease_duration = "15s";
  std::string renew_deadline = "10s";
  std::string retry_period = "2s";
  leader::LeaseOptions lease;
  reconcile::AdminPolicy policy;  // parsed from reserved_ports and trusted_namespaces
};

std::string Identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::mt19937_64 rng(std::random_device{}());
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08llx",
                static_cast<unsigned long long>(rng() & 0xffffffffULL));
  return std::string(host) + "_" + suffix;
}

std::string OwnNamespace() {
  std::ifstream in{std::string(names::kInClusterNamespaceFile)};
  std::string ns;
  if (in >> ns && !ns.empty()) return ns;
  return std::string(names::kDefaultNamespace);
}

int Run(const Flags& f) {
  // --kubeconfig names one file; $KUBECONFIG may list several, merged as kubectl does.
  const char* env = std::getenv("KUBECONFIG");
  Result<kube::Config> cfg = !f.kubeconfig.empty()            ? kube::LoadKubeconfig(f.kubeconfig)
                             : env != nullptr && *env != '\0' ? kube::LoadKubeconfigList(env)
                                                              : kube::LoadInCluster();
  if (!cfg) {
    LogError("config", {Quoted("error", cfg.error())});
    return 2;
  }
  ControllerOptions o;
  o.ns = f.ns.empty() ? OwnNamespace() : f.ns;
  o.image = f.image;
  o.identity = Identity();
  o.classes = {f.lb_class, f.default_class};
  o.policy = f.policy;
  o.priority_class = f.priority_class;
  o.cleanup_finalizer = f.cleanup_finalizer;
  o.metrics_addr = f.metrics_addr;
  o.health_addr = f.health_addr;
  o.leader_elect = f.leader_elect;
  o.workers = f.workers;
  o.qps = f.qps;
  o.burst = f.burst;
  o.lease = f.lease;
  LogInfo("starting",
          {{"version", version::kVersion},
           {"revision", version::kRevision.empty() ? "unknown" : version::kRevision},
           {"server", cfg->scheme + "://" + cfg->host + ":" + std::to_string(cfg->port)},
           Quoted("config", cfg->source),
           {"namespace", o.ns},
           {"class", f.lb_class},
           {"default_class", f.default_class},
           {"image", f.image},
           {"workers", f.workers},
           {"qps", f.qps},
           {"burst", f.burst},
           {"leader_elect", f.leader_elect},
           Quoted("reserved_ports", f.policy.reserved_ports.ToString()),
           Quoted("trusted_namespaces", f.trusted_namespaces),
           Quoted("priority_class", f.priority_class)});
  Controller controller(std::move(cfg).value(), std::move(o));
  return controller.Run();
}

}  // namespace
}  // namespace akrobateo

int main(int argc, char** argv) {
  // Few malloc arenas: the operator's threads mostly wait, and one arena per thread would
  // keep each thread's transient JSON as resident memory.
  mallopt(M_ARENA_MAX, 2);
  akrobateo::Flags f;
  CLI::App app{"akrobateo-operator: LoadBalancer Services through nftlb DaemonSets"};
  app.set_version_flag("--version", akrobateo::version::Line("akrobateo-operator"));
  app.add_option("--kubeconfig", f.kubeconfig,
                 "kubeconfig path (else $KUBECONFIG, else in-cluster)");
  app.add_option("--namespace", f.ns,
                 "namespace of the balancer DaemonSets (default: own, else akrobateo-system)");
  app.add_option("--nftlb-image", f.image, "image of the balancer pods")->capture_default_str();
  app.add_option("--load-balancer-class", f.lb_class, "loadBalancerClass handled")
      ->capture_default_str();
  app.add_option("--default-class", f.default_class,
                 "also handle Services without a loadBalancerClass (true|false)")
      ->capture_default_str();
  app.add_option("--reserved-ports", f.reserved_ports,
                 "ports no LoadBalancer Service is served on, e.g. 22,2379-2381,30000-32767 "
                 "(the nodes' own services and the NodePort range; docs/security.md)")
      ->capture_default_str();
  app.add_option("--trusted-namespaces", f.trusted_namespaces,
                 "comma-separated namespaces whose Services may set the tolerations and "
                 "priority-class annotations (* for all; default none)");
  app.add_option("--balancer-priority-class", f.priority_class,
                 "priorityClassName of the balancer pods (default none)");
  app.add_flag("--cleanup-finalizer", f.cleanup_finalizer,
               "add service.kubernetes.io/load-balancer-cleanup to handled Services, as the "
               "upstream service controller does (see docs/operator.md before enabling)");
  app.add_option("--metrics-bind-address", f.metrics_addr, "address of /metrics (0 disables)")
      ->capture_default_str();
  app.add_option("--health-probe-bind-address", f.health_addr,
                 "address of /healthz and /readyz (0 disables)")
      ->capture_default_str();
  app.add_flag("--leader-elect", f.leader_elect,
               "elect a leader through a Lease; only the leader writes");
  app.add_option("--workers", f.workers, "reconcile worker threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--qps", f.qps, "client-side request rate to the API server")
      ->check(CLI::Range(0.1, 100000.0))
      ->capture_default_str();
  app.add_option("--burst", f.burst, "client-side request burst")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--log-format", f.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("-v", f.verbosity, "log verbosity (0 info, 1 debug, 2 trace)")
      ->check(CLI::Range(0, 10));
  // Hidden: leader election timings, for tests and unusual clusters (docs/operator.md).
  app.add_option("--leader-elect-lease-duration", f.lease_duration)->group("");
  app.add_option("--leader-elect-renew-deadline", f.renew_deadline)->group("");
  app.add_option("--leader-elect-retry-period", f.retry_period)->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (auto [flag, text, out] :
       {std::tuple{"--leader-elect-lease-duration", &f.lease_duration, &f.lease.lease_duration},
        std::tuple{"--leader-elect-renew-deadline", &f.renew_deadline, &f.lease.renew_deadline},
        std::tuple{"--leader-elect-retry-period", &f.retry_period, &f.lease.retry_period}}) {
    auto d = akrobateo::leader::ParseDuration(*text);
    if (!d) {
      std::fprintf(stderr, "%s: %s\n", flag, d.error().c_str());
      return 2;
    }
    *out = *d;
  }
  if (akrobateo::Status timings = akrobateo::leader::CheckTimings(f.lease); !timings) {
    std::fprintf(stderr,
                 "leader election timings: %s (lease duration %s, renew deadline %s, "
                 "retry period %s)\n",
                 timings.error().c_str(), f.lease_duration.c_str(), f.renew_deadline.c_str(),
                 f.retry_period.c_str());
    return 2;
  }
  auto reserved = akrobateo::reconcile::PortRanges::Parse(f.reserved_ports);
  if (!reserved) {
    std::fprintf(stderr, "--reserved-ports: %s\n", reserved.error().c_str());
    return 2;
  }
  f.policy.reserved_ports = *reserved;
  for (std::string_view rest = f.trusted_namespaces; !rest.empty();) {
    size_t comma = rest.find(',');
    std::string ns(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (ns.empty()) continue;
    if (ns != "*" && !akrobateo::api::IsDnsSubdomain(ns)) {
      std::fprintf(stderr, "--trusted-namespaces: \"%s\" is not a namespace name\n", ns.c_str());
      return 2;
    }
    f.policy.trusted_namespaces.push_back(ns);
  }
  if (!f.priority_class.empty() && !akrobateo::api::IsDnsSubdomain(f.priority_class)) {
    std::fprintf(stderr, "--balancer-priority-class: \"%s\" is not a PriorityClass name\n",
                 f.priority_class.c_str());
    return 2;
  }
  akrobateo::SetupLogging(f.log_format, f.verbosity);
  return akrobateo::Run(f);
}

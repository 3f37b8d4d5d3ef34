// SPDX-License-Identifier: Apache-2.0
// The HTTP endpoints: /metrics on --metrics-bind-address, /healthz and /readyz on
// --health-probe-bind-address (one server when both name the same address; "0" disables).
#ifndef AKROBATEO_OPERATOR_METRICS_SERVER_H_
#define AKROBATEO_OPERATOR_METRICS_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "operator/base/result.h"
#include "operator/metrics/metrics.h"

namespace httplib {
class Server;
}

namespace akrobateo::metrics {

struct Endpoint {
  std::string host;
  int port = 0;
};
// ":8080" -> 0.0.0.0:8080, "127.0.0.1:9090", "[::1]:8080"; "0" -> port 0 meaning disabled.
Result<Endpoint> ParseBindAddress(const std::string& addr);

class HttpServers {
 public:
  HttpServers(const Metrics* metrics, std::function<bool()> ready);
  ~HttpServers();
  // Binds both addresses (errors name the address) and serves on background threads.
  Result<bool> Start(const std::string& metrics_addr, const std::string& health_addr);
  void Stop();

 private:
  Result<httplib::Server*> Serve(const Endpoint& ep, bool metrics, bool health);

  const Metrics* metrics_;
  std::function<bool()> ready_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
};

}  // namespace akrobateo::metrics

#endif  // AKROBATEO_OPERATOR_METRICS_SERVER_H_

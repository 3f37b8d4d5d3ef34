// SPDX-License-Identifier: Apache-2.0
#include "operator/metrics/server.h"

#include <httplib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "operator/base/log.h"

namespace akrobateo::metrics {

Result<Endpoint> ParseBindAddress(const std::string& addr) {
  if (addr == "0" || addr.empty()) return Endpoint{"", 0};
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return Error{"bind address \"" + addr + "\" has no :port"};
  std::string host = addr.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  std::string port = addr.substr(colon + 1);
  char* end = nullptr;
  long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
    return Error{"bind address \"" + addr + "\" has a bad port"};
  }
  return Endpoint{host, static_cast<int>(p)};
}

HttpServers::HttpServers(const Metrics* metrics, std::function<bool()> ready)
    : metrics_(metrics), ready_(std::move(ready)) {}

HttpServers::~HttpServers() {
  Stop();
}

Result<httplib::Server*> HttpServers::Serve(const Endpoint& ep, bool metrics, bool health) {
  auto server = std::make_unique<httplib::Server>();
  if (metrics) {
    server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_->Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  if (health) {
    server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      bool ok = ready_();
      res.status = ok ? 200 : 503;
      res.set_content(ok ? "ok\n" : "caches not synced\n", "text/plain");
    });
  }
  errno = 0;
  if (!server->bind_to_port(ep.host.c_str(), ep.port)) {
    // httplib only says no; the errno of its failed bind() is still there (close() keeps it).
    int err = errno;
    return Error{"cannot listen on " + ep.host + ":" + std::to_string(ep.port) +
                 (err != 0 ? std::string(": ") + std::strerror(err) : std::string())};
  }
  httplib::Server* raw = server.get();
  servers_.push_back(std::move(server));
  threads_.emplace_back([raw] { raw->listen_after_bind(); });
  LogInfo("serving", {{"address", ep.host + ":" + std::to_string(ep.port)},
                      {"metrics", metrics},
                      {"health", health}});
  return raw;
}

Result<bool> HttpServers::Start(const std::string& metrics_addr, const std::string& health_addr) {
  auto m = ParseBindAddress(metrics_addr);
  if (!m) return Error{"--metrics-bind-address: " + m.error()};
  auto h = ParseBindAddress(health_addr);
  if (!h) return Error{"--health-probe-bind-address: " + h.error()};
  bool same = m->port != 0 && m->host == h->host && m->port == h->port;
  if (m->port != 0) {
    auto r = Serve(*m, true, same);
    if (!r) return Error{"--metrics-bind-address: " + r.error()};
  }
  if (h->port != 0 && !same) {
    auto r = Serve(*h, false, true);
    if (!r) return Error{"--health-probe-bind-address: " + r.error()};
  }
  return true;
}

void HttpServers::Stop() {
  for (auto& s : servers_) s->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  servers_.clear();
}

}  // namespace akrobateo::metrics

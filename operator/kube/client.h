// A small Kubernetes REST client over cpp-httplib + OpenSSL: TLS always verified, bearer token
// or client certificate, one client-side rate limiter, a counter per verb and status code,
// and cancellable streaming GETs for watches.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "operator/kube/config.h"
#include "operator/kube/rate_limiter.h"
#include "operator/metrics/metrics.h"

namespace httplib {
class ClientImpl;
}

namespace akrobateo::kube {

struct Response {
  int status = 0;     // HTTP status; 0 when no response arrived
  std::string body;   // empty for streams
  std::string error;  // transport error text when status is 0
  bool ok() const { return status >= 200 && status < 300; }
  // "HTTP 409: <message from the Status body>" or the transport error.
  std::string Describe() const;
};

class Client {
 public:
  // Fails when the TLS material in `cfg` does not parse.
  static Result<std::unique_ptr<Client>> Create(const Config& cfg, double qps, int burst,
                                                metrics::Metrics* metrics);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `verb` is the Kubernetes verb for the metrics (get, list, create, update, patch, delete).
  Response Request(const std::string& verb, const std::string& method, const std::string& path,
                   const std::string& body = "",
                   const std::string& content_type = "application/json");

  // A streaming GET (verb "watch"): `on_data` gets each chunk; returning false ends the
  // stream. `read_timeout_s` bounds the silence between chunks.
  Response Stream(const std::string& path, int read_timeout_s,
                  const std::function<bool(std::string_view)>& on_data);

  // Ends every running stream and refuses new ones (shutdown); plain requests still work,
  // so that in-flight reconciles can finish and the lease can be released.
  void Shutdown();
  bool shut_down() const { return shutdown_.load(); }

 private:
  struct Tls;
  Client(Config cfg, double qps, int burst, metrics::Metrics* metrics, std::unique_ptr<Tls> tls);
  std::unique_ptr<httplib::ClientImpl> NewConnection();
  void Wait();

  Config cfg_;
  std::unique_ptr<Tls> tls_;
  TokenSource token_;
  RateLimiter limiter_;
  metrics::Metrics* metrics_;
  std::atomic<bool> shutdown_{false};
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_;  // keep-alive connections
  std::set<httplib::ClientImpl*> streams_;
};

// Path escaping for query values (label selectors, continue tokens).
std::string QueryEscape(std::string_view s);

}  // namespace akrobateo::kube

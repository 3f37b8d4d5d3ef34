// SPDX-License-Identifier: Apache-2.0
// A small Kubernetes REST client over cpp-httplib + OpenSSL: TLS always verified, bearer token
// or client certificate, a pool of keep-alive connections, one client-side rate limiter, a
// counter per verb and status code, cancellable streaming GETs for watches, per-request
// deadlines, and the write fence (kube/write_fence.h): the writes (verbs create, update, patch,
// delete) are refused from a point in time on, and the ones still in flight then are abandoned
// (leader election: only the leader writes, and it stops at its renew deadline). Why a request
// got no answer is worked out in kube/failure.h.
//
// client.cc: the connections and requests; write_fence.cc: the fence and its watchdog;
// failure.cc: the diagnosis.
#ifndef AKROBATEO_OPERATOR_KUBE_CLIENT_H_
#define AKROBATEO_OPERATOR_KUBE_CLIENT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "operator/base/clock.h"
#include "operator/kube/config.h"
#include "operator/kube/rate_limiter.h"
#include "operator/kube/write_fence.h"
#include "operator/metrics/metrics.h"

namespace httplib {
class ClientImpl;
struct Request;
}  // namespace httplib

namespace akrobateo::kube {

struct Response {
  int status = 0;       // HTTP status; 0 when no response arrived
  std::string body;     // empty for streams
  std::string error;    // why no response arrived, when status is 0
  std::string request;  // "GET https://127.0.0.1:6443/api/v1/services"
  bool ok() const { return status >= 200 && status < 300; }
  // "<request>: HTTP 409: <message from the Status body>" or "<request>: <error>", e.g.
  // "GET https://127.0.0.1:6443/api/v1/services: connect: Connection refused" or
  // "...: TLS: certificate verify failed: self-signed certificate".
  std::string Describe() const;
};

// Per-request settings.
struct CallOptions {
  // The request is abandoned at this point in time (its connection shut down), whatever it
  // is doing then: connecting, sending or waiting for the answer.
  Clock::time_point deadline = Clock::time_point::max();
  // Not subject to the write fence: leader election's own Lease requests.
  bool unfenced = false;
};

class Client {
 public:
  using Clock = akrobateo::Clock;

  // Fails when the TLS material in `cfg` does not parse. Deadlines, the fence and the rate
  // limit are on `clock`.
  static Result<std::unique_ptr<Client>> Create(const Config& cfg, double qps, int burst,
                                                metrics::Metrics* metrics,
                                                Clock* clock = Clock::Real());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `verb` is the Kubernetes verb for the metrics (get, list, create, update, patch, delete).
  // Writes (verbs create, update, patch, delete) are subject to the write fence unless
  // `opts.unfenced`: refused without being sent once it has passed, and abandoned when it
  // passes while they are in flight.
  Response Request(const std::string& verb, const std::string& method, const std::string& path,
                   const std::string& body = "",
                   const std::string& content_type = "application/json",
                   const CallOptions& opts = {});

  // A streaming GET (verb "watch"): `on_data` gets each chunk; returning false ends the
  // stream. `read_timeout_s` bounds the silence between chunks.
  Response Stream(const std::string& path, int read_timeout_s,
                  const std::function<bool(std::string_view)>& on_data);

  // Ends every running stream and refuses new ones (shutdown); plain requests still work,
  // so that in-flight reconciles can finish and the lease can be released.
  void Shutdown();
  bool shut_down() const { return shutdown_.load(); }

  // The write fence: writes are allowed before `until` only. Default: always (no leader
  // election). Moving it earlier also abandons the writes in flight that it now cuts off.
  void FenceWrites(Clock::time_point until) { fence_.Set(until); }
  Clock::time_point WriteDeadline() const { return fence_.Deadline(); }
  bool WritesAllowed() const { return fence_.Allowed(); }
  WriteFence* fence() { return &fence_; }
  // The clock of its deadlines, for what runs beside it (watches).
  Clock* clock() const { return clock_; }

  static bool IsWrite(const std::string& verb) {
    return verb == "create" || verb == "update" || verb == "patch" || verb == "delete";
  }

 private:
  struct Tls;
  Client(Config cfg, double qps, int burst, metrics::Metrics* metrics, std::unique_ptr<Tls> tls,
         Clock* clock);
  std::unique_ptr<httplib::ClientImpl> NewConnection();
  // Accept, User-Agent, Host (the server's, also with tls-server-name) and Authorization.
  void SetHeaders(httplib::Request* req);
  // "GET https://host:port/path".
  std::string RequestLine(const std::string& method, const std::string& path) const;
  // Bounds the connection's timeouts by the time left until `deadline`.
  void BoundTimeouts(httplib::ClientImpl* conn, Clock::time_point deadline) const;
  // Waits for the rate limiter (or until Shutdown).
  void Wait();

  Config cfg_;
  std::unique_ptr<Tls> tls_;
  Clock* clock_;
  TokenSource token_;
  RateLimiter limiter_;
  metrics::Metrics* metrics_;
  WriteFence fence_;
  std::atomic<bool> shutdown_{false};
  std::mutex mu_;
  std::condition_variable shutdown_cv_;
  std::vector<std::shared_ptr<httplib::ClientImpl>> idle_;  // keep-alive connections
  std::set<httplib::ClientImpl*> streams_;
};

// "akrobateo-operator/0.1.0 (abc1234)": the User-Agent of every request.
std::string UserAgent();

// Path escaping for query values (label selectors, continue tokens).
std::string QueryEscape(std::string_view s);

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_CLIENT_H_

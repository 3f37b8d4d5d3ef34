// SPDX-License-Identifier: Apache-2.0
// A small Kubernetes REST client over cpp-httplib + OpenSSL: TLS always verified, bearer token
// or client certificate, one client-side rate limiter, a counter per verb and status code,
// cancellable streaming GETs for watches, per-request deadlines, and a write fence: the
// writes (verbs create, update, patch, delete) are refused from a point in time on, and the
// ones still in flight then are abandoned (leader election: only the leader writes, and it
// stops at its renew deadline).
#ifndef AKROBATEO_OPERATOR_KUBE_CLIENT_H_
#define AKROBATEO_OPERATOR_KUBE_CLIENT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "operator/kube/config.h"
#include "operator/kube/rate_limiter.h"
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
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Not subject to the write fence: leader election's own Lease requests.
  bool unfenced = false;
};

class Client {
 public:
  using Clock = std::chrono::steady_clock;

  // Fails when the TLS material in `cfg` does not parse.
  static Result<std::unique_ptr<Client>> Create(const Config& cfg, double qps, int burst,
                                                metrics::Metrics* metrics);
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
  void FenceWrites(Clock::time_point until);
  Clock::time_point WriteDeadline() const {
    return Clock::time_point(Clock::duration(fence_.load()));
  }
  bool WritesAllowed() const { return Clock::now() < WriteDeadline(); }

  static bool IsWrite(const std::string& verb) {
    return verb == "create" || verb == "update" || verb == "patch" || verb == "delete";
  }

 private:
  struct Tls;
  // A request being sent, watched by the deadline thread.
  struct InFlight {
    std::shared_ptr<httplib::ClientImpl> conn;
    Clock::time_point deadline;
    bool fenced = false;
    bool aborted = false;  // the deadline thread shut its connection down
  };
  Client(Config cfg, double qps, int burst, metrics::Metrics* metrics, std::unique_ptr<Tls> tls);
  std::unique_ptr<httplib::ClientImpl> NewConnection();
  // Accept, User-Agent, Host (the server's, also with tls-server-name) and Authorization.
  void SetHeaders(httplib::Request* req);
  // "GET https://host:port/path".
  std::string RequestLine(const std::string& method, const std::string& path) const;
  // What went wrong when httplib returned `error` on `conn`: the host:port is in the request
  // line, this names the step and the cause (errno text, OpenSSL's verify result or error).
  struct Trace {
    int sys_errno = 0;            // errno right after httplib returned
    unsigned long tls_error = 0;  // OpenSSL's first queued error of this thread then
    Clock::duration took{};
  };
  std::string Failure(int error, httplib::ClientImpl* conn, const Trace& trace,
                      Clock::time_point deadline) const;
  // Bounds the connection's timeouts by the time left until `deadline`.
  static void BoundTimeouts(httplib::ClientImpl* conn, Clock::time_point deadline);
  void Wait();
  // The deadline thread: shuts down the connection of every request whose deadline (or, for a
  // write, the write fence) has passed.
  void Watchdog();

  Config cfg_;
  std::unique_ptr<Tls> tls_;
  TokenSource token_;
  RateLimiter limiter_;
  metrics::Metrics* metrics_;
  std::atomic<bool> shutdown_{false};
  std::atomic<Clock::rep> fence_{Clock::time_point::max().time_since_epoch().count()};
  std::mutex mu_;
  std::vector<std::shared_ptr<httplib::ClientImpl>> idle_;  // keep-alive connections
  std::set<httplib::ClientImpl*> streams_;
  // Guarded by mu_: the requests with a deadline or under the fence, and the deadline thread.
  std::list<InFlight> in_flight_;
  std::condition_variable watchdog_cv_;
  std::thread watchdog_;
  bool closing_ = false;
};

// "akrobateo-operator/0.1.0 (abc1234)": the User-Agent of every request.
std::string UserAgent();

// Path escaping for query values (label selectors, continue tokens).
std::string QueryEscape(std::string_view s);

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_CLIENT_H_

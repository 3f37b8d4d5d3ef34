// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/client.h"

#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "akrobateo/version.h"

namespace akrobateo::kube {

// Parsed TLS material, owned once and handed to each new connection.
// The CA bundle lives in a memfd: cpp-httplib adds the system trust store to any connection
// that has no CA *file*, so a file it must be; memfd needs no writable filesystem.
struct Client::Tls {
  int ca_fd = -1;
  std::string ca_path;
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  ~Tls() {
    if (ca_fd >= 0) close(ca_fd);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

}  // namespace

std::string Response::Describe() const {
  std::string prefix = request.empty() ? "" : request + ": ";
  if (status == 0) return prefix + error;
  std::string msg;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    msg = j["message"].get<std::string>();
  } else {
    msg = body.substr(0, 200);
  }
  return prefix + "HTTP " + std::to_string(status) + ": " + msg;
}

namespace {

bool NetworkErrno(int e) {
  switch (e) {
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
    case EADDRNOTAVAIL:
      return true;
    default:
      return false;
  }
}

// Why a TCP connection to host:port fails, found by making one: httplib reports only that
// connecting failed (its non-blocking connect leaves errno at EINPROGRESS). Empty when it
// connects now.
std::string ProbeConnect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &ai); rc != 0) {
    return "resolve " + host + ": " + gai_strerror(rc);
  }
  std::string why;
  for (addrinfo* a = ai; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    int err = 0;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int n = poll(&p, 1, static_cast<int>(timeout.count()));
        socklen_t len = sizeof err;
        if (n == 0) {
          err = ETIMEDOUT;
        } else if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    close(fd);
    if (err == 0) {
      freeaddrinfo(ai);
      return "";
    }
    why = std::string("connect: ") + std::strerror(err);
  }
  freeaddrinfo(ai);
  return why;
}

std::string Secs(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(const Config& cfg, double qps, int burst,
                                               metrics::Metrics* metrics) {
  auto tls = std::make_unique<Tls>();
  if (!cfg.ca_pem.empty()) {
    BioPtr bio = MemBio(cfg.ca_pem);
    X509* first = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (first == nullptr) return Error{"the certificate authority data holds no PEM certificate"};
    X509_free(first);
    tls->ca_fd = memfd_create("akrobateo-ca", MFD_CLOEXEC);
    if (tls->ca_fd < 0) return Error{std::string("memfd_create: ") + std::strerror(errno)};
    size_t done = 0;
    while (done < cfg.ca_pem.size()) {
      ssize_t n = write(tls->ca_fd, cfg.ca_pem.data() + done, cfg.ca_pem.size() - done);
      if (n <= 0) return Error{std::string("writing the CA bundle: ") + std::strerror(errno)};
      done += static_cast<size_t>(n);
    }
    tls->ca_path = "/proc/self/fd/" + std::to_string(tls->ca_fd);
  }
  if (!cfg.client_cert_pem.empty()) {
    BioPtr cert = MemBio(cfg.client_cert_pem);
    tls->cert = PEM_read_bio_X509(cert.get(), nullptr, nullptr, nullptr);
    if (tls->cert == nullptr) return Error{"the client certificate is not a PEM certificate"};
    BioPtr key = MemBio(cfg.client_key_pem);
    tls->key = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
    if (tls->key == nullptr) return Error{"the client key is not a PEM private key"};
  }
  return std::unique_ptr<Client>(new Client(cfg, qps, burst, metrics, std::move(tls)));
}

Client::Client(Config cfg, double qps, int burst, metrics::Metrics* metrics,
               std::unique_ptr<Tls> tls)
    : cfg_(std::move(cfg)),
      tls_(std::move(tls)),
      token_(cfg_),
      limiter_(qps, burst),
      metrics_(metrics) {}

Client::~Client() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  watchdog_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

void Client::FenceWrites(Clock::time_point until) {
  {
    std::lock_guard lock(mu_);
    fence_.store(until.time_since_epoch().count());
  }
  watchdog_cv_.notify_all();
}

void Client::Watchdog() {
  std::unique_lock lock(mu_);
  while (!closing_) {
    auto now = Clock::now();
    auto fence = WriteDeadline();
    auto next = Clock::time_point::max();
    std::vector<std::shared_ptr<httplib::ClientImpl>> expired;
    for (InFlight& f : in_flight_) {
      if (f.aborted) continue;
      auto until = f.fenced ? std::min(f.deadline, fence) : f.deadline;
      if (until <= now) {
        f.aborted = true;
        expired.push_back(f.conn);
      } else {
        next = std::min(next, until);
      }
    }
    if (!expired.empty()) {
      // stop() may wait for a connect in progress (itself bounded by the deadline): not
      // under mu_, so that requests can finish meanwhile.
      lock.unlock();
      for (auto& c : expired) c->stop();
      lock.lock();
      continue;
    }
    if (next == Clock::time_point::max()) {
      watchdog_cv_.wait(lock);
    } else {
      watchdog_cv_.wait_until(lock, next);
    }
  }
}

std::unique_ptr<httplib::ClientImpl> Client::NewConnection() {
  std::unique_ptr<httplib::ClientImpl> c;
  if (cfg_.scheme == "https") {
    // httplib sends its host as SNI and verifies the certificate against it: with
    // tls-server-name that name is the host, mapped to the real address for the connection.
    const std::string& name = cfg_.tls_server_name.empty() ? cfg_.host : cfg_.tls_server_name;
    std::unique_ptr<httplib::SSLClient> ssl;
    if (tls_->cert != nullptr) {
      ssl = std::make_unique<httplib::SSLClient>(name, cfg_.port, tls_->cert, tls_->key);
    } else {
      ssl = std::make_unique<httplib::SSLClient>(name, cfg_.port);
    }
    if (name != cfg_.host) ssl->set_hostname_addr_map({{name, cfg_.host}});
    // With a CA from the config, it alone is trusted; without one, the system store.
    if (!tls_->ca_path.empty()) ssl->set_ca_cert_path(tls_->ca_path.c_str());
    ssl->enable_server_certificate_verification(true);
    c = std::move(ssl);
  } else {
    c = std::make_unique<httplib::ClientImpl>(cfg_.host, cfg_.port);
  }
  BoundTimeouts(c.get(), Clock::time_point::max());
  c->set_keep_alive(true);
  return c;
}

void Client::BoundTimeouts(httplib::ClientImpl* conn, Clock::time_point deadline) {
  using std::chrono::microseconds;
  // The watchdog cuts the request at the deadline; the socket timeouts are only its backstop.
  // They are set a little later, since poll() rounds down to whole milliseconds: a timeout that
  // fired first would end the request a moment early and as a plain timeout, not as abandoned.
  auto bound = [&](std::chrono::seconds normal) -> microseconds {
    if (deadline == Clock::time_point::max()) return normal;
    auto left = std::chrono::duration_cast<microseconds>(deadline - Clock::now()) +
                std::chrono::milliseconds(250);
    return std::clamp<microseconds>(left, microseconds(1000), normal);
  };
  conn->set_connection_timeout(bound(std::chrono::seconds(10)));
  conn->set_read_timeout(bound(std::chrono::seconds(30)));
  conn->set_write_timeout(bound(std::chrono::seconds(30)));
}

std::string UserAgent() {
  std::string ua = "akrobateo-operator/" + std::string(version::kVersion);
  if (!version::kRevision.empty()) ua += " (" + std::string(version::kRevision) + ")";
  return ua;
}

void Client::SetHeaders(httplib::Request* req) {
  std::string host = cfg_.host.find(':') != std::string::npos ? "[" + cfg_.host + "]" : cfg_.host;
  req->headers = {{"Accept", "application/json"},
                  {"User-Agent", UserAgent()},
                  {"Host", host + ":" + std::to_string(cfg_.port)}};
  if (std::string token = token_.Token(); !token.empty()) {
    req->headers.emplace("Authorization", "Bearer " + token);
  }
}

std::string Client::RequestLine(const std::string& method, const std::string& path) const {
  std::string host = cfg_.host.find(':') != std::string::npos ? "[" + cfg_.host + "]" : cfg_.host;
  return method + " " + cfg_.scheme + "://" + host + ":" + std::to_string(cfg_.port) + path;
}

std::string Client::Failure(int error, httplib::ClientImpl* conn, const Trace& trace,
                            Clock::time_point deadline) const {
  const auto e = static_cast<httplib::Error>(error);
  const std::string sys = NetworkErrno(trace.sys_errno) ? std::strerror(trace.sys_errno) : "";
  switch (e) {
    case httplib::Error::Connection: {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= std::chrono::milliseconds(0)) return "connect: failed";
      std::string why = ProbeConnect(
          cfg_.host, cfg_.port, std::min<std::chrono::milliseconds>(left, std::chrono::seconds(1)));
      return why.empty() ? "connect: failed (a second attempt connected)" : why;
    }
    case httplib::Error::ConnectionTimeout:
      return "connect: timed out after " + Secs(trace.took);
    case httplib::Error::SSLConnection: {
      std::string why = sys;
      if (trace.tls_error != 0) {
        const char* reason = ERR_reason_error_string(trace.tls_error);
        if (reason != nullptr) why = reason;
      }
      return "TLS handshake: " + (why.empty() ? std::string("failed") : why);
    }
    case httplib::Error::SSLServerVerification: {
      long v = X509_V_OK;
      if (auto* ssl = dynamic_cast<httplib::SSLClient*>(conn)) v = ssl->get_openssl_verify_result();
      if (v != X509_V_OK) {
        return std::string("TLS: certificate verify failed: ") + X509_verify_cert_error_string(v);
      }
      return "TLS: certificate verify failed: the certificate is not valid for " +
             (cfg_.tls_server_name.empty() ? cfg_.host
                                           : cfg_.tls_server_name + " (tls-server-name)");
    }
    case httplib::Error::SSLLoadingCerts:
      return "TLS: the CA certificates could not be loaded";
    case httplib::Error::Read:
      return "reading the response: " +
             (sys.empty() ? "connection closed or no answer, after " + Secs(trace.took) : sys);
    case httplib::Error::Write:
      return "sending the request: " + (sys.empty() ? std::string("failed") : sys);
    default:
      return httplib::to_string(e);
  }
}

void Client::Wait() {
  auto wait = limiter_.Reserve();
  auto until = std::chrono::steady_clock::now() + wait;
  while (!shutdown_.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - std::chrono::steady_clock::now(), std::chrono::milliseconds(100)));
  }
}

Response Client::Request(const std::string& verb, const std::string& method,
                         const std::string& path, const std::string& body,
                         const std::string& content_type, const CallOptions& opts) {
  Response out;
  out.request = RequestLine(method, path);
  const bool fenced = IsWrite(verb) && !opts.unfenced;
  Wait();
  // Checked again before each send: the fence may have passed while waiting.
  auto refused = [&]() -> bool {
    if (fenced && !WritesAllowed()) {
      out.error = "not sent: this instance is not the leader (write fence passed)";
      return true;
    }
    if (Clock::now() >= opts.deadline) {
      out.error = "not sent: deadline passed";
      return true;
    }
    return false;
  };
  if (refused()) return out;
  metrics::ApiRequestTimer timer(metrics_, verb);  // after the client-side rate limit
  std::shared_ptr<httplib::ClientImpl> conn;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  bool reused = conn != nullptr;
  if (!conn) conn = NewConnection();
  httplib::Request req;
  req.method = method;
  req.path = path;
  SetHeaders(&req);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.headers.emplace("Content-Type", content_type);
    req.body = body;
  }
  const bool watched = fenced || opts.deadline != Clock::time_point::max();
  Trace trace;
  auto send = [&]() -> httplib::Result {
    BoundTimeouts(conn.get(), fenced ? std::min(opts.deadline, WriteDeadline()) : opts.deadline);
    std::list<InFlight>::iterator entry;
    if (watched) {
      std::lock_guard lock(mu_);
      entry = in_flight_.insert(in_flight_.end(), InFlight{conn, opts.deadline, fenced});
      if (!watchdog_.joinable()) watchdog_ = std::thread([this] { Watchdog(); });
    }
    watchdog_cv_.notify_all();
    auto started = Clock::now();
    errno = 0;
    ERR_clear_error();
    httplib::Result res = conn->send(req);
    trace = Trace{errno, ERR_peek_error(), Clock::now() - started};
    if (watched) {
      std::lock_guard lock(mu_);
      bool aborted = entry->aborted;
      in_flight_.erase(entry);
      if (aborted && !res) {
        return httplib::Result(nullptr, httplib::Error::Canceled);
      }
    }
    return res;
  };
  httplib::Result res = send();
  if (!res && reused && res.error() != httplib::Error::Canceled && !refused()) {
    // The server closed the idle keep-alive connection before reading the request; it was
    // not processed, so it is sent once more on a fresh connection.
    conn = NewConnection();
    res = send();
  }
  if (res) {
    out.status = res->status;
    out.body = std::move(res->body);
    BoundTimeouts(conn.get(), Clock::time_point::max());
    std::lock_guard lock(mu_);
    if (idle_.size() < 4) idle_.push_back(std::move(conn));
  } else if (watched && (res.error() == httplib::Error::Canceled ||
                         Clock::now() >=
                             (fenced ? std::min(opts.deadline, WriteDeadline()) : opts.deadline))) {
    out.error = fenced && !WritesAllowed() ? "abandoned: the write fence passed"
                                           : "abandoned: deadline passed";
  } else {
    out.error = Failure(static_cast<int>(res.error()), conn.get(), trace, opts.deadline);
  }
  if (metrics_ != nullptr) {
    metrics_->ApiRequest(verb, out.status == 0 ? "error" : std::to_string(out.status));
  }
  return out;
}

Response Client::Stream(const std::string& path, int read_timeout_s,
                        const std::function<bool(std::string_view)>& on_data) {
  Response out;
  out.request = RequestLine("GET", path);
  if (shutdown_.load()) {
    out.error = "client shut down";
    return out;
  }
  Wait();
  std::unique_ptr<httplib::ClientImpl> conn = NewConnection();
  conn->set_read_timeout(read_timeout_s);
  conn->set_keep_alive(false);
  {
    std::lock_guard lock(mu_);
    if (shutdown_.load()) {
      out.error = "client shut down";
      return out;
    }
    streams_.insert(conn.get());
  }
  httplib::Request req;
  req.method = "GET";
  req.path = path;
  SetHeaders(&req);
  int status = 0;
  req.response_handler = [&status](const httplib::Response& r) {
    status = r.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    if (status != 200) {
      if (out.body.size() < 65536) out.body.append(data, len);  // the error Status
      return true;
    }
    return on_data(std::string_view(data, len));
  };
  auto started = Clock::now();
  errno = 0;
  ERR_clear_error();
  httplib::Result res = conn->send(req);
  Trace trace{errno, ERR_peek_error(), Clock::now() - started};
  {
    std::lock_guard lock(mu_);
    streams_.erase(conn.get());
  }
  if (res) {
    out.status = res->status;
  } else if (status != 0) {
    out.status = status;  // the stream ended early (cancelled, timed out)
    out.error = Failure(static_cast<int>(res.error()), conn.get(), trace, Clock::time_point::max());
  } else {
    out.error = Failure(static_cast<int>(res.error()), conn.get(), trace, Clock::time_point::max());
  }
  if (metrics_ != nullptr) {
    metrics_->ApiRequest("watch", out.status == 0 ? "error" : std::to_string(out.status));
  }
  return out;
}

void Client::Shutdown() {
  std::lock_guard lock(mu_);
  shutdown_.store(true);
  for (httplib::ClientImpl* c : streams_) c->stop();
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace akrobateo::kube

// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/client.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "akrobateo/version.h"
#include "operator/kube/failure.h"

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

Result<std::unique_ptr<Client>> Client::Create(const Config& cfg, double qps, int burst,
                                               metrics::Metrics* metrics, Clock* clock) {
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
  return std::unique_ptr<Client>(new Client(cfg, qps, burst, metrics, std::move(tls), clock));
}

Client::Client(Config cfg, double qps, int burst, metrics::Metrics* metrics,
               std::unique_ptr<Tls> tls, Clock* clock)
    : cfg_(std::move(cfg)),
      tls_(std::move(tls)),
      clock_(clock),
      token_(cfg_),
      limiter_(qps, burst, clock),
      metrics_(metrics),
      fence_(clock) {}

Client::~Client() = default;

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

void Client::BoundTimeouts(httplib::ClientImpl* conn, Clock::time_point deadline) const {
  using std::chrono::microseconds;
  // The watchdog cuts the request at the deadline; the socket timeouts are only its backstop.
  // They are set a little later, since poll() rounds down to whole milliseconds: a timeout that
  // fired first would end the request a moment early and as a plain timeout, not as abandoned.
  auto bound = [&](std::chrono::seconds normal) -> microseconds {
    if (deadline == Clock::time_point::max()) return normal;
    auto left = std::chrono::duration_cast<microseconds>(deadline - clock_->Now()) +
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

void Client::Wait() {
  Clock::duration wait = limiter_.Reserve();
  if (wait <= Clock::duration::zero()) return;
  std::unique_lock lock(mu_);
  clock_->WaitFor(shutdown_cv_, lock, wait, [this] { return shutdown_.load(); });
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
    if (fenced && !fence_.Allowed()) {
      out.error = "not sent: this instance is not the leader (write fence passed)";
      return true;
    }
    if (clock_->Now() >= opts.deadline) {
      out.error = "not sent: deadline passed";
      return true;
    }
    return false;
  };
  if (refused()) return out;
  metrics::ApiRequestTimer timer(metrics_, verb, clock_);  // after the client-side rate limit
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
    BoundTimeouts(conn.get(), fence_.Until(opts.deadline, fenced));
    WriteFence::Ticket ticket;
    if (watched) ticket = fence_.Begin([conn] { conn->stop(); }, opts.deadline, fenced);
    auto started = clock_->Now();
    errno = 0;
    ERR_clear_error();
    httplib::Result res = conn->send(req);
    trace = Trace{errno, ERR_peek_error(), clock_->Now() - started};
    if (watched && fence_.End(ticket) && !res) {
      return httplib::Result(nullptr, httplib::Error::Canceled);
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
                         clock_->Now() >= fence_.Until(opts.deadline, fenced))) {
    out.error = fenced && !fence_.Allowed() ? "abandoned: the write fence passed"
                                            : "abandoned: deadline passed";
  } else {
    out.error = DescribeFailure(static_cast<int>(res.error()), conn.get(), trace, cfg_, clock_,
                                opts.deadline);
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
  auto started = clock_->Now();
  errno = 0;
  ERR_clear_error();
  httplib::Result res = conn->send(req);
  Trace trace{errno, ERR_peek_error(), clock_->Now() - started};
  {
    std::lock_guard lock(mu_);
    streams_.erase(conn.get());
  }
  if (res) {
    out.status = res->status;
  } else if (status != 0) {
    out.status = status;  // the stream ended early (cancelled, timed out)
    out.error = DescribeFailure(static_cast<int>(res.error()), conn.get(), trace, cfg_, clock_,
                                Clock::time_point::max());
  } else {
    out.error = DescribeFailure(static_cast<int>(res.error()), conn.get(), trace, cfg_, clock_,
                                Clock::time_point::max());
  }
  if (metrics_ != nullptr) {
    metrics_->ApiRequest("watch", out.status == 0 ? "error" : std::to_string(out.status));
  }
  return out;
}

void Client::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_.store(true);
    for (httplib::ClientImpl* c : streams_) c->stop();
  }
  shutdown_cv_.notify_all();
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

#include "operator/kube/client.h"

#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

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
  if (status == 0) return "request failed: " + error;
  std::string msg;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    msg = j["message"].get<std::string>();
  } else {
    msg = body.substr(0, 200);
  }
  return "HTTP " + std::to_string(status) + ": " + msg;
}

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

Client::~Client() = default;

std::unique_ptr<httplib::ClientImpl> Client::NewConnection() {
  std::unique_ptr<httplib::ClientImpl> c;
  if (cfg_.scheme == "https") {
    std::unique_ptr<httplib::SSLClient> ssl;
    if (tls_->cert != nullptr) {
      ssl = std::make_unique<httplib::SSLClient>(cfg_.host, cfg_.port, tls_->cert, tls_->key);
    } else {
      ssl = std::make_unique<httplib::SSLClient>(cfg_.host, cfg_.port);
    }
    // With a CA from the config, it alone is trusted; without one, the system store.
    if (!tls_->ca_path.empty()) ssl->set_ca_cert_path(tls_->ca_path.c_str());
    ssl->enable_server_certificate_verification(true);
    c = std::move(ssl);
  } else {
    c = std::make_unique<httplib::ClientImpl>(cfg_.host, cfg_.port);
  }
  c->set_connection_timeout(10);
  c->set_read_timeout(30);
  c->set_write_timeout(30);
  c->set_keep_alive(true);
  return c;
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
                         const std::string& content_type) {
  Response out;
  Wait();
  metrics::ApiRequestTimer timer(metrics_, verb);  // after the client-side rate limit
  std::unique_ptr<httplib::ClientImpl> conn;
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
  req.headers = {{"Accept", "application/json"}, {"User-Agent", "akrobateo-operator"}};
  if (std::string token = token_.Token(); !token.empty()) {
    req.headers.emplace("Authorization", "Bearer " + token);
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.headers.emplace("Content-Type", content_type);
    req.body = body;
  }
  httplib::Result res = conn->send(req);
  if (!res && reused) {
    // The server closed the idle keep-alive connection before reading the request; it was
    // not processed, so it is sent once more on a fresh connection.
    conn = NewConnection();
    res = conn->send(req);
  }
  if (res) {
    out.status = res->status;
    out.body = std::move(res->body);
    std::lock_guard lock(mu_);
    if (idle_.size() < 4) idle_.push_back(std::move(conn));
  } else {
    out.error = httplib::to_string(res.error());
  }
  if (metrics_ != nullptr) {
    metrics_->ApiRequest(verb, out.status == 0 ? "error" : std::to_string(out.status));
  }
  return out;
}

Response Client::Stream(const std::string& path, int read_timeout_s,
                        const std::function<bool(std::string_view)>& on_data) {
  Response out;
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
  req.headers = {{"Accept", "application/json"}, {"User-Agent", "akrobateo-operator"}};
  if (std::string token = token_.Token(); !token.empty()) {
    req.headers.emplace("Authorization", "Bearer " + token);
  }
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
  httplib::Result res = conn->send(req);
  {
    std::lock_guard lock(mu_);
    streams_.erase(conn.get());
  }
  if (res) {
    out.status = res->status;
  } else if (status != 0) {
    out.status = status;  // the stream ended early (cancelled, timed out)
    out.error = httplib::to_string(res.error());
  } else {
    out.error = httplib::to_string(res.error());
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

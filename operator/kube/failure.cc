// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/failure.h"

#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace akrobateo::kube {
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

std::string Secs(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", std::chrono::duration<double>(d).count());
  return buf;
}

}  // namespace

std::string DescribeFailure(int error, httplib::ClientImpl* conn, const Trace& trace,
                            const Config& cfg, Clock* clock, Clock::time_point deadline) {
  const auto e = static_cast<httplib::Error>(error);
  const std::string sys = NetworkErrno(trace.sys_errno) ? std::strerror(trace.sys_errno) : "";
  switch (e) {
    case httplib::Error::Connection: {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock->Now());
      if (left <= std::chrono::milliseconds(0)) return "connect: failed";
      std::string why = ProbeConnect(
          cfg.host, cfg.port, std::min<std::chrono::milliseconds>(left, std::chrono::seconds(1)));
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
             (cfg.tls_server_name.empty() ? cfg.host : cfg.tls_server_name + " (tls-server-name)");
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

}  // namespace akrobateo::kube

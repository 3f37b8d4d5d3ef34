// SPDX-License-Identifier: Apache-2.0
#include "nftlb/ready_port.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace nftlb {
namespace {

// A TCP socket of `family` bound to `addr`, with SO_REUSEADDR (the closed probe connections in
// TIME_WAIT do not hold the port) and, for AF_INET6, IPV6_V6ONLY off (it takes IPv4 too).
Result<int> BoundSocket(int family, const sockaddr* addr, socklen_t len, const std::string& what) {
  const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(what + ": socket", errno);
  const int one = 1, zero = 0;
  const char* failed = nullptr;
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0) {
    failed = "setsockopt";
  } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    failed = "setsockopt";
  } else if (bind(fd, addr, len) != 0) {
    failed = "bind";
  }
  if (failed != nullptr) {
    const int err = errno;
    close(fd);
    return Errno(what + ": " + failed, err);
  }
  return fd;
}

// PORT on every address of the namespace: one IPv6 socket that takes IPv4 too (the kubelet
// probes the pod's first address, of either family), or an IPv4 one where the kernel has no IPv6.
Result<int> BoundSocket(uint16_t port) {
  const std::string what = "ready port " + std::to_string(port);
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_any;
  any6.sin6_port = htons(port);
  Result<int> fd =
      BoundSocket(AF_INET6, reinterpret_cast<const sockaddr*>(&any6), sizeof any6, what);
  if (fd || fd.sys_errno() != EAFNOSUPPORT) return fd;
  sockaddr_in any4{};
  any4.sin_family = AF_INET;
  any4.sin_addr.s_addr = htonl(INADDR_ANY);
  any4.sin_port = htons(port);
  return BoundSocket(AF_INET, reinterpret_cast<const sockaddr*>(&any4), sizeof any4, what);
}

}  // namespace

ReadyPort::~ReadyPort() {
  if (fd_ >= 0) close(fd_);
}

Status ReadyPort::Bind() {
  if (port_ == 0 || fd_ >= 0) return Ok();
  Result<int> fd = BoundSocket(port_);
  if (!fd) return fd.status();
  fd_ = *fd;
  return Ok();
}

Status ReadyPort::Open() {
  if (port_ == 0 || listening_) return Ok();
  Status s = Bind();
  if (!s.ok()) return s;
  if (listen(fd_, 16) != 0) {
    const int err = errno;
    close(fd_);
    fd_ = -1;
    return Errno("ready port " + std::to_string(port_) + ": listen", err);
  }
  listening_ = true;
  return Ok();
}

void ReadyPort::Close() {
  // A listening socket cannot go back to merely bound: it is closed, and Open binds anew
  // (SO_REUSEADDR: the closed probe connections in TIME_WAIT do not hold the port).
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  listening_ = false;
}

void ReadyPort::AcceptAll() {
  if (!listening_) return;
  for (;;) {
    const int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      // EAGAIN: nothing more pending. Anything else (a connection reset before it was
      // accepted, out of descriptors) concerns one connection, not the port.
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;
    }
    close(c);
  }
}

}  // namespace nftlb

// SPDX-License-Identifier: Apache-2.0
#include "nftlb/ready_port.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace nftlb {
namespace {

// A socket bound to PORT on every address of the namespace: one IPv6 socket that takes IPv4 too
// (the kubelet probes the pod's first address, of either family), or an IPv4 one where the
// kernel has no IPv6.
Result<int> BoundSocket(uint16_t port) {
  const std::string what = "ready port " + std::to_string(port);
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1, zero = 0;
  if (fd >= 0) {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
      const int err = errno;
      close(fd);
      return Errno(what + ": setsockopt", err);
    }
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    a.sin6_port = htons(port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      const int err = errno;
      close(fd);
      return Errno(what + ": bind [::]:" + std::to_string(port), err);
    }
    return fd;
  }
  if (errno != EAFNOSUPPORT) return Errno(what + ": socket", errno);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(what + ": socket", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    const int err = errno;
    close(fd);
    return Errno(what + ": setsockopt", err);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  a.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    const int err = errno;
    close(fd);
    return Errno(what + ": bind 0.0.0.0:" + std::to_string(port), err);
  }
  return fd;
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

// SPDX-License-Identifier: Apache-2.0
// The readiness port (--ready-port): a TCP listener in nftlb's network namespace (the balancer
// pod's) that the daemon holds open only while the kernel holds exactly its rules, so that a
// kubelet tcpSocket probe on it answers "the rules are in" without an exec. It accepts
// connections and closes them at once; nothing is read or written. See docs/nftlb.md.
#ifndef AKROBATEO_NFTLB_READY_PORT_H_
#define AKROBATEO_NFTLB_READY_PORT_H_

#include <cstdint>

#include "nftlb/result.h"

namespace nftlb {

class ReadyPort {
 public:
  // port 0: no readiness port; every call below then does nothing.
  explicit ReadyPort(uint16_t port) : port_(port) {}
  ~ReadyPort();
  ReadyPort(const ReadyPort&) = delete;
  ReadyPort& operator=(const ReadyPort&) = delete;

  // Binds the port without listening: a connection is still refused, but a port that cannot be
  // had (in use, refused) fails here, before any rule is installed.
  Status Bind();
  // Listens (binding first when needed): connections are accepted from now on.
  Status Open();
  // Stops listening: connections are refused from now on.
  void Close();
  // Accepts every pending connection and closes it.
  void AcceptAll();

  uint16_t port() const { return port_; }
  bool open() const { return listening_; }
  // What to poll for incoming connections; -1 when not listening.
  int fd() const { return listening_ ? fd_ : -1; }

 private:
  uint16_t port_;
  int fd_ = -1;
  bool listening_ = false;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_READY_PORT_H_

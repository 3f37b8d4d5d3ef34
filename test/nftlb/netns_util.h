// SPDX-License-Identifier: Apache-2.0
// Test helpers for the netns suite, each an RAII owner of what it creates: network
// namespaces (removed in the destructor, even when a check failed), echo servers (threads
// with sockets living in a backend namespace), and child processes (SIGKILLed and reaped
// if a test did not stop them). Traffic only ever goes to addresses inside these
// namespaces (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32).
#ifndef AKROBATEO_TEST_NFTLB_NETNS_UTIL_H_
#define AKROBATEO_TEST_NFTLB_NETNS_UTIL_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace nftlb::testing {

// Runs argv; throws std::runtime_error with its stderr when it exits non-zero.
std::string Sh(const std::vector<std::string>& argv);
// Runs argv; returns its exit code, stdout into *out (stderr appended when given).
int Run(const std::vector<std::string>& argv, std::string* out = nullptr,
        std::string* err = nullptr);

class Netns {
 public:
  explicit Netns(std::string name);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  // argv run inside this namespace ("ip netns exec NAME ...").
  std::vector<std::string> Exec(const std::vector<std::string>& argv) const;

 private:
  std::string name_;
};

// client ns -> pod ns -> backend ns, over two veth pairs.
//   client  eth0 192.0.2.1, 192.0.2.100, 2001:db8:1::1, 2001:db8:1::100
//   pod     eth0 192.0.2.2, 2001:db8:1::2 | eth1 198.51.100.1, 2001:db8:2::1
//   backend eth0 198.51.100.2 (b2), 198.51.100.3 (b3), 2001:db8:2::2 (b2), 2001:db8:2::3 (b3)
struct Topology {
  Topology();
  std::string prefix;  // akb-t-<pid>-<n>-
  std::unique_ptr<Netns> client, pod, backend;
};

enum class L4 { kTcp, kUdp, kSctp };
// Whether the kernel can make sockets of this protocol at all.
bool KernelSupports(L4 p, std::string* why);

// Answers "<tag>:<request>" on TCP 8080, UDP 5353 and SCTP 9090 (if supported) of each
// backend address; b2 on .2/::2, b3 on .3/::3.
class EchoServers {
 public:
  explicit EchoServers(const Netns& ns);
  ~EchoServers();
  EchoServers(const EchoServers&) = delete;
  EchoServers& operator=(const EchoServers&) = delete;

 private:
  void Loop();
  std::vector<int> listen_fds_;  // TCP and SCTP
  std::vector<int> udp_fds_;
  std::vector<std::string> tags_;  // per fd in listen_fds_ then udp_fds_
  int stop_fd_ = -1;
  std::thread thread_;
};

struct Reply {
  bool ok = false;
  std::string text;   // the answer when ok
  std::string error;  // why not
};
// One request from `ns` (optionally from source address `src`) to dst:port.
Reply Request(const Netns& ns, L4 proto, const std::string& dst, int port,
              const std::string& src = "", int timeout_ms = 1500);

// A TCP connect from `ns` to dst:port, closed at once: what a kubelet's tcpSocket probe does.
Reply Connect(const Netns& ns, const std::string& dst, int port, int timeout_ms = 1500);

// A child process (nftlb) whose stderr goes to a log file.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  // Sends sig and waits; returns the exit code (-1 if killed by a signal).
  int Stop(int sig);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace nftlb::testing

#endif  // AKROBATEO_TEST_NFTLB_NETNS_UTIL_H_

// SPDX-License-Identifier: Apache-2.0
#include "test/nftlb/netns_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "nftlb/subprocess.h"

namespace nftlb::testing {

std::string Sh(const std::vector<std::string>& argv) {
  Result<ProcessResult> pr = RunProcess(argv, "");
  std::string cmd;
  for (const auto& a : argv) cmd += a + " ";
  if (!pr) throw std::runtime_error(cmd + ": " + pr.error());
  if (pr->exit_code != 0) throw std::runtime_error(cmd + "failed: " + pr->err);
  return pr->out;
}

int Run(const std::vector<std::string>& argv, std::string* out, std::string* err) {
  Result<ProcessResult> pr = RunProcess(argv, "");
  if (!pr) return -1;
  if (out) *out = pr->out;
  if (err) *err = pr->err;
  return pr->exit_code;
}

Netns::Netns(std::string name) : name_(std::move(name)) {
  Sh({"ip", "netns", "add", name_});
  Sh({"ip", "-n", name_, "link", "set", "lo", "up"});
}

Netns::~Netns() {
  Run({"ip", "netns", "del", name_});
}

std::vector<std::string> Netns::Exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> out = {"ip", "netns", "exec", name_};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Topology::Topology() {
  static std::atomic<int> counter{0};
  prefix = "akb-t-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-";
  client = std::make_unique<Netns>(prefix + "client");
  pod = std::make_unique<Netns>(prefix + "pod");
  backend = std::make_unique<Netns>(prefix + "backend");
  const std::string c = client->name(), p = pod->name(), b = backend->name();
  Sh({"ip", "-n", c, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", p});
  Sh({"ip", "-n", p, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", b});
  auto addr = [](const std::string& ns, const std::string& dev, const std::string& a) {
    Sh({"ip", "-n", ns, "addr", "add", a, "dev", dev, "nodad"});
  };
  addr(c, "eth0", "192.0.2.1/24");
  addr(c, "eth0", "192.0.2.100/24");
  addr(c, "eth0", "2001:db8:1::1/64");
  addr(c, "eth0", "2001:db8:1::100/64");
  addr(p, "eth0", "192.0.2.2/24");
  addr(p, "eth0", "2001:db8:1::2/64");
  addr(p, "eth1", "198.51.100.1/24");
  addr(p, "eth1", "2001:db8:2::1/64");
  addr(b, "eth0", "198.51.100.2/24");
  addr(b, "eth0", "198.51.100.3/24");
  addr(b, "eth0", "2001:db8:2::2/64");
  addr(b, "eth0", "2001:db8:2::3/64");
  // A new namespace inherits the host's IPv4 settings; a pod starts with forwarding off.
  Sh(pod->Exec({"sysctl", "-q", "-w", "net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0"}));
  Sh({"ip", "-n", c, "link", "set", "eth0", "up"});
  Sh({"ip", "-n", p, "link", "set", "eth0", "up"});
  Sh({"ip", "-n", p, "link", "set", "eth1", "up"});
  Sh({"ip", "-n", b, "link", "set", "eth0", "up"});
}

namespace {

int ProtoOf(L4 p) {
  return p == L4::kTcp ? IPPROTO_TCP : p == L4::kUdp ? IPPROTO_UDP : IPPROTO_SCTP;
}
int TypeOf(L4 p) {
  return p == L4::kUdp ? SOCK_DGRAM : SOCK_STREAM;
}

// Creates a socket inside namespace `ns` (setns affects only this thread, and is undone
// before returning). Returns -errno on failure.
int SocketIn(const std::string& ns, int domain, int type, int proto) {
  const int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0) {
    if (self >= 0) close(self);
    if (target >= 0) close(target);
    return -ENOENT;
  }
  int fd = -EINVAL;
  if (setns(target, CLONE_NEWNET) == 0) {
    fd = socket(domain, type | SOCK_CLOEXEC, proto);
    if (fd < 0) fd = -errno;
    if (setns(self, CLONE_NEWNET) != 0) abort();  // never continue in the wrong netns
  }
  close(self);
  close(target);
  return fd;
}

bool ToSockaddr(const std::string& addr, int port, sockaddr_storage* ss, socklen_t* len) {
  std::memset(ss, 0, sizeof(*ss));
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string NetnsName(const Netns& ns) {
  return ns.name();
}

}  // namespace

bool KernelSupports(L4 p, std::string* why) {
  const int fd = socket(AF_INET, TypeOf(p), ProtoOf(p));
  if (fd < 0) {
    *why = std::string("socket(AF_INET, ") + (p == L4::kSctp ? "IPPROTO_SCTP" : "?") +
           "): " + std::strerror(errno);
    return false;
  }
  close(fd);
  return true;
}

EchoServers::EchoServers(const Netns& ns) {
  struct Spec {
    std::string addr;
    std::string tag;
  };
  const Spec specs[] = {{"198.51.100.2", "b2"},
                        {"198.51.100.3", "b3"},
                        {"2001:db8:2::2", "b2"},
                        {"2001:db8:2::3", "b3"}};
  std::string why;
  const bool sctp = KernelSupports(L4::kSctp, &why);
  for (const Spec& s : specs) {
    for (L4 p : {L4::kTcp, L4::kUdp, L4::kSctp}) {
      if (p == L4::kSctp && !sctp) continue;
      const int port = p == L4::kTcp ? 8080 : p == L4::kUdp ? 5353 : 9090;
      sockaddr_storage ss;
      socklen_t len;
      ToSockaddr(s.addr, port, &ss, &len);
      const int fd = SocketIn(NetnsName(ns), ss.ss_family, TypeOf(p), ProtoOf(p));
      if (fd < 0) throw std::runtime_error("echo socket: " + std::string(std::strerror(-fd)));
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        const int e = errno;
        close(fd);
        throw std::runtime_error("echo bind " + s.addr + ": " + std::strerror(e));
      }
      if (p == L4::kUdp) {
        udp_fds_.push_back(fd);
      } else {
        listen(fd, 128);
        listen_fds_.push_back(fd);
      }
    }
  }
  // Tags in fd order: listen fds then UDP fds. The tag names the backend by the last digit
  // of the address the socket is bound to (backends 2 and 3 of the test topology).
  auto tag_of = [](int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    char buf[INET6_ADDRSTRLEN];
    const void* a = ss.ss_family == AF_INET
                        ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&ss)->sin_addr)
                        : &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr;
    inet_ntop(ss.ss_family, a, buf, sizeof(buf));
    const std::string s = buf;
    return std::string(s.back() == '2' ? "b2" : "b3");
  };
  for (int fd : listen_fds_) tags_.push_back(tag_of(fd));
  for (int fd : udp_fds_) tags_.push_back(tag_of(fd));
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Loop(); });
}

EchoServers::~EchoServers() {
  const uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof(one));
  thread_.join();
  for (int fd : listen_fds_) close(fd);
  for (int fd : udp_fds_) close(fd);
  close(stop_fd_);
}

void EchoServers::Loop() {
  std::vector<pollfd> fds;
  fds.push_back({stop_fd_, POLLIN, 0});
  for (int fd : listen_fds_) fds.push_back({fd, POLLIN, 0});
  for (int fd : udp_fds_) fds.push_back({fd, POLLIN, 0});
  char buf[512];
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) return;
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      const std::string& tag = tags_[i - 1];
      if (i - 1 < listen_fds_.size()) {
        const int c = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        timeval tv{1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        const ssize_t n = recv(c, buf, sizeof(buf), 0);
        if (n > 0) {
          const std::string reply = tag + ":" + std::string(buf, static_cast<size_t>(n));
          (void)!send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
        close(c);
      } else {
        sockaddr_storage from;
        socklen_t len = sizeof(from);
        const ssize_t n =
            recvfrom(fds[i].fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n <= 0) continue;
        const std::string reply = tag + ":" + std::string(buf, static_cast<size_t>(n));
        sendto(fds[i].fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    }
  }
}

namespace {

using Deadline = std::chrono::steady_clock::time_point;

int MsLeft(Deadline deadline) {
  return static_cast<int>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                               std::chrono::steady_clock::now())
             .count()));
}

// A socket in `ns` connected to dst:port (from `src` when given) by `deadline`; -1 with
// r->error saying why not.
int ConnectIn(const Netns& ns, L4 proto, const std::string& dst, int port, const std::string& src,
              Deadline deadline, Reply* r) {
  sockaddr_storage to;
  socklen_t to_len;
  if (!ToSockaddr(dst, port, &to, &to_len)) {
    r->error = "bad address " + dst;
    return -1;
  }
  const int fd = SocketIn(ns.name(), to.ss_family, TypeOf(proto) | SOCK_NONBLOCK, ProtoOf(proto));
  if (fd < 0) {
    r->error = std::string("socket: ") + std::strerror(-fd);
    return -1;
  }
  auto fail = [&](const std::string& why) {
    r->error = why;
    close(fd);
    return -1;
  };
  if (!src.empty()) {
    sockaddr_storage from;
    socklen_t from_len;
    ToSockaddr(src, 0, &from, &from_len);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), from_len) != 0) {
      return fail(std::string("bind: ") + std::strerror(errno));
    }
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), to_len) != 0 && errno != EINPROGRESS) {
    return fail(std::string("connect: ") + std::strerror(errno));
  }
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, MsLeft(deadline)) <= 0) return fail("connect: timeout");
  int soerr = 0;
  socklen_t sl = sizeof(soerr);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
  if (soerr != 0) return fail(std::string("connect: ") + std::strerror(soerr));
  return fd;
}

}  // namespace

Reply Connect(const Netns& ns, const std::string& dst, int port, int timeout_ms) {
  Reply r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const int fd = ConnectIn(ns, L4::kTcp, dst, port, "", deadline, &r);
  if (fd < 0) return r;
  close(fd);
  r.ok = true;
  return r;
}

Reply Request(const Netns& ns, L4 proto, const std::string& dst, int port, const std::string& src,
              int timeout_ms) {
  Reply r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const int fd = ConnectIn(ns, proto, dst, port, src, deadline, &r);
  if (fd < 0) return r;
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  const std::string msg = "hello";
  if (send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) < 0) {
    r.error = std::string("send: ") + std::strerror(errno);
    return r;
  }
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, MsLeft(deadline)) <= 0) {
    r.error = "no answer within " + std::to_string(timeout_ms) + " ms";
    return r;
  }
  char buf[512];
  const ssize_t n = recv(fd, buf, sizeof(buf), 0);
  if (n <= 0) {
    r.error =
        n == 0 ? "connection closed without answer" : std::string("recv: ") + std::strerror(errno);
    return r;
  }
  r.ok = true;
  r.text.assign(buf, static_cast<size_t>(n));
  return r;
}

Child::Child(const std::vector<std::string>& argv) {
  static std::atomic<int> counter{0};
  log_path_ =
      "/tmp/akb-t-" + std::to_string(getpid()) + "-child-" + std::to_string(counter++) + ".log";
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
}

Child::~Child() {
  if (pid_ > 0) Stop(SIGKILL);
  unlink(log_path_.c_str());
}

int Child::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int st = 0;
  waitpid(pid_, &st, 0);
  pid_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string Child::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace nftlb::testing

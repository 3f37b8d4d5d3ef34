// SPDX-License-Identifier: Apache-2.0
#include "nftlb/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace nftlb {

namespace {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

bool MakePipe(Fd* read_end, Fd* write_end) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return false;
  read_end->Reset(p[0]);
  write_end->Reset(p[1]);
  return true;
}

}  // namespace

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::string& input,
                                 const EnvVars& env) {
  ProcessResult result;
  Fd in_r, in_w, out_r, out_w, err_r, err_w, exec_r, exec_w;
  if (!MakePipe(&in_r, &in_w) || !MakePipe(&out_r, &out_w) || !MakePipe(&err_r, &err_w) ||
      !MakePipe(&exec_r, &exec_w)) {
    return Errno("pipe", errno);
  }
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return Errno("fork", errno);
  if (pid == 0) {
    dup2(in_r.get(), 0);
    dup2(out_w.get(), 1);
    dup2(err_w.get(), 2);
    // The parent blocks SIGTERM/SIGINT for sigtimedwait; the tool must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    execvp(cargv[0], cargv.data());
    const int e = errno;
    (void)!write(exec_w.get(), &e, sizeof(e));
    _exit(127);
  }
  in_r.Reset();
  out_w.Reset();
  err_w.Reset();
  exec_w.Reset();

  int exec_errno = 0;
  if (read(exec_r.get(), &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
    int st;
    waitpid(pid, &st, 0);
    return Errno("cannot run " + argv[0], exec_errno);
  }

  // Feed stdin and drain stdout/stderr together so that neither side can block the other.
  size_t written = 0;
  if (input.empty()) in_w.Reset();
  char buf[8192];
  while (out_r.get() >= 0 || err_r.get() >= 0 || in_w.get() >= 0) {
    pollfd fds[3] = {{in_w.get(), POLLOUT, 0}, {out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (in_w.get() >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = write(in_w.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == input.size()) in_w.Reset();
    }
    Fd* readers[2] = {&out_r, &err_r};
    std::string* sinks[2] = {&result.out, &result.err};
    for (int i = 0; i < 2; ++i) {
      if (readers[i]->get() < 0 || !(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(readers[i]->get(), buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        readers[i]->Reset();
      }
    }
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return result;
}

}  // namespace nftlb

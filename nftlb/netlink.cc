// SPDX-License-Identifier: Apache-2.0
#include "nftlb/netlink.h"

#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

namespace nftlb {

namespace {
constexpr size_t kMaxMessage = 8192;  // one object message never exceeds this
}

Batch::Batch(uint32_t first_seq) : first_seq_(first_seq), seq_(first_seq) {
  buf_.reserve(16384);
  Commit(nftnl_batch_begin(Reserve(), seq_++));
}

char* Batch::Reserve() {
  const size_t used = buf_.size();
  buf_.resize(used + kMaxMessage);
  return buf_.data() + used;
}

void Batch::Commit(const nlmsghdr* nlh) {
  // Reserve() grew the buffer by kMaxMessage; keep only what the message used.
  const size_t start = static_cast<size_t>(reinterpret_cast<const char*>(nlh) - buf_.data());
  buf_.resize(start + NLMSG_ALIGN(nlh->nlmsg_len));
}

nlmsghdr* Batch::BeginObject(uint16_t msg_type, uint32_t family, uint16_t flags) {
  return nftnl_nlmsg_build_hdr(Reserve(), msg_type, static_cast<uint16_t>(family),
                               static_cast<uint16_t>(flags | NLM_F_ACK), seq_++);
}

void Batch::EndObject(const nlmsghdr* nlh, std::string what) {
  Commit(nlh);
  what_.push_back(std::move(what));
}

void Batch::AddTable(uint16_t msg_type, uint16_t flags, const nftnl_table* t, std::string what) {
  nlmsghdr* nlh = BeginObject(msg_type, nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), flags);
  nftnl_table_nlmsg_build_payload(nlh, t);
  EndObject(nlh, std::move(what));
}

void Batch::AddChain(uint16_t msg_type, uint16_t flags, const nftnl_chain* c, std::string what) {
  nlmsghdr* nlh = BeginObject(msg_type, nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY), flags);
  nftnl_chain_nlmsg_build_payload(nlh, c);
  EndObject(nlh, std::move(what));
}

void Batch::AddRule(uint16_t msg_type, uint16_t flags, nftnl_rule* r, std::string what) {
  nlmsghdr* nlh = BeginObject(msg_type, nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), flags);
  nftnl_rule_nlmsg_build_payload(nlh, r);
  EndObject(nlh, std::move(what));
}

void Batch::Finish(bool commit) {
  if (commit) Commit(nftnl_batch_end(Reserve(), seq_++));
}

Result<std::unique_ptr<NetfilterSocket>> NetfilterSocket::Open() {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) return Errno("cannot open nfnetlink socket", errno);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(nl);
    return Errno("cannot bind nfnetlink socket", err);
  }
  return std::unique_ptr<NetfilterSocket>(new NetfilterSocket(nl));
}

NetfilterSocket::NetfilterSocket(mnl_socket* nl)
    : nl_(nl), portid_(mnl_socket_get_portid(nl)), seq_(static_cast<uint32_t>(time(nullptr))) {}

NetfilterSocket::~NetfilterSocket() {
  mnl_socket_close(nl_);
}

Status NetfilterSocket::EnsureBuffers(size_t bytes) {
  // A big batch (hundreds of rules) exceeds the default socket buffers, and so do its
  // ACKs; the FORCE variants need CAP_NET_ADMIN, which nftlb has anyway.
  const size_t want = std::max<size_t>(bytes * 4, 1 << 20);
  if (want <= buffer_size_) return Ok();
  int size = static_cast<int>(std::min<size_t>(want, 1 << 28));
  const int fd = mnl_socket_get_fd(nl_);
  for (int opt : {SO_SNDBUFFORCE, SO_RCVBUFFORCE}) {
    // SOL_SOCKET options: mnl_socket_setsockopt would set SOL_NETLINK ones.
    if (setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size)) < 0) {
      const int plain = opt == SO_SNDBUFFORCE ? SO_SNDBUF : SO_RCVBUF;
      if (setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size)) < 0) {
        return Errno("setting netlink socket buffers", errno);
      }
    }
  }
  buffer_size_ = want;
  return Ok();
}

Status NetfilterSocket::SendBatch(const Batch& batch) {
  // Sent or not, the batch's sequence numbers are not reused by later requests.
  seq_ = batch.end_seq();
  Status buffers = EnsureBuffers(batch.bytes().size());
  if (!buffers.ok()) return buffers;
  if (mnl_socket_sendto(nl_, batch.bytes().data(), batch.bytes().size()) < 0) {
    return Errno("sending nf_tables batch", errno);
  }
  std::set<uint32_t> pending;
  for (uint32_t i = 0; i < batch.message_count(); ++i) pending.insert(batch.first_object_seq() + i);
  Status first_error;
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE) * 4);
  while (!pending.empty()) {
    // The kernel handles the batch inside sendmsg, so every reply is queued by now; wait a
    // little anyway, and stop early once an error made the rest moot.
    pollfd pfd{mnl_socket_get_fd(nl_), POLLIN, 0};
    const int ready = poll(&pfd, 1, first_error.ok() ? 5000 : 0);
    if (ready <= 0) break;
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) return Errno("receiving nf_tables ACKs", errno);
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_pid != portid_ && nlh->nlmsg_pid != 0) continue;
      if (nlh->nlmsg_type != NLMSG_ERROR) continue;
      const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      const uint32_t seq = nlh->nlmsg_seq;
      if (pending.erase(seq) == 0) continue;
      if (e->error != 0 && first_error.ok()) {
        first_error = Errno("kernel refused " + batch.what(seq), -e->error);
      }
    }
  }
  if (!first_error.ok()) return first_error;
  if (!pending.empty()) {
    return Error{"nf_tables batch: no ACK for " + batch.what(*pending.begin())};
  }
  return Ok();
}

Status NetfilterSocket::Request(const std::vector<char>& msg, uint32_t seq,
                                const std::function<Status(const nlmsghdr*)>& cb) {
  if (mnl_socket_sendto(nl_, msg.data(), msg.size()) < 0) {
    return Errno("sending nf_tables request", errno);
  }
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE) * 4);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) return Errno("receiving nf_tables reply", errno);
    int left = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_seq != seq) continue;
      if (nlh->nlmsg_type == NLMSG_DONE) return Ok();
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (e->error == 0) return Ok();
        return Errno("nf_tables request", -e->error);
      }
      if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
        return Error{"nf_tables dump interrupted by a concurrent change"};
      }
      Status s = cb(nlh);
      if (!s.ok()) return s;
    }
  }
}

}  // namespace nftlb

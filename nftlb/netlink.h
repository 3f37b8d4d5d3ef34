// SPDX-License-Identifier: Apache-2.0
// A NETLINK_NETFILTER socket (RAII over libmnl) and the nf_tables batch it sends. A batch
// is BEGIN, objects, END in one sendmsg: the kernel applies all of it or none of it. Every
// object message asks for an ACK and SendBatch checks each one by sequence number.
#ifndef AKROBATEO_NFTLB_NETLINK_H_
#define AKROBATEO_NFTLB_NETLINK_H_

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nftlb/result.h"

namespace nftlb {

// Builds one nf_tables transaction in a growing buffer.
class Batch {
 public:
  explicit Batch(uint32_t first_seq);

  void AddTable(uint16_t msg_type, uint16_t flags, const nftnl_table* t, std::string what);
  void AddChain(uint16_t msg_type, uint16_t flags, const nftnl_chain* c, std::string what);
  void AddRule(uint16_t msg_type, uint16_t flags, nftnl_rule* r, std::string what);
  // Closes the batch. Without commit the END message is left out, so the kernel checks
  // every message and then aborts (validate only): nothing changes.
  void Finish(bool commit);

  const std::vector<char>& bytes() const { return buf_; }
  size_t message_count() const { return what_.size(); }
  uint32_t first_object_seq() const { return first_seq_ + 1; }
  // One past the last sequence number the batch uses.
  uint32_t end_seq() const { return seq_; }
  const std::string& what(uint32_t seq) const { return what_[seq - first_seq_ - 1]; }

 private:
  char* Reserve();
  void Commit(const nlmsghdr* nlh);
  // The header and the bookkeeping shared by every Add*: each object message is ACKed
  // and named for error messages.
  nlmsghdr* BeginObject(uint16_t msg_type, uint32_t family, uint16_t flags);
  void EndObject(const nlmsghdr* nlh, std::string what);

  uint32_t first_seq_;
  uint32_t seq_;
  std::vector<char> buf_;
  std::vector<std::string> what_;  // per object message, for error messages
};

class NetfilterSocket {
 public:
  // Opens and binds; fails with the errno text (EPROTONOSUPPORT: no nfnetlink).
  static Result<std::unique_ptr<NetfilterSocket>> Open();
  ~NetfilterSocket();
  NetfilterSocket(const NetfilterSocket&) = delete;
  NetfilterSocket& operator=(const NetfilterSocket&) = delete;

  // The sequence number of the next request; it is then used up.
  uint32_t NextSeq() { return seq_++; }
  // Where the next batch starts; SendBatch uses up the batch's numbers.
  uint32_t next_batch_seq() const { return seq_; }

  // Sends the batch and collects one ACK per object message; the first error wins and
  // is reported with the object it belongs to.
  Status SendBatch(const Batch& batch);

  // Sends one request (a get or a dump) and feeds every reply message to `cb` until the
  // kernel says done (or ACKs a non-dump request). ENOENT etc. come back as the Status.
  Status Request(const std::vector<char>& msg, uint32_t seq,
                 const std::function<Status(const nlmsghdr*)>& cb);

 private:
  explicit NetfilterSocket(mnl_socket* nl);
  Status EnsureBuffers(size_t bytes);

  mnl_socket* nl_;
  uint32_t portid_;
  uint32_t seq_;
  size_t buffer_size_ = 0;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_NETLINK_H_

// SPDX-License-Identifier: Apache-2.0
// The result of an operation that talks to the kernel or a tool: ok, or a message that
// already says what failed and why (with the errno text where there is one).
#ifndef AKROBATEO_NFTLB_STATUS_H_
#define AKROBATEO_NFTLB_STATUS_H_

#include <string>
#include <utility>

namespace nftlb {

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }
  // "what: strerror(err)"
  static Status Errno(const std::string& what, int err);

  bool ok() const { return !failed_; }
  const std::string& message() const { return message_; }
  // The errno behind an Errno() status, 0 for the others.
  int err() const { return err_; }

 private:
  explicit Status(std::string message, int err = 0)
      : failed_(true), message_(std::move(message)), err_(err) {}
  bool failed_ = false;
  std::string message_;
  int err_ = 0;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_STATUS_H_

// SPDX-License-Identifier: Apache-2.0
// Result<T>: the value of an operation that can fail, or the Status saying why it failed.
// nftlb's functions return it instead of filling out-parameters. The interface mirrors the
// operator's akrobateo::Result (operator/base/result.h): ok(), value(), error(), so the two
// halves of the project read alike; status() keeps the errno of an Errno() failure.
#ifndef AKROBATEO_NFTLB_RESULT_H_
#define AKROBATEO_NFTLB_RESULT_H_

#include <optional>
#include <string>
#include <utility>

#include "nftlb/status.h"

namespace nftlb {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  // `status` must be a failure; an ok Status carries no value to return.
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit on purpose

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

  // Why it failed (the Status's message); empty when ok().
  const std::string& error() const { return status_.message(); }
  // Ok when ok(), else the failure, for passing it on: `return r.status();`.
  const Status& status() const { return status_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_RESULT_H_

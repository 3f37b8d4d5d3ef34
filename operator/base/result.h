// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value or an error message, returned at every boundary that can fail on input
// from outside (API JSON, kubeconfig files, HTTP). Exceptions never cross these boundaries.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace akrobateo {

struct Error {
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}              // NOLINT: implicit on purpose
  Result(Error error) : error_(std::move(error.message)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  const T* operator->() const { return &*value_; }
  const std::string& error() const { return error_; }

 private:
  std::optional<T> value_;
  std::string error_;
};

}  // namespace akrobateo

// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value or an error, returned at every boundary that can fail on input from
// outside (API JSON, kubeconfig files, HTTP, the kernel, a tool). Status (= Result<void>) is the
// same for operations that return nothing. Exceptions never cross these boundaries. Both halves
// of the project use it: the operator, and nftlb (nftlb/result.h brings it into its namespace).
//
// An error has a message, a kind and, when a system call failed, its errno. The kind is what the
// operator branches on (an API write that found its object gone, or lost a race): the kinds are
// the ones the Kubernetes API reports, so that a caller never looks at an HTTP status code
// itself. nftlb branches on the errno (EEXIST, ENOENT from netlink).
#ifndef AKROBATEO_OPERATOR_BASE_RESULT_H_
#define AKROBATEO_OPERATOR_BASE_RESULT_H_

#include <cstring>
#include <optional>
#include <string>
#include <utility>

namespace akrobateo {

enum class ErrorKind {
  kOther,          // anything the kinds below do not name (bad input, a decode failure, ...)
  kNotFound,       // the object is not there (HTTP 404)
  kAlreadyExists,  // a create found the name taken (HTTP 409, reason AlreadyExists)
  kConflict,       // a precondition (resourceVersion) no longer holds (HTTP 409)
  kForbidden,      // refused for lack of rights or credentials (HTTP 401, 403)
  kInvalid,        // the request itself is wrong (HTTP 400, 422)
  kTransient,      // no answer, a timeout, throttling or a server error: worth retrying
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kOther;
  int sys_errno = 0;  // the errno of a failed system call (Errno()), else 0
};

// "what: strerror(err)", keeping `err`.
inline Error Errno(const std::string& what, int err) {
  return Error{what + ": " + std::strerror(err), ErrorKind::kOther, err};
}

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  const std::string& error() const { return error_.message; }
  ErrorKind kind() const { return error_.kind; }
  int sys_errno() const { return error_.sys_errno; }
  bool Is(ErrorKind k) const { return !ok() && error_.kind == k; }
  // The error as a value, to pass it on (only when !ok()).
  const Error& status() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_;
};

// Success or an error, for operations without a value. Default-constructed: success.
template <>
class Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& error() const {
    static const std::string kNone;
    return error_ ? error_->message : kNone;
  }
  ErrorKind kind() const { return error_ ? error_->kind : ErrorKind::kOther; }
  int sys_errno() const { return error_ ? error_->sys_errno : 0; }
  bool Is(ErrorKind k) const { return error_ && error_->kind == k; }
  const Error& status() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

// The success Status, for readability at return sites.
inline Status Ok() {
  return Status();
}

// `e` with `context + ": "` in front of its message, same kind.
inline Error Context(const std::string& context, Error e) {
  e.message = context + ": " + e.message;
  return e;
}

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_BASE_RESULT_H_

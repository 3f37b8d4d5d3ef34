// SPDX-License-Identifier: Apache-2.0
// Why a request to the API server got no answer, in words: the step that failed (connect, TLS
// handshake, certificate verification, sending, reading) and its cause (the errno text,
// OpenSSL's verify result or error, a second connection attempt's error). The request line
// ("GET https://host:port/path") is in front of it (Response::Describe).
#ifndef AKROBATEO_OPERATOR_KUBE_FAILURE_H_
#define AKROBATEO_OPERATOR_KUBE_FAILURE_H_

#include <string>

#include "operator/base/clock.h"
#include "operator/kube/config.h"

namespace httplib {
class ClientImpl;
}  // namespace httplib

namespace akrobateo::kube {

// What is known right after httplib returned.
struct Trace {
  int sys_errno = 0;            // errno then
  unsigned long tls_error = 0;  // OpenSSL's first queued error of this thread then
  Clock::duration took{};       // how long the send took
};

// The words for httplib's `error` (an httplib::Error) on `conn`, a connection to `cfg`'s server.
// A failed connect is tried once more (bounded by `deadline` on `clock`) to learn why.
std::string DescribeFailure(int error, httplib::ClientImpl* conn, const Trace& trace,
                            const Config& cfg, Clock* clock, Clock::time_point deadline);

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_FAILURE_H_

// SPDX-License-Identifier: Apache-2.0
// nftlb's errors are the project's one Result/Status/Error (operator/base/result.h), brought into
// namespace nftlb: a function that can fail returns Result<T> (a value or an Error) or Status,
// never an out-parameter; a failed system call gives Errno(what, err), whose message carries the
// errno text and whose sys_errno() the caller can branch on.
#ifndef AKROBATEO_NFTLB_RESULT_H_
#define AKROBATEO_NFTLB_RESULT_H_

#include "operator/base/result.h"

namespace nftlb {

using akrobateo::Errno;
using akrobateo::Error;
using akrobateo::Ok;
using akrobateo::Result;
using akrobateo::Status;

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_RESULT_H_

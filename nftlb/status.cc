// SPDX-License-Identifier: Apache-2.0
#include "nftlb/status.h"

#include <cstring>

namespace nftlb {

Status Status::Errno(const std::string& what, int err) {
  return Status(what + ": " + std::strerror(err), err);
}

}  // namespace nftlb

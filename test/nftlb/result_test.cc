// SPDX-License-Identifier: Apache-2.0
// Result<T> as nftlb uses it (the project's one, operator/base/result.h): a value, or the Error
// of the failure with its message and errno.
#include "nftlb/result.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace nftlb {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Error{std::to_string(v) + " is odd"};
  return v / 2;
}

TEST_CASE("Result holds a value or an error") {
  const Result<int> ok = Half(8);
  REQUIRE(ok.ok());
  CHECK(static_cast<bool>(ok));
  CHECK(ok.value() == 4);
  CHECK(*ok == 4);
  CHECK(ok.error().empty());
  CHECK(ok.sys_errno() == 0);

  const Result<int> odd = Half(3);
  CHECK_FALSE(odd.ok());
  CHECK(odd.error() == "3 is odd");
  CHECK(odd.sys_errno() == 0);

  const Result<std::string> refused = Errno("sending", EPERM);
  CHECK_FALSE(refused.ok());
  CHECK(refused.sys_errno() == EPERM);
  CHECK(refused.error().rfind("sending: ", 0) == 0);
}

TEST_CASE("Result moves a move-only value out") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  REQUIRE(r.ok());
  CHECK(**r == 7);
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

}  // namespace
}  // namespace nftlb

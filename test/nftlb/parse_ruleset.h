// SPDX-License-Identifier: Apache-2.0
// The Ruleset nftlb's own parser makes of a command line, for the unit tests that start from
// args as a user writes them; bad args fail the test at once with the parser's message.
#ifndef AKROBATEO_TEST_NFTLB_PARSE_RULESET_H_
#define AKROBATEO_TEST_NFTLB_PARSE_RULESET_H_

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "nftlb/config.h"
#include "nftlb/ruleset.h"

namespace nftlb {

inline Ruleset ParseRuleset(const std::vector<std::string>& args) {
  Result<Config> r = ParseArgs(args);
  REQUIRE_MESSAGE(r.ok(), r.error());
  return r->ruleset;
}

}  // namespace nftlb

#endif  // AKROBATEO_TEST_NFTLB_PARSE_RULESET_H_

// SPDX-License-Identifier: Apache-2.0
#include "nftlb/ruleset.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace nftlb {

bool Ruleset::HasFamily(Family f) const {
  return std::any_of(forwards.begin(), forwards.end(),
                     [f](const Forward& fw) { return fw.target.family == f; });
}

std::vector<GuardedPort> Ruleset::GuardedPorts() const {
  std::vector<GuardedPort> out;
  if (source_ranges.empty()) return out;
  for (const Forward& f : forwards) {
    GuardedPort g{f.proto, f.port};
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(g);
  }
  return out;
}

Ruleset MakeRuleset(std::string table, std::vector<Forward> forwards,
                    std::vector<Cidr> source_ranges) {
  std::sort(forwards.begin(), forwards.end(), [](const Forward& a, const Forward& b) {
    return std::tuple(a.proto, a.port, a.target.family) <
           std::tuple(b.proto, b.port, b.target.family);
  });
  return Ruleset{std::move(table), std::move(forwards), std::move(source_ranges)};
}

}  // namespace nftlb

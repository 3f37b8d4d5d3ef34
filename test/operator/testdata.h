// SPDX-License-Identifier: Apache-2.0
// Reads a fixture from test/operator/testdata.
#ifndef AKROBATEO_TEST_OPERATOR_TESTDATA_H_
#define AKROBATEO_TEST_OPERATOR_TESTDATA_H_

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace akrobateo::testing {

inline std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(AKROBATEO_TESTDATA) + "/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json Fixture(const std::string& name) {
  return nlohmann::json::parse(ReadTestdata(name));
}

}  // namespace akrobateo::testing

#endif  // AKROBATEO_TEST_OPERATOR_TESTDATA_H_

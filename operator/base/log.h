// SPDX-License-Identifier: Apache-2.0
// spdlog set-up: one line per event, human text or JSON objects (--log-format), level from -v.
//
// Callers log `msg key=value key="quoted value" ...` (logfmt-like). The text format prints that
// as it is. The JSON format splits it: `{"ts":..,"level":..,"msg":"msg","key":"value",...}`,
// one object per line, every field a string. Values that may hold spaces, quotes or newlines
// are written with Quote() so that the split is exact.
#ifndef AKROBATEO_OPERATOR_BASE_LOG_H_
#define AKROBATEO_OPERATOR_BASE_LOG_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog {
class formatter;
}

namespace akrobateo {

// `format`: "text" or "json". `verbosity`: 0 info, 1 debug, 2+ trace.
void SetupLogging(const std::string& format, int verbosity);

// The formatter SetupLogging gives the logger for `format` (exposed for tests).
std::unique_ptr<spdlog::formatter> MakeLogFormatter(const std::string& format);

// `s` as the inside of a JSON string literal (no quotes). Exposed for tests.
std::string JsonEscape(std::string_view s);

// `s` as a quoted log field value: `"` + JsonEscape(s) + `"` (non-ASCII stays UTF-8).
std::string Quote(std::string_view s);

// A log line split into its message and its `key=value` fields, in order.
struct LogLine {
  std::string msg;
  std::vector<std::pair<std::string, std::string>> fields;
};
// The message is the text before the first `key=` word. A value is either a bare word or a
// quoted string (escapes as Quote() writes them; a quote not written by Quote() ends the value
// only where a field or the line ends). Words after the fields that are no `key=` go to msg.
LogLine ParseLogLine(std::string_view line);

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_BASE_LOG_H_

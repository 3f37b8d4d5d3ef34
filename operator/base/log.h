// SPDX-License-Identifier: Apache-2.0
// Structured logging: one line per event, a message and its fields passed as values, rendered
// once in the format --log-format chose. spdlog only writes the lines (stderr, level from -v).
//
//   LogWarn("reconcile", {{"service", key}, Quoted("error", err), {"retry_in_ms", 250}});
//
// text: `2026-12-03T07:12:40.104165Z warning reconcile service=default/web error="a \"b\"" ...`
// json: `{"ts":"2026-12-03T07:12:40.104165Z","level":"warn","msg":"reconcile",
//         "service":"default/web","error":"a \"b\"",...}` (one object per line, every field a
//         string; a field named ts, level, msg or like an earlier one gets a leading `_`).
// A Quoted() field is written as a JSON string literal in the text line: use it for values that
// may hold spaces, quotes or newlines. Numbers and bools are converted once, as fmt prints them.
#ifndef AKROBATEO_OPERATOR_BASE_LOG_H_
#define AKROBATEO_OPERATOR_BASE_LOG_H_

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace akrobateo {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

// One `key=value` of a log line. The key is a literal (it is not copied).
class LogField {
 public:
  LogField(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), value_(value) {}
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  LogField(std::string_view key, T value) : key_(key), value_(Number(value)) {}

  std::string_view key() const { return key_; }
  const std::string& value() const { return value_; }
  bool quoted() const { return quoted_; }

 private:
  friend LogField Quoted(std::string_view key, std::string_view value);
  template <class T>
  static std::string Number(T v) {
    if constexpr (std::is_same_v<T, bool>) {
      return v ? "true" : "false";
    } else if constexpr (std::is_floating_point_v<T>) {
      return Format(static_cast<double>(v));
    } else if constexpr (std::is_signed_v<T>) {
      return std::to_string(static_cast<int64_t>(v));
    } else {
      return std::to_string(static_cast<uint64_t>(v));
    }
  }
  static std::string Format(double v);  // shortest round trip, as fmt's "{}"

  std::string_view key_;
  std::string value_;
  bool quoted_ = false;
};

// A field whose text form is `key="..."` (JsonEscape inside), so that it stays one field.
LogField Quoted(std::string_view key, std::string_view value);

// Logs one event through the default spdlog logger, if its level lets `level` through.
void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
inline void LogDebug(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kDebug, msg, fields);
}
inline void LogInfo(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(std::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, msg, fields);
}

// The line Log() writes for an event at `ts` (without the newline). Exposed for tests.
std::string FormatLogLine(LogFormat format, std::chrono::system_clock::time_point ts,
                          LogLevel level, std::string_view msg,
                          std::initializer_list<LogField> fields);

// `format`: "text" or "json". `verbosity`: 0 info, 1 debug, 2+ trace. Makes the default spdlog
// logger one that Log() writes to in that format, on stderr.
void SetupLogging(const std::string& format, int verbosity);

// The logger SetupLogging installs, writing to `sink` (exposed for tests). Log() with another
// default logger writes the text line's `msg key=value ...` and leaves the rest to that logger.
std::shared_ptr<spdlog::logger> MakeLogger(LogFormat format, int verbosity,
                                           std::shared_ptr<spdlog::sinks::sink> sink);

// `s` as the inside of a JSON string literal (no quotes). Exposed for tests.
std::string JsonEscape(std::string_view s);

}  // namespace akrobateo

#endif  // AKROBATEO_OPERATOR_BASE_LOG_H_

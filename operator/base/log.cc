// SPDX-License-Identifier: Apache-2.0
#include "operator/base/log.h"

#include <spdlog/fmt/fmt.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "operator/base/micro_time.h"

namespace akrobateo {
namespace {

// The logger SetupLogging installs: spdlog's, and the format Log() renders its lines in.
class FormatLogger : public spdlog::logger {
 public:
  FormatLogger(LogFormat format, spdlog::sink_ptr sink)
      : spdlog::logger("akrobateo", std::move(sink)), format_(format) {}
  LogFormat format() const { return format_; }

 private:
  const LogFormat format_;
};

spdlog::level::level_enum SpdlogLevel(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    default:
      return spdlog::level::err;
  }
}

// Level names: the text line's as spdlog spells them, the JSON line's as klog and zap do.
const char* TextLevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warning";
    default:
      return "error";
  }
}
const char* JsonLevelName(LogLevel l) {
  return l == LogLevel::kWarn ? "warn" : TextLevelName(l);
}

// `msg key=value key="quoted value" ...`
std::string TextBody(std::string_view msg, std::initializer_list<LogField> fields) {
  std::string out(msg);
  for (const LogField& f : fields) {
    out += ' ';
    out += f.key();
    out += '=';
    if (f.quoted()) {
      out += '"';
      out += JsonEscape(f.value());
      out += '"';
    } else {
      out += f.value();
    }
  }
  return out;
}

}  // namespace

std::string LogField::Format(double v) {
  return fmt::format("{}", v);
}

LogField Quoted(std::string_view key, std::string_view value) {
  LogField f(key, value);
  f.quoted_ = true;
  return f;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

std::string FormatLogLine(LogFormat format, std::chrono::system_clock::time_point ts,
                          LogLevel level, std::string_view msg,
                          std::initializer_list<LogField> fields) {
  if (format == LogFormat::kText) {
    return MicroTime(ts) + " " + TextLevelName(level) + " " + TextBody(msg, fields);
  }
  // One JSON object: ts, level, msg, then the fields in their order.
  nlohmann::ordered_json j;
  j["ts"] = MicroTime(ts);
  j["level"] = JsonLevelName(level);
  j["msg"] = msg;
  for (const LogField& f : fields) {
    // A field never replaces ts, level, msg or an earlier field of the same name.
    std::string key(f.key());
    while (j.contains(key)) key = "_" + key;
    j[key] = f.value();
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  const spdlog::level::level_enum l = SpdlogLevel(level);
  if (!logger->should_log(l)) return;
  const auto* own = dynamic_cast<const FormatLogger*>(logger);
  std::string line = own != nullptr ? FormatLogLine(own->format(), std::chrono::system_clock::now(),
                                                    level, msg, fields)
                                    : TextBody(msg, fields);
  logger->log(l, spdlog::string_view_t(line.data(), line.size()));
}

std::shared_ptr<spdlog::logger> MakeLogger(LogFormat format, int verbosity,
                                           std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<FormatLogger>(format, std::move(sink));
  // The line is whole already: the formatter only ends it.
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  logger->set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

void SetupLogging(const std::string& format, int verbosity) {
  spdlog::set_default_logger(MakeLogger(format == "json" ? LogFormat::kJson : LogFormat::kText,
                                        verbosity,
                                        std::make_shared<spdlog::sinks::stderr_sink_mt>()));
}

}  // namespace akrobateo

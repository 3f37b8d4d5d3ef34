// SPDX-License-Identifier: Apache-2.0
#include "operator/base/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "operator/base/micro_time.h"

namespace akrobateo {
namespace {

// Level names as klog and zap spell them; spdlog's trace (-v 2) is zap's debug too.
const char* LevelName(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    default:
      return "error";
  }
}

// One JSON object per line: ts, level, msg, then the line's fields, in their order.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    LogLine line = ParseLogLine(std::string_view(msg.payload.data(), msg.payload.size()));
    nlohmann::ordered_json j;
    j["ts"] = MicroTime(msg.time);
    j["level"] = LevelName(msg.level);
    j["msg"] = std::move(line.msg);
    for (auto& [k, v] : line.fields) {
      // A field never replaces ts, level, msg or an earlier field of the same name.
      std::string key = k;
      while (j.contains(key)) key = "_" + key;
      j[key] = std::move(v);
    }
    std::string out = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

bool IsKeyStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}

// The length of the `key` of a `key=` word starting at `s`, or 0.
size_t KeyAt(std::string_view s) {
  if (s.empty() || !IsKeyStart(s[0])) return 0;
  size_t i = 1;
  while (i < s.size() && IsKeyChar(s[i])) ++i;
  return i < s.size() && s[i] == '=' ? i : 0;
}

void AppendUtf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Where the quoted value starting after the opening quote at s[0] ends: the index of its
// closing quote, or npos when there is none.
size_t ClosingQuote(std::string_view s) {
  size_t last = std::string_view::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
      continue;
    }
    if (s[i] != '"') continue;
    if (i + 1 == s.size()) return i;
    if (s[i + 1] == ' ' && KeyAt(s.substr(i + 2)) > 0) return i;
    last = i;
  }
  return last;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char e = s[i + 1];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        ++i;
        break;
      case 'n':
        out.push_back('\n');
        ++i;
        break;
      case 'r':
        out.push_back('\r');
        ++i;
        break;
      case 't':
        out.push_back('\t');
        ++i;
        break;
      case 'u': {
        unsigned cp = 0;
        bool hex = i + 6 <= s.size();
        for (size_t k = i + 2; hex && k < i + 6; ++k) {
          char c = s[k];
          if (std::isxdigit(static_cast<unsigned char>(c)) == 0) hex = false;
          cp = cp * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c)) != 0
                                                   ? c - '0'
                                                   : (std::tolower(c) - 'a' + 10));
        }
        if (hex && (cp < 0xd800 || cp > 0xdfff)) {
          AppendUtf8(out, cp);
          i += 5;
        } else {
          out.push_back('\\');
        }
        break;
      }
      default:
        out.push_back('\\');  // not an escape Quote() writes: kept as it is
    }
  }
  return out;
}

}  // namespace

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

std::string Quote(std::string_view s) {
  return "\"" + JsonEscape(s) + "\"";
}

LogLine ParseLogLine(std::string_view s) {
  LogLine out;
  std::string rest;  // words after the fields that are no field
  auto add_words = [](std::string& to, std::string_view w) {
    if (w.empty()) return;
    if (!to.empty()) to.push_back(' ');
    to.append(w);
  };
  bool in_fields = false;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    std::string_view word = s.substr(i);
    size_t klen = KeyAt(word);
    if (klen == 0) {
      // A plain word: up to the next space that is followed by a `key=` word (the message
      // keeps its own spacing).
      size_t end = i;
      while (end < s.size() && !(s[end] == ' ' && KeyAt(s.substr(end + 1)) > 0)) ++end;
      std::string_view text = s.substr(i, end - i);
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
      add_words(in_fields ? rest : out.msg, text);
      i = end;
      continue;
    }
    in_fields = true;
    std::string key(word.substr(0, klen));
    size_t v = i + klen + 1;
    std::string value;
    if (v < s.size() && s[v] == '"') {
      size_t close = ClosingQuote(s.substr(v + 1));
      if (close == std::string_view::npos) {
        value = Unescape(s.substr(v + 1));
        i = s.size();
      } else {
        value = Unescape(s.substr(v + 1, close));
        i = v + 1 + close + 1;
      }
    } else {
      size_t end = s.find(' ', v);
      if (end == std::string_view::npos) end = s.size();
      value = std::string(s.substr(v, end - v));
      i = end;
    }
    out.fields.emplace_back(std::move(key), std::move(value));
  }
  add_words(out.msg, rest);
  return out;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(const std::string& format) {
  if (format == "json") return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%fZ %l %v",
                                                     spdlog::pattern_time_type::utc);
}

void SetupLogging(const std::string& format, int verbosity) {
  auto logger = std::make_shared<spdlog::logger>("akrobateo",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(MakeLogFormatter(format));
  logger->set_level(verbosity >= 2   ? spdlog::level::trace
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace akrobateo

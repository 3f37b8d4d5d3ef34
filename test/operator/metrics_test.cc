// SPDX-License-Identifier: Apache-2.0
// The /metrics exposition: the names docs/operator.md "Observability" promises, the controller
// metrics, the bind address parser, and the log lines (text and JSON) rendered from an event.
#include "operator/metrics/metrics.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "operator/base/log.h"
#include "operator/metrics/server.h"
#include "test/operator/fake_clock.h"

namespace m = akrobateo::metrics;

TEST_CASE("Every documented metric is exposed with its type") {
  m::Metrics metrics;
  metrics.ReconcileDone("success", 0.0004);
  metrics.ReconcileDone("error", 0.2);
  metrics.WatchRestarted("services");
  metrics.ApiRequest("patch", "200");
  metrics.SetManagedServices(3);
  std::string text = metrics.Render();
  for (const char* want :
       {"# TYPE akrobateo_reconcile_total counter",
        "akrobateo_reconcile_total{result=\"success\"} 1",
        "akrobateo_reconcile_total{result=\"error\"} 1",
        "# TYPE akrobateo_reconcile_duration_seconds histogram",
        "akrobateo_reconcile_duration_seconds_bucket{le=\"0.0005\"} 1",
        "akrobateo_reconcile_duration_seconds_bucket{le=\"+Inf\"} 2",
        "akrobateo_reconcile_duration_seconds_count 2", "akrobateo_managed_services 3",
        "akrobateo_watch_restarts_total{resource=\"services\"} 1",
        "akrobateo_api_requests_total{verb=\"patch\",code=\"200\"} 1",
        "# TYPE process_resident_memory_bytes gauge", "process_cpu_seconds_total "}) {
    CHECK_MESSAGE(text.find(want) != std::string::npos, want);
  }
  CHECK(m::ResidentMemoryBytes() > 0);
}

TEST_CASE("akrobateo_build_info names the CMake project version and the git revision") {
  std::string text = m::Metrics().Render();
  CHECK(text.find("# TYPE akrobateo_build_info gauge\n") != std::string::npos);
  std::string want = std::string("\nakrobateo_build_info{version=\"") + AKROBATEO_TEST_VERSION +
                     "\",revision=\"" + AKROBATEO_TEST_REVISION + "\"} 1\n";
  CHECK_MESSAGE(text.find(want) != std::string::npos, want);
}

TEST_CASE("Bind addresses") {
  CHECK(m::ParseBindAddress(":8080")->host == "0.0.0.0");
  CHECK(m::ParseBindAddress(":8080")->port == 8080);
  CHECK(m::ParseBindAddress("127.0.0.1:9090")->host == "127.0.0.1");
  CHECK(m::ParseBindAddress("[::1]:8081")->host == "::1");
  CHECK(m::ParseBindAddress("0")->port == 0);
  for (const char* bad : {"8080", ":0", ":99999", "host:", ":http"}) {
    auto r = m::ParseBindAddress(bad);
    CHECK_MESSAGE(!r.ok(), bad);
  }
}

TEST_CASE("JSON log escaping") {
  CHECK(akrobateo::JsonEscape("a \"b\"\n\\") == "a \\\"b\\\"\\n\\\\");
  CHECK(akrobateo::JsonEscape(std::string("\x01", 1)) == "\\u0001");
}

namespace {

// The value of the sample whose name and labels are exactly `series`, or -1.
double Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

bool Has(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("API request latency: a histogram by verb; watches are not timed") {
  m::Metrics metrics;
  metrics.ApiRequestDone("get", 0.003);
  metrics.ApiRequestDone("get", 0.2);
  metrics.ApiRequestDone("patch", 40);  // beyond the last bucket
  std::string text = metrics.Render();
  CHECK(Has(text, "# TYPE akrobateo_api_request_duration_seconds histogram"));
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_bucket{verb=\"get\",le=\"0.0025\"}") ==
        0);
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_bucket{verb=\"get\",le=\"0.005\"}") ==
        1);
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_bucket{verb=\"get\",le=\"+Inf\"}") ==
        2);
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_count{verb=\"get\"}") == 2);
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_sum{verb=\"get\"}") ==
        doctest::Approx(0.203));
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_bucket{verb=\"patch\",le=\"30\"}") ==
        0);
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_count{verb=\"patch\"}") == 1);
  CHECK(text.find("verb=\"watch\"") == std::string::npos);

  {
    akrobateo::testing::FakeClock clock;
    m::ApiRequestTimer t(&metrics, "delete", &clock);
    clock.Step(std::chrono::milliseconds(20));
  }
  { m::ApiRequestTimer no_metrics(nullptr, "get"); }  // no registry: nothing, no crash
  text = metrics.Render();
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_count{verb=\"delete\"}") == 1);
  CHECK(Sample(text, "akrobateo_api_request_duration_seconds_sum{verb=\"delete\"}") ==
        doctest::Approx(0.02));
  CHECK(Sample(text,
               "akrobateo_api_request_duration_seconds_bucket{verb=\"delete\",le=\"0.01\"}") == 0);
}

TEST_CASE("process_start_time_seconds is this process's start, in seconds since the epoch") {
  m::Metrics metrics;
  std::string text = metrics.Render();
  CHECK(Has(text, "# TYPE process_start_time_seconds gauge"));
  double start = Sample(text, "process_start_time_seconds");
  double now = static_cast<double>(std::time(nullptr));
  CHECK(start > now - 600);  // the test binary started moments ago
  CHECK(start <= now + 1);
  CHECK(start == doctest::Approx(m::ProcessStartTimeSeconds()).epsilon(1e-9));
}

TEST_CASE("The documented metrics keep their names and types next to the new ones") {
  std::string text = m::Metrics().Render();
  for (const char* want :
       {"# TYPE akrobateo_reconcile_total counter",
        "# TYPE akrobateo_reconcile_duration_seconds histogram",
        "# TYPE akrobateo_managed_services gauge", "# TYPE akrobateo_watch_restarts_total counter",
        "# TYPE akrobateo_api_requests_total counter", "# TYPE process_resident_memory_bytes gauge",
        "# TYPE akrobateo_workqueue_depth gauge", "# TYPE akrobateo_workqueue_adds_total counter",
        "# TYPE akrobateo_workqueue_retries_total counter",
        "# TYPE akrobateo_workqueue_queue_duration_seconds histogram",
        "# TYPE akrobateo_workqueue_work_duration_seconds histogram", "akrobateo_workqueue_depth 0",
        "akrobateo_workqueue_adds_total 0", "akrobateo_workqueue_retries_total 0",
        "akrobateo_workqueue_queue_duration_seconds_count 0"}) {
    CHECK_MESSAGE(Has(text, want), want);
  }
  // Every sample line is `name[{labels}] value`, and no name has two TYPE lines.
  std::istringstream in(text);
  std::string line;
  std::set<std::string> typed;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK_MESSAGE(typed.insert(name).second, name);
    }
    if (line.empty() || line[0] == '#') continue;
    CHECK_MESSAGE(line.find(' ') != std::string::npos, line);
  }
  CHECK(typed.size() >= 15);
}

// --- logs ----------------------------------------------------------------------------------

namespace {

using akrobateo::LogFormat;
using akrobateo::LogLevel;

// 2026-12-03T07:12:40.104165Z
std::chrono::system_clock::time_point SampleTime() {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 11;
  tm.tm_mday = 3;
  tm.tm_hour = 7;
  tm.tm_min = 12;
  tm.tm_sec = 40;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::microseconds(104165);
}

// The text and the JSON line of one event.
std::pair<std::string, std::string> Lines(LogLevel level, std::string_view msg,
                                          std::initializer_list<akrobateo::LogField> fields) {
  return {akrobateo::FormatLogLine(LogFormat::kText, SampleTime(), level, msg, fields),
          akrobateo::FormatLogLine(LogFormat::kJson, SampleTime(), level, msg, fields)};
}

}  // namespace

TEST_CASE("Log lines: the text and the JSON line of one event") {
  auto [text, json] = Lines(LogLevel::kWarn, "event",
                            {{"service", "default/web"},
                             {"type", "Warning"},
                             {"reason", "PortConflict"},
                             akrobateo::Quoted("note", "tcp/80 is held by \"default/a\"")});
  CHECK(text ==
        "2026-12-03T07:12:40.104165Z warning event service=default/web type=Warning "
        "reason=PortConflict note=\"tcp/80 is held by \\\"default/a\\\"\"");
  CHECK(json ==
        "{\"ts\":\"2026-12-03T07:12:40.104165Z\",\"level\":\"warn\",\"msg\":\"event\","
        "\"service\":\"default/web\",\"type\":\"Warning\",\"reason\":\"PortConflict\","
        "\"note\":\"tcp/80 is held by \\\"default/a\\\"\"}");

  // No fields; the level names: spdlog's in the text line, klog's and zap's in the JSON one.
  std::tie(text, json) =
      Lines(LogLevel::kInfo, "leader election disabled; this instance writes", {});
  CHECK(text == "2026-12-03T07:12:40.104165Z info leader election disabled; this instance writes");
  CHECK(json ==
        "{\"ts\":\"2026-12-03T07:12:40.104165Z\",\"level\":\"info\","
        "\"msg\":\"leader election disabled; this instance writes\"}");
  const std::pair<LogLevel, std::pair<const char*, const char*>> levels[] = {
      {LogLevel::kDebug, {"debug", "debug"}},
      {LogLevel::kInfo, {"info", "info"}},
      {LogLevel::kWarn, {"warning", "warn"}},
      {LogLevel::kError, {"error", "error"}}};
  for (const auto& [level, names] : levels) {
    std::tie(text, json) = Lines(level, "x", {});
    CHECK(text.substr(27) == std::string(" ") + names.first + " x");
    CHECK(nlohmann::json::parse(json)["level"] == names.second);
  }
}

TEST_CASE("Log lines: numbers and bools are converted once, as fmt prints them") {
  auto [text, json] = Lines(LogLevel::kInfo, "n",
                            {{"int", -3},
                             {"size", size_t{42}},
                             {"ms", std::chrono::milliseconds(15000).count()},
                             {"qps", 20.0},
                             {"half", 0.5},
                             {"yes", true},
                             {"no", false}});
  CHECK(text.substr(27) == " info n int=-3 size=42 ms=15000 qps=20 half=0.5 yes=true no=false");
  nlohmann::json j = nlohmann::json::parse(json);
  CHECK(j["int"] == "-3");
  CHECK(j["qps"] == "20");
  CHECK(j["half"] == "0.5");
  CHECK(j["yes"] == "true");
  CHECK(j.size() == 10);
}

TEST_CASE("Log lines: quotes, backslashes, newlines, control and non-ASCII characters") {
  const std::string nasty =
      "say \"hi\"\\n\nline two\ttab \x01 caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80";
  auto [text, json] = Lines(LogLevel::kWarn, "reconcile",
                            {{"service", "default/x"},
                             akrobateo::Quoted("error", nasty),
                             akrobateo::Quoted("after", ""),
                             {"bare", ""},
                             {"spaced", "a b"}});
  // The text line: the quoted values as JSON string literals (non-ASCII stays UTF-8), the
  // others as they are.
  CHECK(text.substr(27) ==
        " warning reconcile service=default/x error=\"say \\\"hi\\\"\\\\n\\nline two\\ttab "
        "\\u0001 caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80\" after=\"\" bare= spaced=a b");
  // One line each, whatever the values held.
  CHECK(text.find('\n') == std::string::npos);
  CHECK(json.find('\n') == std::string::npos);
  // The JSON line: every value exactly, quoted in the text line or not.
  nlohmann::json j = nlohmann::json::parse(json);
  CHECK(j["msg"] == "reconcile");
  CHECK(j["service"] == "default/x");
  CHECK(j["error"] == nasty);
  CHECK(j["after"] == "");
  CHECK(j["bare"] == "");
  CHECK(j["spaced"] == "a b");
  CHECK(json.find("caf\xc3\xa9") != std::string::npos);
  CHECK(json.find("\\u0001") != std::string::npos);

  // Bytes that are not UTF-8 do not break the JSON line.
  std::tie(text, json) = Lines(LogLevel::kInfo, "x", {{"v", "\xff\xfe"}});
  CHECK(text.substr(27) == " info x v=\xff\xfe");
  CHECK(nlohmann::json::parse(json)["v"] == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("Log lines: a field named like ts, level, msg or an earlier field") {
  auto [text, json] =
      Lines(LogLevel::kInfo, "hello", {{"msg", "other"}, {"level", 9}, {"a", 1}, {"a", 2}});
  CHECK(text.substr(27) == " info hello msg=other level=9 a=1 a=2");
  CHECK(json ==
        "{\"ts\":\"2026-12-03T07:12:40.104165Z\",\"level\":\"info\",\"msg\":\"hello\","
        "\"_msg\":\"other\",\"_level\":\"9\",\"a\":\"1\",\"_a\":\"2\"}");
}

TEST_CASE("Log() writes one line through the default logger, at its level") {
  std::shared_ptr<spdlog::logger> saved = spdlog::default_logger();
  auto logged = [](LogFormat format, int verbosity) {
    std::ostringstream out;
    spdlog::set_default_logger(akrobateo::MakeLogger(
        format, verbosity, std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
    akrobateo::LogInfo("watch started", {{"resource", "services"}, {"resourceVersion", 42}});
    akrobateo::LogDebug("watch ended", {{"resource", "pods"}, {"events", 3}});
    akrobateo::Log(LogLevel::kError, "serve", {akrobateo::Quoted("error", "a \"b\"")});
    return out.str();
  };
  std::string text = logged(LogFormat::kText, 0);
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 2);  // -v 0: no debug line
  REQUIRE(lines[0].size() > 27);
  CHECK(lines[0][26] == 'Z');
  CHECK(lines[0].substr(27) == " info watch started resource=services resourceVersion=42");
  CHECK(lines[1].substr(27) == " error serve error=\"a \\\"b\\\"\"");

  std::string json = logged(LogFormat::kJson, 1);
  in = std::istringstream(json);
  std::vector<nlohmann::json> objects;
  for (std::string line; std::getline(in, line);) objects.push_back(nlohmann::json::parse(line));
  REQUIRE(objects.size() == 3);  // -v 1: the debug line too
  CHECK(objects[0]["msg"] == "watch started");
  CHECK(objects[0]["resourceVersion"] == "42");
  CHECK(objects[1]["level"] == "debug");
  CHECK(objects[1]["events"] == "3");
  CHECK(objects[2]["error"] == "a \"b\"");
  // ts: RFC 3339 UTC with microseconds, as the text line's.
  std::string ts = objects[0]["ts"];
  REQUIRE(ts.size() == 27);
  std::tm tm{};
  CHECK(strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == ts.c_str() + 19);
  CHECK(json.rfind("{\"ts\":\"", 0) == 0);

  // Another default logger (SetupLogging not called): the text line's message and fields,
  // that logger's own prefix.
  std::ostringstream other;
  auto plain = std::make_shared<spdlog::logger>(
      "plain", std::make_shared<spdlog::sinks::ostream_sink_mt>(other));
  plain->set_pattern("[%l] %v");
  spdlog::set_default_logger(plain);
  akrobateo::LogWarn("event", {akrobateo::Quoted("note", "a b")});
  CHECK(other.str() == "[warning] event note=\"a b\"\n");
  spdlog::set_default_logger(saved);
}

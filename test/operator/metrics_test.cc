// SPDX-License-Identifier: Apache-2.0
// The /metrics exposition: the names docs/operator.md "Observability" promises, the controller
// metrics, the bind address parser, log escaping and the JSON log format.
#include "operator/metrics/metrics.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

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

// What `emit` logs through the formatter of `format`, as text.
template <class F>
std::string Logged(const std::string& format, F emit) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("test", sink);
  logger.set_formatter(akrobateo::MakeLogFormatter(format));
  logger.set_level(spdlog::level::trace);
  emit(logger);
  logger.flush();
  return out.str();
}

}  // namespace

TEST_CASE("JSON logs: one object per line, the fields as members") {
  std::string out = Logged("json", [](spdlog::logger& l) {
    l.info("watch started resource={} resourceVersion={}", "services", 42);
    l.warn("event service={}/{} type={} reason={} note={}", "default", "web", "Warning",
           "PortConflict", akrobateo::Quote("tcp/80 is held by \"default/a\""));
    l.debug("watch ended resource=pods events=3");
    l.trace("trace line");
    l.error("leader election disabled; this instance writes");
  });
  std::istringstream in(out);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 5);

  const nlohmann::json& first = lines[0];
  CHECK(first["level"] == "info");
  CHECK(first["msg"] == "watch started");
  CHECK(first["resource"] == "services");
  CHECK(first["resourceVersion"] == "42");
  CHECK(first.size() == 5);
  // ts: RFC 3339 UTC with microseconds, e.g. 2026-12-03T07:12:40.104165Z
  std::string ts = first["ts"];
  REQUIRE(ts.size() == 27);
  CHECK(ts[4] == '-');
  CHECK(ts[10] == 'T');
  CHECK(ts[19] == '.');
  CHECK(ts.back() == 'Z');
  std::tm tm{};
  CHECK(strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == ts.c_str() + 19);
  // ts, level and msg lead, in that order.
  std::string raw = out.substr(0, out.find('\n'));
  CHECK(raw.rfind("{\"ts\":\"", 0) == 0);
  CHECK(raw.find("\"level\"") < raw.find("\"msg\""));

  CHECK(lines[1]["level"] == "warn");
  CHECK(lines[1]["msg"] == "event");
  CHECK(lines[1]["service"] == "default/web");
  CHECK(lines[1]["type"] == "Warning");
  CHECK(lines[1]["reason"] == "PortConflict");
  CHECK(lines[1]["note"] == "tcp/80 is held by \"default/a\"");
  CHECK(lines[2]["level"] == "debug");
  CHECK(lines[2]["events"] == "3");
  CHECK(lines[3]["level"] == "debug");
  CHECK(lines[4]["level"] == "error");
  CHECK(lines[4]["msg"] == "leader election disabled; this instance writes");
}

TEST_CASE("JSON logs: quotes, backslashes, newlines, control and non-ASCII characters round-trip") {
  const std::string nasty =
      "say \"hi\"\\n\nline two\ttab \x01 caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80";
  std::string out = Logged("json", [&](spdlog::logger& l) {
    l.warn("reconcile service={} error={} after={}", "default/x", akrobateo::Quote(nasty),
           akrobateo::Quote(""));
  });
  // One line, whatever the value held.
  CHECK(out.find('\n') == out.size() - 1);
  nlohmann::json j = nlohmann::json::parse(out);
  CHECK(j["msg"] == "reconcile");
  CHECK(j["service"] == "default/x");
  CHECK(j["error"] == nasty);
  CHECK(j["after"] == "");
  // Non-ASCII stays UTF-8 in the line itself.
  CHECK(out.find("caf\xc3\xa9") != std::string::npos);

  // Bytes that are not UTF-8 do not break the line.
  std::string bad = Logged("json", [](spdlog::logger& l) { l.info("x v={}", "\xff\xfe"); });
  CHECK(nlohmann::json::parse(bad)["msg"] == "x");
}

TEST_CASE("JSON logs: fields that were not written with Quote()") {
  // A quoted value holding unescaped quotes ends where the next field or the line ends.
  auto l = akrobateo::ParseLogLine(
      "lease get failed error=\"Operation cannot be fulfilled on leases \"x\": conflict\" ok=1");
  CHECK(l.msg == "lease get failed");
  REQUIRE(l.fields.size() == 2);
  CHECK(l.fields[0].second == "Operation cannot be fulfilled on leases \"x\": conflict");
  CHECK(l.fields[1] == std::pair<std::string, std::string>{"ok", "1"});
  // A bare value runs to the next space and may hold '='; words after the fields join msg.
  l = akrobateo::ParseLogLine("starting server=https://h:6443/x?a=b config=\"a b\" trailing words");
  CHECK(l.msg == "starting trailing words");
  REQUIRE(l.fields.size() == 2);
  CHECK(l.fields[0].second == "https://h:6443/x?a=b");
  CHECK(l.fields[1].second == "a b");
  // No field at all, and an unterminated quote.
  CHECK(akrobateo::ParseLogLine("caches synced").msg == "caches synced");
  CHECK(akrobateo::ParseLogLine("caches synced").fields.empty());
  l = akrobateo::ParseLogLine("x e=\"open");
  CHECK(l.fields.at(0).second == "open");
  // A field named like ts, level or msg does not replace them.
  std::string out = Logged("json", [](spdlog::logger& lg) { lg.info("hello msg=other level=9"); });
  nlohmann::json j = nlohmann::json::parse(out);
  CHECK(j["msg"] == "hello");
  CHECK(j["level"] == "info");
  CHECK(j["_msg"] == "other");
  CHECK(j["_level"] == "9");
}

TEST_CASE("Text logs stay `<ts> <level> <msg key=value ...>`") {
  std::string out = Logged("text", [](spdlog::logger& l) {
    l.info("watch started resource={}", "services");
    l.warn("event service=default/web note={}", akrobateo::Quote("a \"b\""));
  });
  std::istringstream in(out);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  REQUIRE(first.size() > 28);
  CHECK(first[26] == 'Z');
  CHECK(first.substr(27) == " info watch started resource=services");
  CHECK(second.substr(27) == " warning event service=default/web note=\"a \\\"b\\\"\"");
}

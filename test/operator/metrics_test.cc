// SPDX-License-Identifier: Apache-2.0
// The /metrics exposition names SPEC fixes, the bind address parser, log escaping.
#include "operator/metrics/metrics.h"

#include <doctest/doctest.h>

#include "operator/base/log.h"
#include "operator/metrics/server.h"

namespace m = akrobateo::metrics;

TEST_CASE("Every SPEC metric is exposed with its type") {
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

// SPDX-License-Identifier: Apache-2.0
// The client pieces that need no API server: kubeconfig parsing, TLS verification and the
// watch protocol against loopback HTTP servers started by the test, rate limiter, backoff.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include "operator/api/decode.h"
#include "operator/cache/informer.h"
#include "operator/kube/backoff.h"
#include "operator/kube/client.h"
#include "operator/kube/config.h"
#include "operator/kube/rate_limiter.h"
#include "operator/kube/rest_typed_client.h"
#include "operator/kube/watch.h"
#include "test/operator/fake_clock.h"
#include "test/operator/testdata.h"
#include "test/operator/tls_util.h"

namespace kube = akrobateo::kube;
namespace api = akrobateo::api;
using namespace std::chrono_literals;

namespace {

// A temporary directory removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/akrobateo-op-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

// An httplib server on 127.0.0.1 (any port) serving on a thread, stopped by the destructor.
template <class S>
struct Serving {
  std::unique_ptr<S> server;
  std::thread thread;
  int port = 0;
  explicit Serving(std::unique_ptr<S> s) : server(std::move(s)) {
    port = server->bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server->listen_after_bind(); });
  }
  ~Serving() {
    server->stop();
    thread.join();
  }
};

// An httplib TLS server presenting `tls`.
std::unique_ptr<httplib::SSLServer> SslServer(const akrobateo::testing::SelfSigned& tls) {
  BIO* cb = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
  BIO* kb = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO_free(kb);
  auto ssl = std::make_unique<httplib::SSLServer>(cert, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ssl;
}

// A kubeconfig with one context "t" -> cluster "c", user "u", and extra YAML in each.
std::string OneContext(const std::string& cluster_extra, const std::string& user_extra) {
  return "current-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
         "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'" +
         cluster_extra + "}}]\nusers: [{name: u, user: {token: x" + user_extra + "}}]\n";
}

}  // namespace

TEST_CASE("Server URLs") {
  struct Case {
    const char* url;
    const char* host;
    int port;
  };
  for (const Case& c : {Case{"https://127.0.0.1:6443", "127.0.0.1", 6443},
                        Case{"https://kubernetes.default.svc", "kubernetes.default.svc", 443},
                        Case{"https://[::1]:16443/", "::1", 16443},
                        Case{"http://localhost:8080", "localhost", 8080}}) {
    auto r = kube::ParseServer(c.url);
    REQUIRE_MESSAGE(r.ok(), r.error());
    CHECK(r->host == c.host);
    CHECK(r->port == c.port);
  }
  for (const char* bad : {"127.0.0.1:6443", "ftp://x", "https://", "https://h:0", "https://h:x",
                          "https://[::1", "https://h/prefix"}) {
    auto r = kube::ParseServer(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    CHECK(r.error().find('"') != std::string::npos);  // names the bad value
  }
}

TEST_CASE("Kubeconfig: CA data, client cert files relative to the kubeconfig, token") {
  TempDir dir;
  auto ca = akrobateo::testing::MakeSelfSigned("ca");
  auto client = akrobateo::testing::MakeSelfSigned("admin");
  dir.Write("client.crt", client.cert_pem);
  dir.Write("client.key", client.key_pem);
  std::string path = dir.Write("kubeconfig", R"(apiVersion: v1
kind: Config
current-context: test
contexts:
- name: other
  context: {cluster: nowhere, user: nobody}
- name: test
  context: {cluster: local, user: admin, namespace: team}
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:16443
    certificate-authority-data: )" + akrobateo::testing::Base64Encode(ca.cert_pem) +
                                                 R"(
users:
- name: admin
  user:
    client-certificate: client.crt
    client-key: client.key
    token: abc123
)");
  auto cfg = kube::LoadKubeconfig(path);
  REQUIRE_MESSAGE(cfg.ok(), cfg.error());
  CHECK(cfg->host == "127.0.0.1");
  CHECK(cfg->port == 16443);
  CHECK(cfg->ca_pem == ca.cert_pem);
  CHECK(cfg->client_cert_pem == client.cert_pem);
  CHECK(cfg->client_key_pem == client.key_pem);
  CHECK(cfg->token == "abc123");
  auto c = kube::Client::Create(*cfg, 10, 10, nullptr);
  CHECK_MESSAGE(c.ok(), c.error());
}

TEST_CASE("Kubeconfig errors name the problem") {
  TempDir dir;
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c :
       {Case{"current-context: x\n", "context \"x\" missing"}, Case{"{}", "no current-context"},
        Case{"current-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
             "clusters: [{name: c, cluster: {server: 'https://h:1', insecure-skip-tls-verify: "
             "true}}]\n",
             "insecure-skip-tls-verify"},
        Case{"current-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
             "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority: "
             "nope.crt}}]\n",
             "nope.crt"},
        Case{"current-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
             "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority-data: "
             "'@@@'}}]\n",
             "base64"},
        Case{"[unclosed", "kubeconfig"}}) {
    CAPTURE(c.text);
    auto r = kube::LoadKubeconfig(dir.Write("kc", c.text));
    CHECK(!r.ok());
    CHECK_MESSAGE(r.error().find(c.message) != std::string::npos, r.error());
  }
  CHECK(!kube::LoadKubeconfig((dir.path / "missing").string()).ok());
  kube::Config bad_ca;
  bad_ca.scheme = "https";
  bad_ca.host = "127.0.0.1";
  bad_ca.ca_pem = "not a certificate";
  auto c = kube::Client::Create(bad_ca, 1, 1, nullptr);
  CHECK(!c.ok());
}

TEST_CASE(
    "Kubeconfig features this client does not implement are refused, naming field and entry") {
  TempDir dir;
  struct Case {
    std::string cluster_extra, user_extra, field, entry;
  };
  for (const Case& c : {
           Case{"", ", exec: {apiVersion: client.authentication.k8s.io/v1, command: gke-auth}",
                "uses exec", "user \"u\""},
           Case{"", ", auth-provider: {name: oidc, config: {idp-issuer-url: 'https://x'}}",
                "uses auth-provider", "user \"u\""},
           Case{", proxy-url: 'http://proxy:3128'", "", "sets proxy-url", "cluster \"c\""},
           Case{"", ", username: admin, password: secret", "uses username", "user \"u\""},
           Case{"", ", as: system:admin", "uses as", "user \"u\""},
       }) {
    std::string path = dir.Write("kc", OneContext(c.cluster_extra, c.user_extra));
    CAPTURE(c.field);
    auto r = kube::LoadKubeconfig(path);
    REQUIRE(!r.ok());
    CHECK_MESSAGE(r.error().find(c.field) != std::string::npos, r.error());
    CHECK_MESSAGE(r.error().find(c.entry) != std::string::npos, r.error());
    CHECK_MESSAGE(r.error().find(path) != std::string::npos, r.error());
  }
  // `exec: null` is no exec; entries the current context does not use are not looked at.
  CHECK(kube::LoadKubeconfig(dir.Write("kc", OneContext("", ", exec: null"))).ok());
  CHECK(kube::LoadKubeconfig(
            dir.Write("kc",
                      "current-context: t\n"
                      "contexts: [{name: t, context: {cluster: c, user: u}}]\n"
                      "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
                      "users: [{name: u, user: {token: x}}, {name: other, user: {exec: "
                      "{command: x}}}]\n"))
            .ok());
}

TEST_CASE("$KUBECONFIG lists are merged as kubectl merges them") {
  TempDir dir;
  std::filesystem::create_directory(dir.path / "b");
  std::string a = dir.Write("a", R"(current-context: from-a
contexts:
- {name: from-b, context: {cluster: c1, user: u1}}
clusters:
- {name: c1, cluster: {server: 'https://a.example:1'}}
users:
- {name: u1, user: {token: token-a}}
)");
  std::string b = dir.Write("b/config", R"(current-context: from-b
contexts:
- {name: from-a, context: {cluster: c2, user: u2, namespace: ns-b}}
- {name: from-b, context: {cluster: c2, user: u2}}
clusters:
- {name: c1, cluster: {server: 'https://b.example:2'}}
- {name: c2, cluster: {server: 'https://b.example:3', tls-server-name: api.internal}}
users:
- {name: u1, user: {token: token-b}}
- {name: u2, user: {tokenFile: token}}
)");
  std::string missing = (dir.path / "missing").string();
  // current-context from a (the first that sets one); context from-a only in b; c2 and u2 from
  // b, with b's relative tokenFile resolved against b's directory; the missing file skipped.
  auto r = kube::LoadKubeconfigList(missing + ":" + a + "::" + b);
  REQUIRE_MESSAGE(r.ok(), r.error());
  CHECK(r->host == "b.example");
  CHECK(r->port == 3);
  CHECK(r->tls_server_name == "api.internal");
  CHECK(r->token_file == (dir.path / "b" / "token").string());
  CHECK(r->source.find(a) != std::string::npos);
  // The other order: b's current-context and b's entries win.
  r = kube::LoadKubeconfigList(b + ":" + a);
  REQUIRE_MESSAGE(r.ok(), r.error());
  CHECK(r->host == "b.example");
  CHECK(r->port == 3);
  // A context of b whose cluster and user a defines first: a's entries win.
  std::string c = dir.Write("c", "current-context: from-b\n");
  r = kube::LoadKubeconfigList(c + ":" + a + ":" + b);
  REQUIRE_MESSAGE(r.ok(), r.error());
  CHECK(r->host == "a.example");
  CHECK(r->token == "token-a");
  // Nothing there at all.
  auto none = kube::LoadKubeconfigList(missing + ":" + missing + "2");
  REQUIRE(!none.ok());
  CHECK_MESSAGE(none.error().find("none of its files exists") != std::string::npos, none.error());
  // A file of the list that is there but broken is an error, naming it.
  std::string broken = dir.Write("broken", "[unclosed");
  auto bad = kube::LoadKubeconfigList(a + ":" + broken);
  REQUIRE(!bad.ok());
  CHECK_MESSAGE(bad.error().find(broken) != std::string::npos, bad.error());
}

TEST_CASE(
    "tls-server-name: the certificate is verified for that name, the address is the server's") {
  auto tls = akrobateo::testing::MakeSelfSigned("apiserver", "DNS:apiserver.example");
  auto ssl = SslServer(tls);
  std::string host_header;
  ssl->Get("/version", [&](const httplib::Request& req, httplib::Response& res) {
    host_header = req.get_header_value("Host");
    res.set_content(R"({"major":"1"})", "application/json");
  });
  Serving<httplib::SSLServer> serving(std::move(ssl));
  TempDir dir;
  std::string kc = dir.Write(
      "kc",
      "current-context: t\ncontexts: [{name: t, context: {cluster: c, user: u}}]\n"
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:" +
          std::to_string(serving.port) + "', tls-server-name: apiserver.example, " +
          "certificate-authority-data: " + akrobateo::testing::Base64Encode(tls.cert_pem) +
          "}}]\nusers: [{name: u, user: {token: x}}]\n");
  auto cfg = kube::LoadKubeconfig(kc);
  REQUIRE_MESSAGE(cfg.ok(), cfg.error());
  CHECK(cfg->tls_server_name == "apiserver.example");
  auto client = kube::Client::Create(*cfg, 100, 100, nullptr);
  REQUIRE(client.ok());
  kube::Response r = client.value()->Request("get", "GET", "/version");
  CHECK_MESSAGE(r.status == 200, r.Describe());
  CHECK(host_header == "127.0.0.1:" + std::to_string(serving.port));
  // Without it, the certificate (no IP 127.0.0.1 in it) does not verify.
  kube::Config plain = *cfg;
  plain.tls_server_name.clear();
  auto other = kube::Client::Create(plain, 100, 100, nullptr);
  REQUIRE(other.ok());
  CHECK(other.value()->Request("get", "GET", "/version").status == 0);
}

TEST_CASE("TLS is verified: the right CA connects and sends the token, another CA fails") {
  auto server_tls = akrobateo::testing::MakeSelfSigned("apiserver");
  auto ssl = SslServer(server_tls);
  std::atomic<int> authorized{0};
  std::string user_agent;
  ssl->Get("/api/v1/nodes", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == "Bearer s3cret") ++authorized;
    user_agent = req.get_header_value("User-Agent");
    res.set_content(R"({"kind":"NodeList","items":[]})", "application/json");
  });
  Serving<httplib::SSLServer> serving(std::move(ssl));

  akrobateo::metrics::Metrics metrics;
  kube::Config cfg;
  cfg.scheme = "https";
  cfg.host = "127.0.0.1";
  cfg.port = serving.port;
  cfg.token = "s3cret";
  cfg.ca_pem = server_tls.cert_pem;
  auto good = kube::Client::Create(cfg, 100, 100, &metrics);
  REQUIRE(good.ok());
  kube::Response r = good.value()->Request("list", "GET", "/api/v1/nodes");
  CHECK_MESSAGE(r.status == 200, r.Describe());
  CHECK(authorized == 1);
  CHECK(metrics.ApiRequestCount("list", "200") == 1);
  // The User-Agent names the operator, the CMake project version and the git revision.
  std::string want_ua = std::string("akrobateo-operator/") + AKROBATEO_TEST_VERSION;
  if (std::string(AKROBATEO_TEST_REVISION) != "") want_ua += " (" AKROBATEO_TEST_REVISION ")";
  CHECK(user_agent == want_ua);
  CHECK(kube::UserAgent() == want_ua);

  cfg.ca_pem = akrobateo::testing::MakeSelfSigned("someone-else").cert_pem;
  auto bad = kube::Client::Create(cfg, 100, 100, &metrics);
  REQUIRE(bad.ok());
  kube::Response r2 = bad.value()->Request("list", "GET", "/api/v1/nodes");
  CHECK(r2.status == 0);
  CHECK(authorized == 1);
  CHECK(metrics.ApiRequestCount("list", "error") == 1);
}

TEST_CASE("Request errors name the request, the step and the cause") {
  // A port nothing listens on.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(bind(probe, reinterpret_cast<sockaddr*>(&a), len) == 0);
  REQUIRE(getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  int closed_port = ntohs(a.sin_port);
  close(probe);

  kube::Config cfg;
  cfg.scheme = "https";
  cfg.host = "127.0.0.1";
  cfg.port = closed_port;
  auto client = kube::Client::Create(cfg, 100, 100, nullptr);
  REQUIRE(client.ok());
  kube::Response r = client.value()->Request("list", "GET", "/api/v1/services");
  CHECK(r.status == 0);
  CHECK(r.Describe() == "GET https://127.0.0.1:" + std::to_string(closed_port) +
                            "/api/v1/services: connect: Connection refused");

  // A TLS server whose self-signed certificate is not the CA the client trusts.
  auto server_tls = akrobateo::testing::MakeSelfSigned("apiserver");
  auto ssl = SslServer(server_tls);
  ssl->Get("/api/v1/nodes", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  ssl->Get("/api/v1/namespaces/x/services/y", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"kind":"Status","message":"services \"y\" not found"})",
                    "application/json");
  });
  Serving<httplib::SSLServer> serving(std::move(ssl));
  std::string base = "https://127.0.0.1:" + std::to_string(serving.port);
  cfg.port = serving.port;
  cfg.ca_pem = akrobateo::testing::MakeSelfSigned("another-ca").cert_pem;
  auto untrusting = kube::Client::Create(cfg, 100, 100, nullptr);
  REQUIRE(untrusting.ok());
  r = untrusting.value()->Request("list", "GET", "/api/v1/nodes");
  CHECK(r.Describe() ==
        "GET " + base + "/api/v1/nodes: TLS: certificate verify failed: self-signed certificate");

  // The right CA, but a certificate for another name.
  auto named_tls = akrobateo::testing::MakeSelfSigned("apiserver", "DNS:apiserver.example");
  auto named = SslServer(named_tls);
  named->Get("/api/v1/nodes", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  Serving<httplib::SSLServer> named_serving(std::move(named));
  kube::Config ncfg = cfg;
  ncfg.port = named_serving.port;
  ncfg.ca_pem = named_tls.cert_pem;
  auto mismatch = kube::Client::Create(ncfg, 100, 100, nullptr);
  REQUIRE(mismatch.ok());
  r = mismatch.value()->Request("list", "GET", "/api/v1/nodes");
  CHECK_MESSAGE(r.Describe().find(": TLS: certificate verify failed: the certificate is not "
                                  "valid for 127.0.0.1") != std::string::npos,
                r.Describe());

  // An HTTP error names the request and quotes the Status message.
  cfg.ca_pem = server_tls.cert_pem;
  auto trusting = kube::Client::Create(cfg, 100, 100, nullptr);
  REQUIRE(trusting.ok());
  r = trusting.value()->Request("get", "GET", "/api/v1/namespaces/x/services/y");
  CHECK(r.Describe() == "GET " + base +
                            "/api/v1/namespaces/x/services/y: HTTP 404: services "
                            "\"y\" not found");

  // TLS spoken to a plain HTTP server: the handshake fails, with OpenSSL's reason.
  auto plain = std::make_unique<httplib::Server>();
  Serving<httplib::Server> plain_serving(std::move(plain));
  cfg.port = plain_serving.port;
  auto confused = kube::Client::Create(cfg, 100, 100, nullptr);
  REQUIRE(confused.ok());
  r = confused.value()->Request("list", "GET", "/api/v1/nodes");
  CHECK_MESSAGE(r.Describe().rfind("GET https://127.0.0.1:" + std::to_string(plain_serving.port) +
                                       "/api/v1/nodes: TLS handshake: ",
                                   0) == 0,
                r.Describe());
  CHECK_MESSAGE(r.Describe().find("wrong version number") != std::string::npos, r.Describe());

  // A watch stream's failure reads the same way.
  kube::Response w = client.value()->Stream("/api/v1/services?watch=true", 5,
                                            [](std::string_view) { return true; });
  CHECK(w.Describe() == "GET https://127.0.0.1:" + std::to_string(closed_port) +
                            "/api/v1/services?watch=true: connect: Connection refused");
}

TEST_CASE("List + watch: events reach the store, 410 Gone re-lists, bookmarks move the version") {
  std::atomic<int> lists{0}, watches{0};
  std::string last_watch_rv;
  std::mutex mu;
  std::condition_variable seen_cv;  // a list or watch arrived
  auto http = std::make_unique<httplib::Server>();
  http->Get("/api/v1/services", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") != "true") {
      int n = ++lists;
      { std::lock_guard lock(mu); }  // the waiter is checking or waiting, not in between
      seen_cv.notify_all();
      // The second list (after the 410) no longer has "a" but has "c".
      std::string items =
          n == 1
              ? R"([{"metadata":{"name":"a","namespace":"default","resourceVersion":"10"},"spec":{"type":"LoadBalancer"}}])"
              : R"([{"metadata":{"name":"c","namespace":"default","resourceVersion":"30"},"spec":{"type":"LoadBalancer"}}])";
      res.set_content(R"({"kind":"ServiceList","metadata":{"resourceVersion":")" +
                          std::string(n == 1 ? "10" : "30") + R"("},"items":)" + items + "}",
                      "application/json");
      return;
    }
    int w = ++watches;
    {
      std::lock_guard lock(mu);
      last_watch_rv = req.get_param_value("resourceVersion");
    }
    seen_cv.notify_all();
    CHECK(req.get_param_value("allowWatchBookmarks") == "true");
    CHECK(!req.get_param_value("timeoutSeconds").empty());
    std::string body;
    if (w == 1) {
      body =
          R"({"type":"ADDED","object":{"metadata":{"name":"b","namespace":"default","resourceVersion":"11"},"spec":{"type":"LoadBalancer"}}})"
          "\n"
          R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"20"}}})"
          "\n"
          R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
          "\n";
    }
    res.set_content(body, "application/json");
  });
  Serving<httplib::Server> serving(std::move(http));

  akrobateo::metrics::Metrics metrics;
  kube::Config cfg;
  cfg.scheme = "http";
  cfg.host = "127.0.0.1";
  cfg.port = serving.port;
  auto client = kube::Client::Create(cfg, 1000, 1000, &metrics);
  REQUIRE(client.ok());
  akrobateo::cache::Informer<api::Service> informer(
      client.value().get(), &metrics, "services", "/api/v1/services", "", &api::DecodeService,
      [](const api::Service& s) { return s.ns + "/" + s.name; });
  std::mutex seen_mu;
  std::vector<std::string> seen;
  informer.SetHandler([&](const api::Service* old, const api::Service* now) {
    std::lock_guard lock(seen_mu);
    seen.push_back((now != nullptr ? "+" + now->name : "-" + old->name));
  });
  informer.Start();
  {
    // Until the re-list and the second watch have arrived (the minute only ends a broken test).
    std::unique_lock lock(mu);
    seen_cv.wait_for(lock, std::chrono::minutes(1), [&] { return lists >= 2 && watches >= 2; });
  }
  client.value()->Shutdown();
  informer.Stop();
  CHECK(lists >= 2);
  CHECK(informer.Synced());
  CHECK(!informer.store().Get("default/a"));  // gone in the second list
  CHECK(!informer.store().Get("default/b"));
  CHECK(informer.store().Get("default/c"));
  {
    std::lock_guard lock(seen_mu);
    REQUIRE(seen.size() >= 4);
    CHECK(std::vector<std::string>(seen.begin(), seen.begin() + 2) ==
          std::vector<std::string>{"+a", "+b"});
  }
  {
    std::lock_guard lock(mu);
    CHECK(last_watch_rv == "30");  // the watch after the re-list starts from the new list
  }
}

TEST_CASE("Watch stream lines split across arbitrary chunks") {
  std::string text = akrobateo::testing::ReadTestdata("watch_events.jsonl");
  for (size_t step : {1u, 3u, 64u, 4096u}) {
    kube::LineSplitter split;
    std::vector<std::string> lines;
    for (size_t i = 0; i < text.size(); i += step) {
      CHECK(split.Feed(std::string_view(text).substr(i, step),
                       [&](std::string_view l) { lines.emplace_back(l); }));
    }
    REQUIRE(lines.size() == 4);
    CHECK(nlohmann::json::parse(lines[3])["object"]["code"] == 410);
  }
  kube::LineSplitter split;
  CHECK(!split.Feed(
      std::string(100, 'x'), [](std::string_view) {}, 10));
}

TEST_CASE("Rate limiter: a burst, then qps") {
  akrobateo::testing::FakeClock clock;
  kube::RateLimiter rl(10, 3, &clock);
  using Duration = akrobateo::Clock::duration;
  CHECK(rl.Reserve() == Duration::zero());
  CHECK(rl.Reserve() == Duration::zero());
  CHECK(rl.Reserve() == Duration::zero());
  auto wait = rl.Reserve();
  CHECK(wait > 90ms);
  CHECK(wait < 110ms);
  CHECK(rl.Reserve() > wait);  // queued callers wait in order
  clock.Step(10s);
  CHECK(rl.Reserve() == Duration::zero());
}

TEST_CASE("Backoff doubles up to the cap, with jitter in [d/2, d]") {
  kube::Backoff b(100ms, 1s);
  for (int i = 0; i < 10; ++i) {
    auto full = std::min<std::chrono::milliseconds>(1s, 100ms * (1 << i));
    auto d = b.Next();
    CHECK(d >= full / 2);
    CHECK(d <= full);
  }
  b.Reset();
  CHECK(b.Next() <= 100ms);
}

TEST_CASE("Query escaping of label selectors") {
  CHECK(kube::QueryEscape("app.kubernetes.io/managed-by=akrobateo") ==
        "app.kubernetes.io%2Fmanaged-by%3Dakrobateo");
}

TEST_CASE("ErrorOf: the kind of a failed response, from the Status reason, else the code") {
  using akrobateo::ErrorKind;
  auto kind = [](int status, const std::string& body = "") {
    kube::Response r;
    r.status = status;
    r.body = body;
    r.error = status == 0 ? "connect: Connection refused" : "";
    r.request = "POST https://127.0.0.1:6443/apis/apps/v1/namespaces/x/daemonsets";
    return kube::ErrorOf(r).kind;
  };
  auto status = [](const std::string& reason) {
    return R"({"kind":"Status","status":"Failure","reason":")" + reason + R"(","message":"m"})";
  };
  CHECK(kind(409, status("AlreadyExists")) == ErrorKind::kAlreadyExists);
  CHECK(kind(409, status("Conflict")) == ErrorKind::kConflict);
  CHECK(kind(409) == ErrorKind::kConflict);
  CHECK(kind(404) == ErrorKind::kNotFound);
  CHECK(kind(403, status("Forbidden")) == ErrorKind::kForbidden);
  CHECK(kind(401) == ErrorKind::kForbidden);
  CHECK(kind(422, status("Invalid")) == ErrorKind::kInvalid);
  CHECK(kind(0) == ErrorKind::kTransient);
  CHECK(kind(429) == ErrorKind::kTransient);
  CHECK(kind(503) == ErrorKind::kTransient);
  CHECK(kind(500, status("InternalError")) == ErrorKind::kTransient);
  CHECK(kind(418) == ErrorKind::kOther);
  kube::Response r;
  r.status = 409;
  r.body = status("AlreadyExists");
  r.request = "POST https://h/p";
  CHECK(kube::ErrorOf(r).message == "POST https://h/p: HTTP 409: m");
}

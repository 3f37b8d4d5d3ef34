// SPDX-License-Identifier: Apache-2.0
// Where and how to reach the API server: from a kubeconfig file or from the in-cluster
// service account. TLS is always verified; a kubeconfig asking to skip verification is refused.
#ifndef AKROBATEO_OPERATOR_KUBE_CONFIG_H_
#define AKROBATEO_OPERATOR_KUBE_CONFIG_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "operator/base/result.h"

namespace akrobateo::kube {

struct Config {
  std::string scheme;  // "https" (or "http" for a plain local server)
  std::string host;    // without brackets
  int port = 443;
  std::string ca_pem;           // empty: the system trust store
  std::string client_cert_pem;  // empty: no client certificate
  std::string client_key_pem;
  std::string token;            // static bearer token
  std::string token_file;       // re-read when it may have rotated
  std::string tls_server_name;  // kubeconfig tls-server-name: SNI and the name verified
  std::string source;           // where this came from, for the log
};

// `path` names a kubeconfig; its current-context is used. Entries that ask for what this
// client does not implement (a user with exec, auth-provider, basic auth or impersonation; a
// cluster with proxy-url) are refused, naming the field and the entry.
Result<Config> LoadKubeconfig(const std::string& path);
// $KUBECONFIG: colon-separated files merged as kubectl merges them (for clusters, users and
// contexts the first file that defines a name wins; current-context from the first file that
// sets one; files that do not exist are skipped).
Result<Config> LoadKubeconfigList(const std::string& list);
// From KUBERNETES_SERVICE_HOST/PORT and the service-account files.
Result<Config> LoadInCluster();

// Returns the bearer token, re-reading `token_file` at most once a minute (the kubelet
// rotates projected tokens well before they expire).
class TokenSource {
 public:
  explicit TokenSource(const Config& cfg) : token_(cfg.token), file_(cfg.token_file) {}
  std::string Token();

 private:
  std::mutex mu_;
  std::string token_;
  std::string file_;
  std::chrono::steady_clock::time_point read_at_{};
};

// Splits "https://host:port" (IPv6 hosts bracketed). Exposed for tests.
Result<Config> ParseServer(const std::string& server);

}  // namespace akrobateo::kube

#endif  // AKROBATEO_OPERATOR_KUBE_CONFIG_H_

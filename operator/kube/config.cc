#include "operator/kube/config.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "operator/names.h"

namespace akrobateo::kube {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> Base64(const std::string& text, const std::string& what) {
  std::string clean;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return Error{what + " is not valid base64"};
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return Error{what + " is not valid base64"};
  size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// A YAML node by name in a kubeconfig list such as `clusters: [{name: x, cluster: {...}}]`.
YAML::Node Named(const YAML::Node& list, const std::string& name, const std::string& inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const YAML::Node& item : list) {
    if (item.IsMap() && item["name"] && item["name"].as<std::string>() == name) return item[inner];
  }
  return YAML::Node();
}

std::string Scalar(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap() || !n[key] || !n[key].IsScalar()) return "";
  return n[key].as<std::string>();
}

// Data inline (base64) or in a file relative to the kubeconfig's directory.
Result<std::string> DataOrFile(const YAML::Node& n, const std::string& key,
                               const std::filesystem::path& dir) {
  std::string data = Scalar(n, (key + "-data").c_str());
  if (!data.empty()) return Base64(data, key + "-data");
  std::string file = Scalar(n, key.c_str());
  if (file.empty()) return std::string();
  std::filesystem::path p(file);
  if (p.is_relative()) p = dir / p;
  return ReadFile(p.string());
}

}  // namespace

Result<Config> ParseServer(const std::string& server) {
  Config cfg;
  size_t sep = server.find("://");
  if (sep == std::string::npos) return Error{"server \"" + server + "\" has no scheme"};
  cfg.scheme = server.substr(0, sep);
  if (cfg.scheme != "https" && cfg.scheme != "http") {
    return Error{"server \"" + server + "\": scheme must be https or http"};
  }
  std::string rest = server.substr(sep + 3);
  if (size_t slash = rest.find('/'); slash != std::string::npos) {
    if (rest.substr(slash) != "/") {
      return Error{"server \"" + server + "\": a path prefix is not supported"};
    }
    rest.resize(slash);
  }
  cfg.port = cfg.scheme == "https" ? 443 : 80;
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return Error{"server \"" + server + "\": unclosed ["};
    cfg.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return Error{"server \"" + server + "\": bad port"};
      port = rest.substr(close + 2);
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    cfg.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    cfg.host = rest;
  }
  if (cfg.host.empty()) return Error{"server \"" + server + "\" has no host"};
  if (!port.empty()) {
    char* end = nullptr;
    long v = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 65535) {
      return Error{"server \"" + server + "\": bad port \"" + port + "\""};
    }
    cfg.port = static_cast<int>(v);
  }
  return cfg;
}

Result<Config> LoadKubeconfig(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
  try {
    std::string context_name = Scalar(root, "current-context");
    if (context_name.empty()) return Error{"kubeconfig " + path + ": no current-context"};
    YAML::Node context = Named(root["contexts"], context_name, "context");
    if (!context || !context.IsMap())
      return Error{"kubeconfig " + path + ": context \"" + context_name + "\" missing"};
    std::string cluster_name = Scalar(context, "cluster");
    std::string user_name = Scalar(context, "user");
    YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster.IsMap())
      return Error{"kubeconfig " + path + ": cluster \"" + cluster_name + "\" missing"};
    YAML::Node user = Named(root["users"], user_name, "user");

    auto server = ParseServer(Scalar(cluster, "server"));
    if (!server) return Error{"kubeconfig " + path + ": " + server.error()};
    Config cfg = *server;
    if (Scalar(cluster, "insecure-skip-tls-verify") == "true") {
      return Error{"kubeconfig " + path +
                   ": insecure-skip-tls-verify is set; akrobateo always verifies TLS"};
    }
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    auto ca = DataOrFile(cluster, "certificate-authority", dir);
    if (!ca) return Error{"kubeconfig " + path + ": " + ca.error()};
    cfg.ca_pem = *ca;
    if (user && user.IsMap()) {
      auto cert = DataOrFile(user, "client-certificate", dir);
      if (!cert) return Error{"kubeconfig " + path + ": " + cert.error()};
      auto key = DataOrFile(user, "client-key", dir);
      if (!key) return Error{"kubeconfig " + path + ": " + key.error()};
      cfg.client_cert_pem = *cert;
      cfg.client_key_pem = *key;
      if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty()) {
        return Error{"kubeconfig " + path + ": user \"" + user_name +
                     "\" needs both client-certificate and client-key"};
      }
      cfg.token = Scalar(user, "token");
      std::string token_file = Scalar(user, "tokenFile");
      if (!token_file.empty()) {
        std::filesystem::path p(token_file);
        cfg.token_file = (p.is_relative() ? dir / p : p).string();
      }
    }
    cfg.ns = Scalar(context, "namespace");
    cfg.source = "kubeconfig " + path + " context " + context_name;
    return cfg;
  } catch (const std::exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
}

Result<Config> LoadInCluster() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0') {
    return Error{
        "no --kubeconfig, no $KUBECONFIG and not in a cluster (KUBERNETES_SERVICE_HOST unset)"};
  }
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  auto cfg = ParseServer("https://" + h + ":" + port);
  if (!cfg) return cfg;
  Config out = *cfg;
  auto ca = ReadFile(std::string(names::kInClusterCaFile));
  if (!ca) return Error{ca.error()};
  out.ca_pem = *ca;
  out.token_file = std::string(names::kInClusterTokenFile);
  if (auto ns = ReadFile(std::string(names::kInClusterNamespaceFile)); ns) {
    out.ns = *ns;
    while (!out.ns.empty() && (out.ns.back() == '\n' || out.ns.back() == ' ')) out.ns.pop_back();
  }
  out.source = "in-cluster service account";
  return out;
}

std::string TokenSource::Token() {
  std::lock_guard lock(mu_);
  if (file_.empty()) return token_;
  auto now = std::chrono::steady_clock::now();
  if (token_.empty() || now - read_at_ > std::chrono::minutes(1)) {
    if (auto t = ReadFile(file_); t) {
      token_ = *t;
      while (!token_.empty() && (token_.back() == '\n' || token_.back() == '\r')) token_.pop_back();
      read_at_ = now;
    }
  }
  return token_;
}

}  // namespace akrobateo::kube

// SPDX-License-Identifier: Apache-2.0
#include "operator/kube/config.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>
#include <vector>

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

namespace {

// One named entry of a kubeconfig list, with the file that defined it (relative paths in it
// are relative to that file's directory).
struct Entry {
  YAML::Node node;
  std::string file;
};

// The kubeconfig files merged as kubectl merges $KUBECONFIG: for each map (clusters, users,
// contexts) the first file that defines a name wins; current-context comes from the first file
// that sets one.
struct Merged {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::string current_context_file;
  std::vector<std::string> files;  // the files read, in order
};

Result<bool> MergeFile(const std::string& path, Merged* m) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
  try {
    m->files.push_back(path);
    if (m->current_context.empty()) {
      m->current_context = Scalar(root, "current-context");
      if (!m->current_context.empty()) m->current_context_file = path;
    }
    for (auto [list, inner, map] :
         {std::tuple{"clusters", "cluster", &m->clusters}, std::tuple{"users", "user", &m->users},
          std::tuple{"contexts", "context", &m->contexts}}) {
      YAML::Node items = root.IsMap() ? root[list] : YAML::Node();
      if (!items || !items.IsSequence()) continue;
      for (const YAML::Node& item : items) {
        if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) continue;
        map->emplace(item["name"].as<std::string>(), Entry{item[inner], path});
      }
    }
    return true;
  } catch (const std::exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
}

// Fields of a kubeconfig user or cluster entry that change how to authenticate or connect and
// that this client does not implement: refused rather than ignored (ignoring them gives 401s,
// another identity or another network path).
struct Unsupported {
  const char* field;
  const char* why;
};
constexpr Unsupported kUnsupportedUser[] = {
    {"exec", "a credential plugin, which akrobateo-operator does not run"},
    {"auth-provider", "an auth provider plugin, which akrobateo-operator does not run"},
    {"username", "basic authentication, which Kubernetes no longer supports"},
    {"password", "basic authentication, which Kubernetes no longer supports"},
    {"as", "impersonation, which akrobateo-operator does not do"},
    {"as-uid", "impersonation, which akrobateo-operator does not do"},
    {"as-groups", "impersonation, which akrobateo-operator does not do"},
    {"as-user-extra", "impersonation, which akrobateo-operator does not do"},
};
constexpr Unsupported kUnsupportedCluster[] = {
    {"proxy-url", "a proxy, which akrobateo-operator does not use"},
};
constexpr const char* kUseInstead =
    "; give the operator a token, tokenFile or client certificate (or run it in the cluster)";

Result<Config> Resolve(const Merged& m, const std::string& what) {
  const std::string& context_name = m.current_context;
  if (context_name.empty()) return Error{what + ": no current-context"};
  auto ctx_it = m.contexts.find(context_name);
  if (ctx_it == m.contexts.end() || !ctx_it->second.node || !ctx_it->second.node.IsMap()) {
    return Error{what + ": context \"" + context_name + "\" missing"};
  }
  const YAML::Node& context = ctx_it->second.node;
  std::string cluster_name = Scalar(context, "cluster");
  std::string user_name = Scalar(context, "user");
  auto cl_it = m.clusters.find(cluster_name);
  if (cl_it == m.clusters.end() || !cl_it->second.node || !cl_it->second.node.IsMap()) {
    return Error{what + ": cluster \"" + cluster_name + "\" missing"};
  }
  const YAML::Node& cluster = cl_it->second.node;
  const std::string cluster_where =
      "kubeconfig " + cl_it->second.file + ": cluster \"" + cluster_name + "\"";
  for (const Unsupported& u : kUnsupportedCluster) {
    if (cluster[u.field] && !cluster[u.field].IsNull()) {
      return Error{cluster_where + " sets " + u.field + " (" + u.why +
                   "); remove it, so that the operator reaches the API server directly"};
    }
  }
  auto server = ParseServer(Scalar(cluster, "server"));
  if (!server) return Error{cluster_where + ": " + server.error()};
  Config cfg = *server;
  if (Scalar(cluster, "insecure-skip-tls-verify") == "true") {
    return Error{cluster_where +
                 ": insecure-skip-tls-verify is set; akrobateo always verifies TLS"};
  }
  cfg.tls_server_name = Scalar(cluster, "tls-server-name");
  std::filesystem::path cluster_dir = std::filesystem::path(cl_it->second.file).parent_path();
  auto ca = DataOrFile(cluster, "certificate-authority", cluster_dir);
  if (!ca) return Error{cluster_where + ": " + ca.error()};
  cfg.ca_pem = *ca;

  auto us_it = m.users.find(user_name);
  if (us_it != m.users.end() && us_it->second.node && us_it->second.node.IsMap()) {
    const YAML::Node& user = us_it->second.node;
    const std::string user_where =
        "kubeconfig " + us_it->second.file + ": user \"" + user_name + "\"";
    for (const Unsupported& u : kUnsupportedUser) {
      if (user[u.field] && !user[u.field].IsNull()) {
        return Error{user_where + " uses " + u.field + " (" + u.why + ")" + kUseInstead};
      }
    }
    std::filesystem::path dir = std::filesystem::path(us_it->second.file).parent_path();
    auto cert = DataOrFile(user, "client-certificate", dir);
    if (!cert) return Error{user_where + ": " + cert.error()};
    auto key = DataOrFile(user, "client-key", dir);
    if (!key) return Error{user_where + ": " + key.error()};
    cfg.client_cert_pem = *cert;
    cfg.client_key_pem = *key;
    if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty()) {
      return Error{user_where + " needs both client-certificate and client-key"};
    }
    cfg.token = Scalar(user, "token");
    std::string token_file = Scalar(user, "tokenFile");
    if (!token_file.empty()) {
      std::filesystem::path p(token_file);
      cfg.token_file = (p.is_relative() ? dir / p : p).string();
    }
  }
  cfg.source = what + " context " + context_name;
  return cfg;
}

}  // namespace

Result<Config> LoadKubeconfig(const std::string& path) {
  Merged m;
  if (auto r = MergeFile(path, &m); !r) return Error{r.error()};
  try {
    return Resolve(m, "kubeconfig " + path);
  } catch (const std::exception& e) {
    return Error{"kubeconfig " + path + ": " + e.what()};
  }
}

Result<Config> LoadKubeconfigList(const std::string& list) {
  Merged m;
  std::vector<std::string> skipped;
  size_t start = 0;
  while (start <= list.size()) {
    size_t colon = list.find(':', start);
    std::string path =
        list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    start = colon == std::string::npos ? list.size() + 1 : colon + 1;
    if (path.empty()) continue;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      skipped.push_back(path);  // as kubectl: files of the list that do not exist are skipped
      continue;
    }
    if (auto r = MergeFile(path, &m); !r) return Error{"$KUBECONFIG: " + r.error()};
  }
  if (m.files.empty()) {
    return Error{"$KUBECONFIG=\"" + list + "\": none of its files exists"};
  }
  std::string what = "$KUBECONFIG " + m.files.front();
  for (size_t i = 1; i < m.files.size(); ++i) what += ":" + m.files[i];
  try {
    return Resolve(m, what);
  } catch (const std::exception& e) {
    return Error{what + ": " + e.what()};
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

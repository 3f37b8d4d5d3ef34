// SPDX-License-Identifier: Apache-2.0
#include "nftlb/nft_backend.h"

#include <libnftnl/gen.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace nftlb {

namespace {

// libnftnl's own text form of a rule's expressions, without the kernel-assigned handle
// and position: two rules with equal text have equal bytecode.
std::string RuleText(nftnl_rule* r) {
  nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
  nftnl_rule_unset(r, NFTNL_RULE_POSITION);
  std::vector<char> buf(16384);
  nftnl_rule_snprintf(buf.data(), buf.size(), r, NFTNL_OUTPUT_DEFAULT, 0);
  return buf.data();
}

std::string ChainText(const nftnl_chain* c) {
  auto str = [&](uint16_t attr) -> std::string {
    return nftnl_chain_is_set(c, attr) ? nftnl_chain_get_str(c, attr) : "-";
  };
  auto num = [&](uint16_t attr) -> std::string {
    return nftnl_chain_is_set(c, attr) ? std::to_string(nftnl_chain_get_u32(c, attr)) : "-";
  };
  return str(NFTNL_CHAIN_NAME) + " type " + str(NFTNL_CHAIN_TYPE) + " hook " +
         num(NFTNL_CHAIN_HOOKNUM) + " prio " + num(NFTNL_CHAIN_PRIO) + " policy " +
         num(NFTNL_CHAIN_POLICY);
}

std::string OneLine(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

// The first difference between two lists, for the log.
std::string FirstDifference(const char* what, const std::vector<std::string>& have,
                            const std::vector<std::string>& want) {
  size_t i = 0;
  while (i < have.size() && i < want.size() && have[i] == want[i]) ++i;
  const std::string h = i < have.size() ? OneLine(have[i]) : "(none)";
  const std::string w = i < want.size() ? OneLine(want[i]) : "(none)";
  return std::string(what) + " " + std::to_string(i + 1) + " differs: kernel has " + h +
         ", nftlb wants " + w;
}

}  // namespace

Result<std::unique_ptr<NftBackend>> NftBackend::Create() {
  Result<std::unique_ptr<NetfilterSocket>> sock = NetfilterSocket::Open();
  if (!sock) return sock.status();
  return std::unique_ptr<NftBackend>(new NftBackend(std::move(sock).value()));
}

Status NftBackend::SendInstall(const Ruleset& r, NftInstall how, bool commit) {
  return sock_->SendBatch(BuildNftInstallBatch(r, how, commit, sock_->next_batch_seq()));
}

Status NftBackend::Install(const Ruleset& r) {
  // Deleting the old table leaves the kernel objects to free after an RCU grace period
  // (~10 ms on a small VM), and this socket's release waits for that. A batch that only
  // creates leaves nothing to free, so a first install (a new pod) skips both the delete
  // and the wait. NLM_F_EXCL keeps it safe if the table appears in between: the batch is
  // then refused as a whole with EEXIST and the replacing batch follows.
  Result<bool> exists = TableExists(r.table);
  if (!exists) return exists.status();
  if (!*exists) {
    Status s = SendInstall(r, NftInstall::kCreate, true);
    if (s.ok() || s.sys_errno() != EEXIST) return s;
  }
  return SendInstall(r, NftInstall::kReplace, true);
}

Status NftBackend::Validate(const Ruleset& r) {
  return SendInstall(r, NftInstall::kReplace, false);
}

Result<bool> NftBackend::TableExists(const std::string& name) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const uint32_t seq = sock_->NextSeq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
  const NftTablePtr table = MakeNftTable(name);
  nftnl_table_nlmsg_build_payload(nlh, table.get());
  buf.resize(nlh->nlmsg_len);
  Status s = sock_->Request(buf, seq, [](const nlmsghdr*) { return Ok(); });
  if (s.ok()) return true;
  if (s.sys_errno() == ENOENT) return false;
  return s.status();
}

Status NftBackend::Remove(const std::string& name) {
  return sock_->SendBatch(BuildNftRemoveBatch(name, sock_->next_batch_seq()));
}

Result<uint32_t> NftBackend::GetGeneration() {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const uint32_t seq = sock_->NextSeq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
  buf.resize(nlh->nlmsg_len);
  std::optional<uint32_t> gen;
  Status s = sock_->Request(buf, seq, [&](const nlmsghdr* reply) {
    nftnl_gen* g = nftnl_gen_alloc();
    if (nftnl_gen_nlmsg_parse(reply, g) == 0) gen = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
    nftnl_gen_free(g);
    return Ok();
  });
  if (!s.ok()) return s.status();
  if (!gen) return Error{"NFT_MSG_GETGEN: no generation in the reply"};
  return *gen;
}

namespace {

// The kernel's chains (GETCHAIN dump) or rules (GETRULE dump) of `inet table`, each in the
// text form the comparison uses.
Result<std::vector<std::string>> DumpChains(NetfilterSocket* sock, const std::string& table) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const uint32_t seq = sock->NextSeq();
  nlmsghdr* nlh =
      nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, seq);
  NftChainPtr filter(nftnl_chain_alloc());
  nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_nlmsg_build_payload(nlh, filter.get());
  buf.resize(nlh->nlmsg_len);
  std::vector<std::string> chains;
  Status s = sock->Request(buf, seq, [&](const nlmsghdr* reply) {
    NftChainPtr c(nftnl_chain_alloc());
    if (nftnl_chain_nlmsg_parse(reply, c.get()) < 0) return Status(Errno("parsing a chain", errno));
    if (table == nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) {
      chains.push_back(ChainText(c.get()));
    }
    return Ok();
  });
  if (!s.ok()) return s.status();
  return chains;
}

Result<std::vector<std::string>> DumpRules(NetfilterSocket* sock, const std::string& table) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const uint32_t seq = sock->NextSeq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
  NftRulePtr filter(nftnl_rule_alloc());
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_nlmsg_build_payload(nlh, filter.get());
  buf.resize(nlh->nlmsg_len);
  std::vector<std::string> rules;
  Status s = sock->Request(buf, seq, [&](const nlmsghdr* reply) {
    NftRulePtr rule(nftnl_rule_alloc());
    if (nftnl_rule_nlmsg_parse(reply, rule.get()) < 0)
      return Status(Errno("parsing a rule", errno));
    if (table == nftnl_rule_get_str(rule.get(), NFTNL_RULE_TABLE)) {
      rules.push_back(RuleText(rule.get()));
    }
    return Ok();
  });
  if (!s.ok()) return s.status();
  return rules;
}

}  // namespace

Result<CheckOutcome> NftBackend::Check(const Ruleset& r) {
  // The wanted state from the layout the install batch is built from.
  const std::vector<NftChainRules> layout = NftLayout(r);
  std::vector<std::string> want_chains;
  // The kernel dumps rules chain by chain in chain order; they are compared in that order.
  std::vector<std::string> want_rules;
  for (const NftChainRules& cr : layout) {
    want_chains.push_back(ChainText(MakeNftChain(r.table, cr.chain).get()));
    for (const NftRule& rule : cr.rules) {
      want_rules.push_back(RuleText(MakeNftRule(r.table, cr.chain, rule).get()));
    }
  }

  Result<std::vector<std::string>> have_chains = DumpChains(sock_.get(), r.table);
  if (!have_chains) return have_chains.status();
  const std::string tname = "table inet " + r.table;
  const std::string differs = tname + " differs from the wanted ruleset: ";
  if (have_chains->empty()) {
    // No chains: absent, or there but emptied (one more round trip, only when failing).
    Result<bool> exists = TableExists(r.table);
    if (!exists) return exists.status();
    return CheckOutcome::Differs(*exists ? differs + "it has no chains" : tname + " is absent");
  }
  if (*have_chains != want_chains) {
    return CheckOutcome::Differs(differs + FirstDifference("chain", *have_chains, want_chains));
  }
  Result<std::vector<std::string>> have_rules = DumpRules(sock_.get(), r.table);
  if (!have_rules) return have_rules.status();
  if (*have_rules != want_rules) {
    return CheckOutcome::Differs(differs + FirstDifference("rule", *have_rules, want_rules));
  }
  return CheckOutcome::Matches();
}

}  // namespace nftlb

// SPDX-License-Identifier: Apache-2.0
#include "nftlb/nft_backend.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

namespace nftlb {

namespace {

struct TableDeleter {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct ChainDeleter {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleDeleter {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
using TablePtr = std::unique_ptr<nftnl_table, TableDeleter>;
using ChainPtr = std::unique_ptr<nftnl_chain, ChainDeleter>;
using RulePtr = std::unique_ptr<nftnl_rule, RuleDeleter>;

constexpr uint32_t kReg1 = NFT_REG_1;
constexpr uint32_t kReg2 = NFT_REG_2;

// Expression builders. Each returns a new expression that the rule takes ownership of;
// the shapes are those nft itself emits, so `nft list` prints our rules as RenderNftText.
class RuleBuilder {
 public:
  RuleBuilder(const std::string& table, const std::string& chain) : rule_(nftnl_rule_alloc()) {
    nftnl_rule_set_u32(rule_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(rule_.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(rule_.get(), NFTNL_RULE_CHAIN, chain.c_str());
  }

  RuleBuilder& Meta(uint32_t key) {
    nftnl_expr* e = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, kReg1);
    return Add(e);
  }
  RuleBuilder& Ct(uint32_t key) {
    nftnl_expr* e = nftnl_expr_alloc("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, kReg1);
    return Add(e);
  }
  RuleBuilder& Payload(uint32_t base, uint32_t offset, uint32_t len) {
    nftnl_expr* e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, kReg1);
    return Add(e);
  }
  RuleBuilder& Cmp(uint32_t op, const void* data, uint32_t len) {
    nftnl_expr* e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    return Add(e);
  }
  RuleBuilder& CmpU8(uint8_t v) { return Cmp(NFT_CMP_EQ, &v, 1); }
  RuleBuilder& CmpPort(uint16_t port) {
    const uint16_t be = htons(port);
    return Cmp(NFT_CMP_EQ, &be, 2);
  }
  // reg1 = (reg1 & mask) ^ xor; no xor means zeros.
  RuleBuilder& Bitwise(const void* mask, uint32_t len, const void* xor_data = nullptr) {
    const std::vector<uint8_t> zero(len, 0);
    nftnl_expr* e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor_data != nullptr ? xor_data : zero.data(), len);
    return Add(e);
  }
  RuleBuilder& MetaSet(uint32_t key) {
    nftnl_expr* e = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, kReg1);
    return Add(e);
  }
  RuleBuilder& Immediate(uint32_t reg, const void* data, uint32_t len) {
    nftnl_expr* e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
    nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
    return Add(e);
  }
  RuleBuilder& Verdict(int verdict) {
    nftnl_expr* e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(verdict));
    return Add(e);
  }
  RuleBuilder& Dnat(Family f) {
    nftnl_expr* e = nftnl_expr_alloc("nat");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, f == Family::kIpv4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, kReg1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, kReg2);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, kReg2);
    // The kernel stores min=max and MAP_IPS itself; spelling them out keeps what we send
    // equal to what a dump returns, which the altered-check compares.
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
                       NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
    return Add(e);
  }
  RuleBuilder& Masquerade() { return Add(nftnl_expr_alloc("masq")); }

  RulePtr Release() { return std::move(rule_); }

 private:
  RuleBuilder& Add(nftnl_expr* e) {
    nftnl_rule_add_expr(rule_.get(), e);
    return *this;
  }
  RulePtr rule_;
};

uint8_t NfProto(Family f) {
  return f == Family::kIpv4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

struct DesiredChain {
  std::string name;
  const char* type;
  uint32_t hook;
  int32_t prio;
};

struct DesiredRule {
  std::string chain;
  RulePtr rule;
};

struct Desired {
  std::vector<DesiredChain> chains;
  std::vector<DesiredRule> rules;
};

void AddSourceAllow(const Ruleset& r, const Cidr& c, Desired* d) {
  RuleBuilder b(r.table, "filter-prerouting");
  const uint8_t dir = IP_CT_DIR_ORIGINAL;
  b.Ct(NFT_CT_DIRECTION).CmpU8(dir);
  b.Meta(NFT_META_NFPROTO).CmpU8(NfProto(c.network.family));
  const bool v4 = c.network.family == Family::kIpv4;
  const uint32_t offset = v4 ? 12 : 8;  // saddr in the IPv4 / IPv6 header
  const uint32_t full = v4 ? 4 : 16;
  if (c.prefix > 0) {
    if (c.prefix % 8 == 0) {
      // Byte-aligned prefixes load only the prefix bytes, as nft does.
      const uint32_t n = static_cast<uint32_t>(c.prefix / 8);
      b.Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, n).Cmp(NFT_CMP_EQ, c.network.bytes.data(), n);
    } else {
      std::vector<uint8_t> mask(full, 0);
      for (int i = 0; i < c.prefix; ++i) {
        mask[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80 >> (i % 8));
      }
      b.Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, full)
          .Bitwise(mask.data(), full)
          .Cmp(NFT_CMP_EQ, c.network.bytes.data(), full);
    }
  }
  b.Verdict(NF_ACCEPT);
  d->rules.push_back({"filter-prerouting", b.Release()});
}

Desired BuildDesired(const Ruleset& r) {
  Desired d;
  const std::vector<GuardedPort> guarded = r.GuardedPorts();
  if (!guarded.empty()) {
    d.chains.push_back({"filter-prerouting", "filter", NF_INET_PRE_ROUTING, -110});
    for (const Cidr& c : r.source_ranges) AddSourceAllow(r, c, &d);
    for (const GuardedPort& g : guarded) {
      RuleBuilder b(r.table, "filter-prerouting");
      const uint8_t dir = IP_CT_DIR_ORIGINAL;
      b.Ct(NFT_CT_DIRECTION).CmpU8(dir);
      b.Meta(NFT_META_L4PROTO).CmpU8(ProtoNumber(g.proto));
      b.Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2).CmpPort(g.port);
      b.Verdict(NF_DROP);
      d.rules.push_back({"filter-prerouting", b.Release()});
    }
  }
  d.chains.push_back({"prerouting", "nat", NF_INET_PRE_ROUTING, -100});
  d.chains.push_back({"postrouting", "nat", NF_INET_POST_ROUTING, 100});
  // The packet mark is host-endian, as nft stores it.
  const uint32_t mark = kMasqueradeMark;
  const uint32_t keep_others = ~kMasqueradeMark;
  for (const Forward& f : r.forwards) {
    RuleBuilder b(r.table, "prerouting");
    b.Meta(NFT_META_L4PROTO).CmpU8(ProtoNumber(f.proto));
    b.Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2).CmpPort(f.port);
    b.Meta(NFT_META_MARK).Bitwise(&keep_others, 4, &mark).MetaSet(NFT_META_MARK);
    const uint16_t tport = htons(f.target_port);
    b.Immediate(kReg1, f.target.bytes.data(), static_cast<uint32_t>(f.target.size()));
    b.Immediate(kReg2, &tport, 2);
    b.Dnat(f.target.family);
    d.rules.push_back({"prerouting", b.Release()});
  }
  RuleBuilder masq(r.table, "postrouting");
  masq.Meta(NFT_META_MARK).Bitwise(&mark, 4).Cmp(NFT_CMP_EQ, &mark, 4).Masquerade();
  d.rules.push_back({"postrouting", masq.Release()});
  return d;
}

TablePtr MakeTable(const std::string& name) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  return t;
}

ChainPtr MakeChain(const std::string& table, const DesiredChain& dc) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, dc.name.c_str());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, dc.hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, dc.prio);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, dc.type);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  return c;
}

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

Status NftBackend::Create(std::unique_ptr<NftBackend>* out) {
  std::unique_ptr<NetfilterSocket> sock;
  Status s = NetfilterSocket::Open(&sock);
  if (!s.ok()) return s;
  out->reset(new NftBackend(std::move(sock)));
  return Status::Ok();
}

Status NftBackend::SendInstall(const Ruleset& r, bool replace, bool commit) {
  const Desired d = BuildDesired(r);
  Batch batch(sock_->NextSeq(static_cast<uint32_t>(d.chains.size() + d.rules.size() + 6)));
  const TablePtr table = MakeTable(r.table);
  const std::string tname = "table inet " + r.table;
  if (replace) {
    // Create-if-absent, delete, create: the delete cannot fail with ENOENT, and the new
    // table starts empty. All of it commits (or aborts) together.
    batch.AddTable(NFT_MSG_NEWTABLE, NLM_F_CREATE, table.get(), tname);
    batch.AddTable(NFT_MSG_DELTABLE, 0, table.get(), "delete of " + tname);
  }
  batch.AddTable(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, table.get(), tname);
  for (const DesiredChain& dc : d.chains) {
    const ChainPtr c = MakeChain(r.table, dc);
    batch.AddChain(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, c.get(),
                   "chain " + dc.name + " (type " + dc.type + ")");
  }
  size_t n = 0;
  for (const DesiredRule& dr : d.rules) {
    batch.AddRule(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, dr.rule.get(),
                  "rule " + std::to_string(++n) + " in chain " + dr.chain);
  }
  batch.Finish(commit);
  return sock_->SendBatch(batch);
}

Status NftBackend::Install(const Ruleset& r) {
  // Deleting the old table leaves the kernel objects to free after an RCU grace period
  // (~10 ms on a small VM), and this socket's release waits for that. A batch that only
  // creates leaves nothing to free, so a first install (a new pod) skips both the delete
  // and the wait. NLM_F_EXCL keeps it safe if the table appears in between: the batch is
  // then refused as a whole with EEXIST and the replacing batch follows.
  bool exists = true;
  Status s = TableExists(r.table, &exists);
  if (!s.ok()) return s;
  if (!exists) {
    s = SendInstall(r, false, true);
    if (s.ok() || s.err() != EEXIST) return s;
  }
  return SendInstall(r, true, true);
}

Status NftBackend::Validate(const Ruleset& r) {
  return SendInstall(r, true, false);
}

Status NftBackend::TableExists(const std::string& name, bool* exists) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const uint32_t seq = sock_->NextSeq(1);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
  const TablePtr table = MakeTable(name);
  nftnl_table_nlmsg_build_payload(nlh, table.get());
  buf.resize(nlh->nlmsg_len);
  Status s = sock_->Request(buf, seq, [](const nlmsghdr*) { return Status::Ok(); });
  *exists = s.ok();
  return s.ok() || s.err() == ENOENT ? Status::Ok() : s;
}

Status NftBackend::Remove(const std::string& name) {
  Batch batch(sock_->NextSeq(4));
  const TablePtr table = MakeTable(name);
  batch.AddTable(NFT_MSG_NEWTABLE, NLM_F_CREATE, table.get(), "table inet " + name);
  batch.AddTable(NFT_MSG_DELTABLE, 0, table.get(), "delete of table inet " + name);
  batch.Finish(true);
  return sock_->SendBatch(batch);
}

Status NftBackend::GetGeneration(uint32_t* gen) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const uint32_t seq = sock_->NextSeq(1);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, seq);
  buf.resize(nlh->nlmsg_len);
  bool got = false;
  Status s = sock_->Request(buf, seq, [&](const nlmsghdr* reply) {
    nftnl_gen* g = nftnl_gen_alloc();
    if (nftnl_gen_nlmsg_parse(reply, g) == 0) {
      *gen = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
      got = true;
    }
    nftnl_gen_free(g);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!got) return Status::Error("NFT_MSG_GETGEN: no generation in the reply");
  return Status::Ok();
}

Status NftBackend::Check(const Ruleset& r, bool* matches, std::string* why) {
  *matches = false;
  const Desired d = BuildDesired(r);

  // Chains of the table, as the kernel has them.
  std::vector<std::string> have_chains;
  {
    std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
    const uint32_t seq = sock_->NextSeq(1);
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, seq);
    ChainPtr filter(nftnl_chain_alloc());
    nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_TABLE, r.table.c_str());
    nftnl_chain_nlmsg_build_payload(nlh, filter.get());
    buf.resize(nlh->nlmsg_len);
    Status s = sock_->Request(buf, seq, [&](const nlmsghdr* reply) {
      ChainPtr c(nftnl_chain_alloc());
      if (nftnl_chain_nlmsg_parse(reply, c.get()) < 0) {
        return Status::Errno("parsing a chain", errno);
      }
      if (r.table == nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE)) {
        have_chains.push_back(ChainText(c.get()));
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  std::vector<std::string> want_chains;
  for (const DesiredChain& dc : d.chains) {
    want_chains.push_back(ChainText(MakeChain(r.table, dc).get()));
  }
  const std::string tname = "table inet " + r.table;
  const std::string differs = tname + " differs from the wanted ruleset: ";
  if (have_chains.empty()) {
    // No chains: absent, or there but emptied (one more round trip, only when failing).
    bool exists = false;
    Status s = TableExists(r.table, &exists);
    if (!s.ok()) return s;
    *why = exists ? differs + "it has no chains" : tname + " is absent";
    return Status::Ok();
  }
  if (have_chains != want_chains) {
    *why = differs + FirstDifference("chain", have_chains, want_chains);
    return Status::Ok();
  }

  // Rules, in order, per chain.
  std::vector<std::string> have_rules;
  {
    std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
    const uint32_t seq = sock_->NextSeq(1);
    nlmsghdr* nlh =
        nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
    RulePtr filter(nftnl_rule_alloc());
    nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, r.table.c_str());
    nftnl_rule_nlmsg_build_payload(nlh, filter.get());
    buf.resize(nlh->nlmsg_len);
    Status s = sock_->Request(buf, seq, [&](const nlmsghdr* reply) {
      RulePtr rule(nftnl_rule_alloc());
      if (nftnl_rule_nlmsg_parse(reply, rule.get()) < 0) {
        return Status::Errno("parsing a rule", errno);
      }
      if (r.table == nftnl_rule_get_str(rule.get(), NFTNL_RULE_TABLE)) {
        have_rules.push_back(RuleText(rule.get()));
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  // The kernel dumps rules chain by chain in chain order; compare in that order.
  std::vector<std::string> want_rules;
  for (const DesiredChain& dc : d.chains) {
    for (const DesiredRule& dr : d.rules) {
      if (dr.chain == dc.name) want_rules.push_back(RuleText(dr.rule.get()));
    }
  }
  *matches = have_rules == want_rules;
  if (!*matches) {
    *why = differs + FirstDifference("rule", have_rules, want_rules);
  }
  return Status::Ok();
}

}  // namespace nftlb

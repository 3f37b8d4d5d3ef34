// SPDX-License-Identifier: Apache-2.0
#include "nftlb/nft_batch.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <variant>
#include <vector>

namespace nftlb {

namespace {

constexpr uint32_t kReg1 = NFT_REG_1;
constexpr uint32_t kReg2 = NFT_REG_2;

// Expression builders. Each returns a new expression that the rule takes ownership of;
// the shapes are those nft itself emits, so `nft list` prints our rules as RenderNftText.
class RuleBuilder {
 public:
  RuleBuilder(const std::string& table, const NftChain& chain) : rule_(nftnl_rule_alloc()) {
    nftnl_rule_set_u32(rule_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    nftnl_rule_set_str(rule_.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(rule_.get(), NFTNL_RULE_CHAIN, std::string(chain.name).c_str());
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

  NftRulePtr Release() { return std::move(rule_); }

 private:
  RuleBuilder& Add(nftnl_expr* e) {
    nftnl_rule_add_expr(rule_.get(), e);
    return *this;
  }
  NftRulePtr rule_;
};

uint8_t NfProto(Family f) {
  return f == Family::kIpv4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
}

// The rules' expressions, per kind of rule.
struct RuleExprs {
  RuleBuilder* b;

  void operator()(const NftAllowSource& a) const {
    const Cidr& c = a.range;
    const uint8_t dir = IP_CT_DIR_ORIGINAL;
    b->Ct(NFT_CT_DIRECTION).CmpU8(dir);
    b->Meta(NFT_META_NFPROTO).CmpU8(NfProto(c.network.family));
    const bool v4 = c.network.family == Family::kIpv4;
    const uint32_t offset = v4 ? 12 : 8;  // saddr in the IPv4 / IPv6 header
    const uint32_t full = v4 ? 4 : 16;
    if (c.prefix > 0) {
      if (c.prefix % 8 == 0) {
        // Byte-aligned prefixes load only the prefix bytes, as nft does.
        const uint32_t n = static_cast<uint32_t>(c.prefix / 8);
        b->Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, n)
            .Cmp(NFT_CMP_EQ, c.network.bytes.data(), n);
      } else {
        std::vector<uint8_t> mask(full, 0);
        for (int i = 0; i < c.prefix; ++i) {
          mask[static_cast<size_t>(i / 8)] |= static_cast<uint8_t>(0x80 >> (i % 8));
        }
        b->Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, full)
            .Bitwise(mask.data(), full)
            .Cmp(NFT_CMP_EQ, c.network.bytes.data(), full);
      }
    }
    b->Verdict(NF_ACCEPT);
  }

  void operator()(const NftDropGuarded& d) const {
    const uint8_t dir = IP_CT_DIR_ORIGINAL;
    b->Ct(NFT_CT_DIRECTION).CmpU8(dir);
    b->Meta(NFT_META_L4PROTO).CmpU8(ProtoNumber(d.port.proto));
    // The destination port: the same 2 bytes at offset 2 for TCP, UDP and SCTP.
    b->Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2).CmpPort(d.port.port);
    b->Verdict(NF_DROP);
  }

  void operator()(const NftDnat& d) const {
    const Forward& f = d.forward;
    // The packet mark is host-endian, as nft stores it.
    const uint32_t mark = kMasqueradeMark;
    const uint32_t keep_others = ~kMasqueradeMark;
    b->Meta(NFT_META_L4PROTO).CmpU8(ProtoNumber(f.proto));
    b->Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2).CmpPort(f.port);
    b->Meta(NFT_META_MARK).Bitwise(&keep_others, 4, &mark).MetaSet(NFT_META_MARK);
    const uint16_t tport = htons(f.target_port);
    b->Immediate(kReg1, f.target.bytes.data(), static_cast<uint32_t>(f.target.size()));
    b->Immediate(kReg2, &tport, 2);
    b->Dnat(f.target.family);
  }

  void operator()(const NftMasquerade&) const {
    const uint32_t mark = kMasqueradeMark;
    b->Meta(NFT_META_MARK).Bitwise(&mark, 4).Cmp(NFT_CMP_EQ, &mark, 4).Masquerade();
  }
};

}  // namespace

NftTablePtr MakeNftTable(const std::string& name) {
  NftTablePtr t(nftnl_table_alloc());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  return t;
}

NftChainPtr MakeNftChain(const std::string& table, const NftChain& chain) {
  NftChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, std::string(chain.name).c_str());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, NftHookNumber(chain.hook));
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, chain.priority.value());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, std::string(chain.type).c_str());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  return c;
}

NftRulePtr MakeNftRule(const std::string& table, const NftChain& chain, const NftRule& rule) {
  RuleBuilder b(table, chain);
  std::visit(RuleExprs{&b}, rule);
  return b.Release();
}

Batch BuildNftInstallBatch(const Ruleset& r, NftInstall how, bool commit, uint32_t first_seq) {
  Batch batch(first_seq);
  const NftTablePtr table = MakeNftTable(r.table);
  const std::string tname = "table inet " + r.table;
  if (how == NftInstall::kReplace) {
    // Create-if-absent, delete, create: the delete cannot fail with ENOENT, and the new
    // table starts empty. All of it commits (or aborts) together.
    batch.AddTable(NFT_MSG_NEWTABLE, NLM_F_CREATE, table.get(), tname);
    batch.AddTable(NFT_MSG_DELTABLE, 0, table.get(), "delete of " + tname);
  }
  batch.AddTable(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, table.get(), tname);
  const std::vector<NftChainRules> layout = NftLayout(r);
  for (const NftChainRules& cr : layout) {
    const NftChainPtr c = MakeNftChain(r.table, cr.chain);
    batch.AddChain(
        NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, c.get(),
        "chain " + std::string(cr.chain.name) + " (type " + std::string(cr.chain.type) + ")");
  }
  // Rules are numbered across the table, as the error messages count them.
  size_t n = 0;
  for (const NftChainRules& cr : layout) {
    for (const NftRule& rule : cr.rules) {
      const NftRulePtr nr = MakeNftRule(r.table, cr.chain, rule);
      batch.AddRule(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, nr.get(),
                    "rule " + std::to_string(++n) + " in chain " + std::string(cr.chain.name));
    }
  }
  batch.Finish(commit);
  return batch;
}

Batch BuildNftRemoveBatch(const std::string& name, uint32_t first_seq) {
  Batch batch(first_seq);
  const NftTablePtr table = MakeNftTable(name);
  batch.AddTable(NFT_MSG_NEWTABLE, NLM_F_CREATE, table.get(), "table inet " + name);
  batch.AddTable(NFT_MSG_DELTABLE, 0, table.get(), "delete of table inet " + name);
  batch.Finish(true);
  return batch;
}

}  // namespace nftlb

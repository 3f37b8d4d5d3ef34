// SPDX-License-Identifier: Apache-2.0
// The install batch and the --dry-run text describe the same table. The batch built for a
// Ruleset is decoded back, message by message, with libnftnl's parsers; its chains are
// compared with the text's (name, type, hook, priority) and each rule's expressions are
// read back into nft's syntax and compared with the text's line. No socket, no root.
#include "nftlb/nft_batch.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "nftlb/config.h"
#include "nftlb/nft_text.h"
#include "test/nftlb/parse_ruleset.h"

namespace nftlb {
namespace {

// One chain, as either side describes it.
struct ChainView {
  std::string name;
  std::string type;
  uint32_t hook = 0;
  int32_t priority = 0;
  std::vector<std::string> rules;  // nft syntax, one per rule, in order
  friend bool operator==(const ChainView&, const ChainView&) = default;
};

std::ostream& operator<<(std::ostream& os, const ChainView& c) {
  os << c.name << " type " << c.type << " hook " << c.hook << " priority " << c.priority << " {";
  for (const std::string& r : c.rules) os << "\n  " << r;
  return os << "\n}";
}

// --- The text side: what RenderNftText says -------------------------------------------

// nft's values for the hook and priority names it prints, written down here from nft's
// documentation, not taken from the code under test.
uint32_t HookNumber(const std::string& name) {
  if (name == "prerouting") return NF_INET_PRE_ROUTING;
  if (name == "postrouting") return NF_INET_POST_ROUTING;
  FAIL("unknown hook " << name);
  return 0;
}

int32_t PriorityValue(const std::string& text) {
  std::istringstream in(text);
  std::string base, op;
  int32_t offset = 0;
  in >> base >> op >> offset;
  int32_t v = 0;
  if (base == "dstnat") {
    v = -100;
  } else if (base == "srcnat") {
    v = 100;
  } else {
    FAIL("unknown priority " << text);
  }
  return op == "-" ? v - offset : op == "+" ? v + offset : v;
}

std::vector<ChainView> FromText(const std::string& text) {
  std::vector<ChainView> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("\tchain ", 0) == 0) {
      ChainView c;
      c.name = line.substr(7, line.size() - 7 - 2);  // "\tchain NAME {"
      out.push_back(c);
    } else if (line.rfind("\t\ttype ", 0) == 0) {
      // "\t\ttype T hook H priority P; policy accept;"
      REQUIRE(!out.empty());
      std::istringstream l(line);
      std::string kw_type, kw_hook, hook, kw_prio;
      l >> kw_type >> out.back().type >> kw_hook >> hook >> kw_prio;
      out.back().hook = HookNumber(hook);
      std::string rest;
      std::getline(l, rest);
      REQUIRE(rest.size() > 1);
      CHECK(rest.substr(rest.find(';')) == "; policy accept;");
      out.back().priority = PriorityValue(rest.substr(1, rest.find(';') - 1));
    } else if (line.rfind("\t\t", 0) == 0) {
      REQUIRE(!out.empty());
      out.back().rules.push_back(line.substr(2));
    }
  }
  return out;
}

// --- The batch side: what the netlink messages say ------------------------------------

std::vector<uint8_t> Data(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const void* p = nftnl_expr_get(e, attr, &len);
  if (p == nullptr) return {};
  const auto* b = static_cast<const uint8_t*>(p);
  return {b, b + len};
}

uint32_t U32(const std::vector<uint8_t>& d) {
  uint32_t v = 0;
  if (d.size() == 4) std::memcpy(&v, d.data(), 4);
  return v;
}

uint16_t Port(const std::vector<uint8_t>& d) {
  uint16_t v = 0;
  if (d.size() == 2) std::memcpy(&v, d.data(), 2);
  return ntohs(v);
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

std::string Addr(Family f, std::vector<uint8_t> bytes) {
  Address a;
  a.family = f;
  std::copy(bytes.begin(), bytes.end(), a.bytes.begin());
  return a.ToString();
}

const char* ProtoOf(uint8_t n) {
  switch (n) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_SCTP:
      return "sctp";
  }
  return "?proto";
}

// Reads a rule's expressions back into the nft syntax they stand for. Only the shapes nftlb
// emits are known; anything else reads as "?..." and so differs from the text.
std::string Decompile(nftnl_rule* r) {
  std::vector<const nftnl_expr*> ex;
  nftnl_expr_foreach(
      r,
      [](nftnl_expr* e, void* data) {
        static_cast<std::vector<const nftnl_expr*>*>(data)->push_back(e);
        return 0;
      },
      &ex);
  auto name = [&](size_t i) -> std::string {
    return i < ex.size() ? nftnl_expr_get_str(ex[i], NFTNL_EXPR_NAME) : "";
  };
  auto u32 = [&](size_t i, uint16_t attr) { return nftnl_expr_get_u32(ex[i], attr); };
  std::vector<std::string> words;
  size_t i = 0;
  while (i < ex.size()) {
    const std::string n = name(i);
    if (n == "ct" && u32(i, NFTNL_EXPR_CT_KEY) == NFT_CT_DIRECTION && name(i + 1) == "cmp" &&
        Data(ex[i + 1], NFTNL_EXPR_CMP_DATA) == std::vector<uint8_t>{uint8_t{IP_CT_DIR_ORIGINAL}}) {
      words.push_back("ct direction original");
      i += 2;
    } else if (n == "meta" && nftnl_expr_is_set(ex[i], NFTNL_EXPR_META_DREG) &&
               u32(i, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO && name(i + 1) == "cmp" &&
               name(i + 2) == "payload" && name(i + 3) == "cmp" &&
               u32(i + 2, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_TRANSPORT_HEADER &&
               u32(i + 2, NFTNL_EXPR_PAYLOAD_OFFSET) == 2 &&
               u32(i + 2, NFTNL_EXPR_PAYLOAD_LEN) == 2) {
      const std::vector<uint8_t> proto = Data(ex[i + 1], NFTNL_EXPR_CMP_DATA);
      words.push_back(std::string(proto.size() == 1 ? ProtoOf(proto[0]) : "?proto") + " dport " +
                      std::to_string(Port(Data(ex[i + 3], NFTNL_EXPR_CMP_DATA))));
      i += 4;
    } else if (n == "meta" && u32(i, NFTNL_EXPR_META_KEY) == NFT_META_NFPROTO &&
               name(i + 1) == "cmp") {
      const std::vector<uint8_t> fam = Data(ex[i + 1], NFTNL_EXPR_CMP_DATA);
      const bool v4 = fam == std::vector<uint8_t>{uint8_t{NFPROTO_IPV4}};
      i += 2;
      if (name(i) != "payload") {
        words.push_back(v4 ? "meta nfproto ipv4" : "meta nfproto ipv6");
        continue;
      }
      CHECK(u32(i, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_NETWORK_HEADER);
      CHECK(u32(i, NFTNL_EXPR_PAYLOAD_OFFSET) == (v4 ? 12u : 8u));
      const uint32_t full = v4 ? 32 : 128;
      uint32_t prefix = u32(i, NFTNL_EXPR_PAYLOAD_LEN) * 8;
      ++i;
      if (name(i) == "bitwise") {
        prefix = 0;
        for (uint8_t b : Data(ex[i], NFTNL_EXPR_BITWISE_MASK)) {
          prefix += static_cast<uint32_t>(__builtin_popcount(b));
        }
        ++i;
      }
      std::string w = std::string(v4 ? "ip" : "ip6") + " saddr " +
                      Addr(v4 ? Family::kIpv4 : Family::kIpv6, Data(ex[i], NFTNL_EXPR_CMP_DATA));
      if (prefix != full) w += "/" + std::to_string(prefix);
      words.push_back(w);
      ++i;
    } else if (n == "meta" && u32(i, NFTNL_EXPR_META_KEY) == NFT_META_MARK &&
               name(i + 1) == "bitwise" && name(i + 2) == "meta" &&
               nftnl_expr_is_set(ex[i + 2], NFTNL_EXPR_META_SREG)) {
      // mark = (mark & ~bit) ^ bit: nft's "meta mark set meta mark | bit".
      const uint32_t mask = U32(Data(ex[i + 1], NFTNL_EXPR_BITWISE_MASK));
      const uint32_t x = U32(Data(ex[i + 1], NFTNL_EXPR_BITWISE_XOR));
      words.push_back(mask == ~x ? "meta mark set meta mark | " + Hex(x) : "?mark-set");
      i += 3;
    } else if (n == "meta" && u32(i, NFTNL_EXPR_META_KEY) == NFT_META_MARK &&
               name(i + 1) == "bitwise" && name(i + 2) == "cmp") {
      words.push_back("meta mark & " + Hex(U32(Data(ex[i + 1], NFTNL_EXPR_BITWISE_MASK))) +
                      " == " + Hex(U32(Data(ex[i + 2], NFTNL_EXPR_CMP_DATA))));
      i += 3;
    } else if (n == "immediate" && u32(i, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
      const int v = static_cast<int>(u32(i, NFTNL_EXPR_IMM_VERDICT));
      words.push_back(v == NF_ACCEPT ? "accept" : v == NF_DROP ? "drop" : "?verdict");
      ++i;
    } else if (n == "immediate" && name(i + 1) == "immediate" && name(i + 2) == "nat") {
      // Address into the register the nat expression reads it from, port into the other.
      const nftnl_expr* nat = ex[i + 2];
      CHECK(u32(i + 2, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT);
      CHECK(u32(i, NFTNL_EXPR_IMM_DREG) == u32(i + 2, NFTNL_EXPR_NAT_REG_ADDR_MIN));
      CHECK(u32(i + 1, NFTNL_EXPR_IMM_DREG) == u32(i + 2, NFTNL_EXPR_NAT_REG_PROTO_MIN));
      const bool v4 = nftnl_expr_get_u32(nat, NFTNL_EXPR_NAT_FAMILY) == NFPROTO_IPV4;
      const std::string a =
          Addr(v4 ? Family::kIpv4 : Family::kIpv6, Data(ex[i], NFTNL_EXPR_IMM_DATA));
      const std::string port = std::to_string(Port(Data(ex[i + 1], NFTNL_EXPR_IMM_DATA)));
      words.push_back(v4 ? "dnat ip to " + a + ":" + port : "dnat ip6 to [" + a + "]:" + port);
      i += 3;
    } else if (n == "masq") {
      words.push_back("masquerade");
      ++i;
    } else {
      words.push_back("?" + n);
      ++i;
    }
  }
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// What the batch does, message by message.
struct DecodedBatch {
  std::vector<std::string> table_ops;  // "NEWTABLE akrobateo create,excl", ...
  std::vector<ChainView> chains;
  bool has_begin = false;
  bool has_end = false;
  bool seqs_consecutive = true;
  bool all_acked = true;
};

DecodedBatch Decode(const Batch& batch, uint32_t first_seq) {
  DecodedBatch d;
  std::map<std::string, size_t> chain_index;
  int left = static_cast<int>(batch.bytes().size());
  uint32_t seq = first_seq;
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(batch.bytes().data()); mnl_nlmsg_ok(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left)) {
    d.seqs_consecutive = d.seqs_consecutive && nlh->nlmsg_seq == seq++;
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
      d.has_begin = true;
      continue;
    }
    if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
      d.has_end = true;
      continue;
    }
    d.all_acked = d.all_acked && (nlh->nlmsg_flags & NLM_F_ACK) != 0;
    REQUIRE(NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES);
    const uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    std::string flags;
    if (nlh->nlmsg_flags & NLM_F_CREATE) flags += " create";
    if (nlh->nlmsg_flags & NLM_F_EXCL) flags += " excl";
    if (type == NFT_MSG_NEWTABLE || type == NFT_MSG_DELTABLE) {
      NftTablePtr t(nftnl_table_alloc());
      REQUIRE(nftnl_table_nlmsg_parse(nlh, t.get()) == 0);
      d.table_ops.push_back(std::string(type == NFT_MSG_NEWTABLE ? "NEWTABLE " : "DELTABLE ") +
                            nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME) + flags);
    } else if (type == NFT_MSG_NEWCHAIN) {
      NftChainPtr c(nftnl_chain_alloc());
      REQUIRE(nftnl_chain_nlmsg_parse(nlh, c.get()) == 0);
      CHECK(nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_ACCEPT);
      ChainView v;
      v.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
      v.type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE);
      v.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
      v.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
      chain_index[v.name] = d.chains.size();
      d.chains.push_back(v);
    } else if (type == NFT_MSG_NEWRULE) {
      NftRulePtr r(nftnl_rule_alloc());
      REQUIRE(nftnl_rule_nlmsg_parse(nlh, r.get()) == 0);
      const std::string chain = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
      REQUIRE_MESSAGE(chain_index.count(chain) == 1, "rule before its chain: " << chain);
      d.chains[chain_index[chain]].rules.push_back(Decompile(r.get()));
    } else {
      FAIL("unexpected message type " << type);
    }
  }
  CHECK(left == 0);
  return d;
}

const std::vector<std::vector<std::string>> kRulesets = {
    // IPv4, one forward.
    {"--forward", "tcp/80=10.96.0.10:8080"},
    // Dual stack, tcp/udp/sctp.
    {"--forward", "tcp/80=10.96.0.10:80", "--forward", "tcp/80=[fd00:10:96::a]:80", "--forward",
     "udp/53=10.96.0.10:53", "--forward", "sctp/9999=[fd00::9]:1", "--table", "lb-x"},
    // Source ranges of both families: byte-aligned, not, whole-family and single hosts.
    {"--forward", "tcp/443=192.0.2.1:8443", "--forward", "udp/443=[2001:db8::1]:8443", "--forward",
     "sctp/36412=198.51.100.7:36412", "--source-range", "192.0.2.0/24", "--source-range",
     "10.16.0.0/12", "--source-range", "203.0.113.7/32", "--source-range", "2001:db8:1::/64",
     "--source-range", "2001:db8:8000::/33", "--source-range", "2001:db8::9/128"},
    // Ranges of one family only, and /0.
    {"--forward", "udp/7=[2001:db8::7]:8", "--source-range", "0.0.0.0/0"},
};

TEST_CASE("the install batch holds exactly the chains and rules of the --dry-run text") {
  for (const auto& args : kRulesets) {
    const Ruleset r = ParseRuleset(args);
    CAPTURE(RenderNftText(r));
    const std::vector<ChainView> text = FromText(RenderNftText(r));
    REQUIRE(!text.empty());
    for (bool commit : {true, false}) {
      for (NftInstall how : {NftInstall::kCreate, NftInstall::kReplace}) {
        const uint32_t first = 4000;
        const Batch batch = BuildNftInstallBatch(r, how, commit, first);
        const DecodedBatch d = Decode(batch, first);
        CHECK(d.has_begin);
        CHECK(d.has_end == commit);
        CHECK(d.seqs_consecutive);
        CHECK(d.all_acked);
        CHECK(batch.end_seq() == first + 1 + batch.message_count() + (commit ? 1 : 0));
        const std::string t = "TABLE " + r.table;
        const std::vector<std::string> want_tables =
            how == NftInstall::kCreate ? std::vector<std::string>{"NEW" + t + " create excl"}
                                       : std::vector<std::string>{"NEW" + t + " create", "DEL" + t,
                                                                  "NEW" + t + " create excl"};
        CHECK(d.table_ops == want_tables);
        REQUIRE(d.chains.size() == text.size());
        for (size_t i = 0; i < text.size(); ++i) CHECK(d.chains[i] == text[i]);
      }
    }
  }
}

TEST_CASE("the remove batch: create-if-absent, then delete") {
  const Batch batch = BuildNftRemoveBatch("lb-x", 7);
  const DecodedBatch d = Decode(batch, 7);
  CHECK(d.has_begin);
  CHECK(d.has_end);
  CHECK(d.table_ops == std::vector<std::string>{"NEWTABLE lb-x create", "DELTABLE lb-x"});
  CHECK(d.chains.empty());
}

}  // namespace
}  // namespace nftlb

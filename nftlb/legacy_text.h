// SPDX-License-Identifier: Apache-2.0
// The iptables-legacy backend's text form of a Ruleset: the lines nftlb writes for
// iptables-legacy-restore and reads back from iptables-legacy-save. nftlb's own chains
// (<TABLE>-PRE and <TABLE>-POST in nat, <TABLE>-FWD in filter) are written in
// iptables-save's canonical form, so that what is read back compares equal. One function
// renders the restore text, for --dry-run and for Install alike.
#ifndef AKROBATEO_NFTLB_LEGACY_TEXT_H_
#define AKROBATEO_NFTLB_LEGACY_TEXT_H_

#include <string>
#include <vector>

#include "nftlb/ruleset.h"

namespace nftlb {

// iptables-legacy chain names derived from the table name ("akrobateo" -> "AKROBATEO-PRE").
struct LegacyChains {
  std::string pre;   // nat, jumped to from PREROUTING: DNAT
  std::string post;  // nat, jumped to from POSTROUTING: MASQUERADE
  std::string fwd;   // filter, jumped to from FORWARD: source-range drops
};
LegacyChains LegacyChainNames(const std::string& table);

// The "-A CHAIN ..." lines of nftlb's own chains for one family, in iptables-save's canonical
// form (so they compare equal to what iptables-legacy-save prints back).
std::vector<std::string> LegacyNatRules(const Ruleset& r, Family f);
std::vector<std::string> LegacyFilterRules(const Ruleset& r, Family f);  // empty: no ranges

// nftlb's lines in one iptables table (nat or filter) of one family, as
// iptables-legacy-save prints them. Default: nothing of nftlb's is there.
struct LegacyTableState {
  std::vector<std::string> declared;  // our chains that exist
  std::vector<std::string> jumps;     // "-A PREROUTING -j X" lines pointing at our chains
  std::vector<std::string> rules;     // "-A X ..." lines of our chains, in order
};

// Picks nftlb's lines (for the chains of `table`) out of `iptables-legacy-save -t T` output.
LegacyTableState ParseLegacySave(const std::string& save_output, const std::string& table);

// The iptables-restore text (for `--noflush`) that makes one family's nftlb chains equal to
// r's, given what the kernel holds in that family's nat and filter tables: r's chains and
// rules, the jumps that are not there yet, and the removal of chains r does not want.
// Empty when there is nothing to change. For a family where nothing is installed yet this
// is what --dry-run prints.
std::string LegacyRestoreText(const Ruleset& r, Family f, const LegacyTableState& nat,
                              const LegacyTableState& filter);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_LEGACY_TEXT_H_

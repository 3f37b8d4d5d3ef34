// SPDX-License-Identifier: Apache-2.0
// The nftables backend's text form of a Ruleset: the `nft -f` input that --dry-run prints,
// rendered from the same layout (nft_layout.h) as the install batch.
#ifndef AKROBATEO_NFTLB_NFT_TEXT_H_
#define AKROBATEO_NFTLB_NFT_TEXT_H_

#include <string>

#include "nftlb/ruleset.h"

namespace nftlb {

// `nft -f` text, identical to what `nft list table inet NAME` prints once installed.
std::string RenderNftText(const Ruleset& r);

}  // namespace nftlb

#endif  // AKROBATEO_NFTLB_NFT_TEXT_H_

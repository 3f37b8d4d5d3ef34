# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Case (sourced by e2e.sh): the whole chain on this machine (chain.sh): the real nftlb in a
# network namespace per Node with the args read back from the echoserver's DaemonSet, the
# ClusterIP held by a backend echo server, and a request from a client namespace to every ingress
# address. Needs root; skipped, saying so, without it.
# Needs: daemonset.sh (the echoserver, its ClusterIP in $cip).
if [ "$(id -u)" != 0 ] || ! ip netns add "$netns_prefix-probe" 2>/dev/null; then
  skipped "data path through nftlb" "needs root and network namespaces"
else
  ip netns del "$netns_prefix-probe"
  if chain_up default echoserver > "$dir/chain.out" 2>&1; then
    for a in $(ingress_of default echoserver); do
      reply=$(chain_request "$a" 8080 2>&1) || true
      if grep -q "answered on $cip port 8080" <<<"$reply"; then ok "request to $a:8080 answered through nftlb: $reply"
      else bad "request to $a:8080 answered through nftlb" "got '$reply'"; fi
    done
  else
    bad "data-path chain set up" "$(tail -3 "$dir/chain.out" | tr '\n' ' ')"
  fi
  chain_down
fi

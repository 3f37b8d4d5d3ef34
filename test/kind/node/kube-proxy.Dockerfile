# SPDX-License-Identifier: Apache-2.0
# kube-proxy for the locally built kind node image (test/kind/node-image.sh). Unlike the other
# control-plane images it cannot be FROM scratch: in iptables mode it runs iptables-restore and
# in nftables mode nft. Debian's iptables is the nf_tables variant, as on this machine's nodes.
ARG BASE_IMAGE=localhost/akrobateo-debian:bookworm-minbase
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iptables nftables conntrack kmod \
 && rm -rf /var/lib/apt/lists/*
COPY kube-proxy /usr/local/bin/kube-proxy
ENTRYPOINT ["/usr/local/bin/kube-proxy"]

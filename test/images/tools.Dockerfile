# SPDX-License-Identifier: Apache-2.0
# Test-only image for test/images/run.sh: the backend (socat echo servers), the client (socat),
# and the inspector (nft, iptables, ip) around the nftlb container. Built locally from the same
# Debian base as the product images, since nothing can be pulled here.
ARG BASE_IMAGE=localhost/akrobateo-debian:bookworm-minbase
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      socat nftables iptables iproute2 \
 && rm -rf /var/lib/apt/lists/*

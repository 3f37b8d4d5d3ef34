# SPDX-License-Identifier: Apache-2.0
# The kind benchmark's client and server (test/bench/kind.sh): iperf3, and the new-connection
# server and client, on the project's Debian base (nothing can be pulled here).
ARG BASE_IMAGE=localhost/akrobateo-debian:bookworm-minbase
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iperf3 python3-minimal \
 && rm -rf /var/lib/apt/lists/*
COPY accept.py connect.py /bench/

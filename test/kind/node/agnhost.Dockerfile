# SPDX-License-Identifier: Apache-2.0
# agnhost, Kubernetes' e2e test image, for the kind node image built here
# (test/kind/node-image.sh). Kubernetes' specs run more than /agnhost in it: they `kubectl exec`
# shell pipelines (`echo hostName | nc -v -t -w 2 NAME PORT`, `wget -T 5 -qO- ADDR`, `curl ...`,
# `dig`), so it carries what the upstream image carries (test/images/agnhost/Dockerfile in the
# kubernetes module: a shell, curl, netcat-openbsd, iproute2, iperf, dig, util-linux, and
# busybox's wget, as there: GNU wget retries a timed-out connection 20 times where the specs
# expect one try), from Debian's packages instead of Alpine's, and its layout: /agnhost
# (+ /agnhost-2), /uploads, porter's test certificate, user 1000 in group 50000, entrypoint /agnhost pause.
# Left out: the fake registry's content and CoreDNS 1.6.2 (DNS specs only; no LoadBalancer spec
# uses them).
ARG BASE_IMAGE=localhost/akrobateo-debian:bookworm-minbase
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bash busybox curl netcat-openbsd iproute2 iperf bind9-dnsutils util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/iperf /usr/local/bin/iperf \
 && ln -s /bin/busybox /usr/local/bin/wget \
 && mkdir /uploads \
 && groupadd -g 50000 group-defined-in-image \
 && useradd -u 1000 -M -s /bin/sh -G group-defined-in-image user-defined-in-image
COPY porter/localhost.crt porter/localhost.key /
COPY agnhost /agnhost
RUN ln -s agnhost /agnhost-2
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT ["/agnhost"]
CMD ["pause"]

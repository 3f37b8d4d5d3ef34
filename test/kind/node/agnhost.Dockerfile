# SPDX-License-Identifier: Apache-2.0
# agnhost, Kubernetes' e2e test image, for the kind node image built here
# (test/kind/node-image.sh). Kubernetes' specs run more than /agnhost in it: they `kubectl exec`
# shell pipelines (`echo hostName | nc -v -t -w 2 NAME PORT`, `wget -T 5 -qO- ADDR`, `curl ...`,
# `dig`), so it carries what the upstream image carries (test/images/agnhost/Dockerfile in the
# kubernetes module: a shell, curl, netcat-openbsd, iproute2, iperf, dig, util-linux, busybox and
# a wget that tries once, as Alpine's busybox wget there does), from Debian's packages instead of
# Alpine's, and its layout: /agnhost
# (+ /agnhost-2), /uploads, porter's test certificate, user 1000 in group 50000, entrypoint /agnhost pause.
# The wget is GNU wget with `tries = 1` in /etc/wgetrc: Debian bookworm's busybox 1.35.0 (dynamic
# and static) dies with SIGSEGV on `wget -T N`, the form the source-ranges spec uses, and GNU wget
# would otherwise retry a timed-out connection 20 times where the specs expect one try.
# Left out: the fake registry's content and CoreDNS 1.6.2 (DNS specs only; no LoadBalancer spec
# uses them).
ARG BASE_IMAGE=localhost/akrobateo-debian:bookworm-minbase
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bash busybox curl netcat-openbsd iproute2 iperf bind9-dnsutils util-linux ca-certificates wget \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/iperf /usr/local/bin/iperf \
 && echo 'tries = 1' >/etc/wgetrc \
 && mkdir /uploads \
 && groupadd -g 50000 group-defined-in-image \
 && useradd -u 1000 -M -s /bin/sh -G group-defined-in-image user-defined-in-image
COPY porter/localhost.crt porter/localhost.key /
COPY agnhost /agnhost
RUN ln -s agnhost /agnhost-2
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT ["/agnhost"]
CMD ["pause"]

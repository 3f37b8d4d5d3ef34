# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Requests to the test echoserver (agnhost netexec, test/kind/echoserver.yaml) from the host,
# shared by the kind and k3d end to ends (sourced, not run): each succeeds only when a pod of the
# echoserver answered.

url_host() { case "$1" in *:*) echo "[$1]" ;; *) echo "$1" ;; esac; }
http_hostname() { curl -fsS --max-time 3 "http://$(url_host "$1"):$2/hostname" | grep -q '^echoserver-'; }
http_fails() { ! curl -fsS --max-time 3 "http://$(url_host "$1"):$2/hostname" >/dev/null 2>&1; }
udp_hostname() { # bash's /dev/udp: no extra tool on the host
  local reply
  # dd reads once: exactly one datagram, the reply.
  reply="$(timeout 3 bash -c "exec 3<>/dev/udp/$1/$2; printf hostname >&3; dd bs=512 count=1 status=none <&3")" ||
    return 1
  [[ "$reply" == echoserver-* ]]
}

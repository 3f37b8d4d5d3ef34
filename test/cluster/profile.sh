# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings are read by the scripts that source this file
# Where a control plane lives (sourced by cluster.sh and lib.sh). Several can run side by side,
# so that `make test` or `make bench` never tears down the cluster of a running `make demo`:
#   AKROBATEO_CLUSTER_PROFILE  ""    build/cluster/        ports 26xxx  netns akb-*  (cluster-up, demo)
#                              e2e   build/cluster-e2e/    ports 27xxx  netns akt-*  (make test-cluster)
#                              bench build/cluster-bench/  ports 28xxx               (make bench)
#                              record build/cluster-record/ ports 29xxx              (record-fixtures.sh)
# Each setting can still be moved on its own: AKROBATEO_CLUSTER_DIR, AKROBATEO_*_PORT.
case ${AKROBATEO_CLUSTER_PROFILE:-} in
  "") profile_base=26 profile_name=cluster profile_ns=akb ;;
  e2e) profile_base=27 profile_name=cluster-e2e profile_ns=akt ;;
  bench) profile_base=28 profile_name=cluster-bench profile_ns=akc ;;
  record) profile_base=29 profile_name=cluster-record profile_ns=akr ;;
  *) echo "unknown AKROBATEO_CLUSTER_PROFILE '${AKROBATEO_CLUSTER_PROFILE}' (e2e, bench, record or empty)" >&2; exit 2 ;;
esac
dir=${AKROBATEO_CLUSTER_DIR:-$root/build/$profile_name}
etcd_port=${AKROBATEO_ETCD_PORT:-${profile_base}379}
etcd_peer_port=${AKROBATEO_ETCD_PEER_PORT:-${profile_base}380}
api_port=${AKROBATEO_APISERVER_PORT:-${profile_base}443}
kcm_port=${AKROBATEO_KCM_PORT:-${profile_base}257}
sched_port=${AKROBATEO_SCHEDULER_PORT:-${profile_base}259}
kwok_port=${AKROBATEO_KWOK_PORT:-${profile_base}247}
netns_prefix=${AKROBATEO_NETNS_PREFIX:-$profile_ns}

// SPDX-License-Identifier: Apache-2.0
#include "nftlb/ip_forwarding.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace nftlb {

namespace {

struct MnlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
struct NameIndexFree {
  void operator()(struct if_nameindex* p) const { if_freenameindex(p); }
};

Status SetInetConf(mnl_socket* nl, uint32_t portid, unsigned index, const char* name,
                   uint32_t seq) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_SETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(index);
  nlattr* af_spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
  nlattr* inet = mnl_attr_nest_start(nlh, AF_INET);
  nlattr* conf = mnl_attr_nest_start(nlh, IFLA_INET_CONF);
  mnl_attr_put_u32(nlh, IPV4_DEVCONF_FORWARDING, 1);
  mnl_attr_put_u32(nlh, IPV4_DEVCONF_SEND_REDIRECTS, 0);
  mnl_attr_nest_end(nlh, conf);
  mnl_attr_nest_end(nlh, inet);
  mnl_attr_nest_end(nlh, af_spec);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    return Errno("rtnetlink RTM_SETLINK", errno);
  }
  const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
  if (n < 0) return Errno("rtnetlink reply", errno);
  if (mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, nullptr, nullptr) < 0) {
    // An interface without IPv4 (e.g. some tunnel devices) carries no IPv4 traffic to
    // forward; skip it rather than fail.
    if (errno == EAFNOSUPPORT) return Ok();
    return Errno(std::string("enabling IPv4 forwarding on ") + name +
                     " (RTM_SETLINK IPV4_DEVCONF_FORWARDING)",
                 errno);
  }
  return Ok();
}

}  // namespace

Status EnableIpv4Forwarding() {
  std::unique_ptr<mnl_socket, MnlCloser> nl(mnl_socket_open(NETLINK_ROUTE));
  if (!nl) return Errno("cannot open rtnetlink socket", errno);
  if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return Errno("cannot bind rtnetlink socket", errno);
  }
  std::unique_ptr<struct if_nameindex, NameIndexFree> ifs(if_nameindex());
  if (!ifs) return Errno("listing interfaces", errno);
  uint32_t seq = 1;
  for (struct if_nameindex* i = ifs.get(); i->if_index != 0; ++i) {
    if (std::strcmp(i->if_name, "lo") == 0) continue;
    Status s =
        SetInetConf(nl.get(), mnl_socket_get_portid(nl.get()), i->if_index, i->if_name, seq++);
    if (!s.ok()) return s;
  }
  return Ok();
}

Status EnsureIpv6Forwarding() {
  const char* path = "/proc/sys/net/ipv6/conf/all/forwarding";
  std::ifstream in(path);
  std::string value;
  if (!(in >> value)) {
    return Error{std::string("IPv6 targets need IPv6, but ") + path +
                 " is unreadable (IPv6 disabled?)"};
  }
  if (value == "1") return Ok();
  // Plain open/write, so that the errno reported is the one of the call that failed.
  std::string why;
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
  } else {
    if (write(fd, "1\n", 2) != 2) why = std::strerror(errno);
    close(fd);
  }
  if (why.empty()) {
    std::ifstream again(path);
    if (again >> value && value == "1") return Ok();
    why = "the write was accepted but the value stayed " + value;
  }
  return Error{std::string("IPv6 targets need net.ipv6.conf.all.forwarding=1; it is 0 "
                           "and cannot be set here (") +
               why + "): allow the sysctl in the pod's securityContext"};
}

}  // namespace nftlb

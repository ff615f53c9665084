#include "dispatcher/http/transport_events.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <stdexcept>
#include <utility>
#include <vector>

namespace tsdsr::dispatcher {
namespace {

using Pistache::Polling::NotifyOn;

Pistache::Aio::FdSet OneEvent(Pistache::Polling::Tag tag, NotifyOn flag) {
  std::vector<Pistache::Polling::Event> events;
  events.emplace_back(tag);
  events.back().flags.setFlag(flag);
  return Pistache::Aio::FdSet(std::move(events));
}

}  // namespace

void HandOverEvents(const Pistache::Aio::FdSet& events,
                    const std::function<void(const Pistache::Aio::FdSet&)>& handle) {
  for (const auto& event : events) {
    if (event.isReadable()) handle(OneEvent(event.getTag(), NotifyOn::Read));
    if (!event.isWritable()) continue;
    try {
      handle(OneEvent(event.getTag(), NotifyOn::Write));
    } catch (const std::runtime_error&) {
      if (!event.isReadable()) throw;  // as Pistache itself would
    }
  }
}

std::string ClientAddress(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return "?";
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    ::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host);
    port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host);
    port = ntohs(v6.sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace tsdsr::dispatcher

// net/asio.hpp: the one way mxwarden includes Asio. Boost 1.74's
// awaitable.hpp uses std::exchange without including <utility>.
#pragma once
#include <utility>

#include <boost/asio.hpp>

namespace mxw {
namespace asio = boost::asio;
}

#include "proto/policy_attrs.hpp"

#include "proto/errors.hpp"
#include "proto/limits.hpp"

#include <array>
#include <utility>

namespace mxw::proto {
namespace {

using field_ptr = std::string policy_request::*;

struct known_attr {
    std::string_view name;
    field_ptr field;
};

constexpr std::array<known_attr, 10> known_attrs{{
    {attr::protocol_state, &policy_request::protocol_state},
    {attr::protocol_name, &policy_request::protocol_name},
    {attr::helo_name, &policy_request::helo_name},
    {attr::queue_id, &policy_request::queue_id},
    {attr::sender, &policy_request::sender},
    {attr::recipient, &policy_request::recipient},
    {attr::client_address, &policy_request::client_address},
    {attr::client_name, &policy_request::client_name},
    {attr::reverse_client_name, &policy_request::reverse_client_name},
    {attr::instance, &policy_request::instance},
}};

void put_clean(std::string& out, std::string_view v)
{
    for (char c : v)
        out.push_back(c == '\n' || c == '\0' ? '?' : c);
}

}  // namespace

void policy_request::clear() noexcept
{
    for (const auto& k : known_attrs)
        (this->*k.field).clear();
}

step policy_decoder::fail(std::error_code ec) noexcept
{
    ec_ = ec;
    return step::error;
}

step policy_decoder::feed(std::string_view in) noexcept
{
    if (ec_) {
        lines_.consume_nothing();
        return step::error;
    }
    if (frame_done_) {
        req_.clear();
        lines_.new_frame();
        attributes_ = 0;
        saw_request_attr_ = false;
        frame_done_ = false;
    }
    return lines_.feed(in, ec_, [this](std::string_view line) { return finish_line(line); });
}

step policy_decoder::finish_line(std::string_view line) noexcept
{
    if (line.empty()) {
        if (!saw_request_attr_)
            return fail(proto_errc::not_policy_request);
        frame_done_ = true;
        return step::frame;
    }
    if (++attributes_ > max_policy_attributes)
        return fail(proto_errc::too_many_attributes);
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos)
        return fail(proto_errc::missing_equals);
    if (eq == 0)
        return fail(proto_errc::empty_name);
    std::string_view name = line.substr(0, eq);
    std::string_view value = line.substr(eq + 1);
    if (name == attr::request) {
        if (value != attr::access_policy)
            return fail(proto_errc::not_policy_request);
        saw_request_attr_ = true;
    } else {
        for (const auto& k : known_attrs) {
            if (k.name == name) {
                (req_.*k.field).assign(value);
                break;
            }
        }
    }
    return step::need_more;
}

std::string encode_policy_request(const policy_request& req)
{
    std::string out;
    out.reserve(512);
    out.append(attr::request).append("=").append(attr::access_policy).append("\n");
    // Empty attributes are left out: the decoder treats absent and empty
    // alike, and the encoding then never outgrows the request it came from.
    for (const auto& k : known_attrs) {
        if ((req.*k.field).empty())
            continue;
        out.append(k.name).push_back('=');
        put_clean(out, req.*k.field);
        out.push_back('\n');
    }
    out.push_back('\n');
    return out;
}

std::string encode_policy_reply(std::string_view action)
{
    std::string out;
    out.reserve(action.size() + 9);
    out.append("action=");
    for (char c : action)
        out.push_back(c == '\n' || c == '\r' || c == '\0' ? ' ' : c);
    out.append("\n\n");
    return out;
}

}  // namespace mxw::proto

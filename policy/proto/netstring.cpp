#include "proto/netstring.hpp"

#include "proto/errors.hpp"
#include "proto/limits.hpp"

#include <algorithm>

namespace mxw::proto {

netstring_decoder::netstring_decoder(std::size_t max_payload) noexcept : max_payload_(max_payload) {}

void netstring_decoder::reset() noexcept
{
    state_ = state::length;
    length_ = 0;
    digits_ = 0;
    payload_.clear();
    frame_done_ = false;
    consumed_ = 0;
    ec_.clear();
}

step netstring_decoder::fail(std::error_code ec) noexcept
{
    ec_ = ec;
    return step::error;
}

step netstring_decoder::feed(std::string_view in) noexcept
{
    consumed_ = 0;
    if (ec_)
        return step::error;
    if (frame_done_)
        reset();
    while (consumed_ < in.size()) {
        switch (state_) {
        case state::length: {
            char c = in[consumed_];
            if (c == ':') {
                if (digits_ == 0)
                    return fail(proto_errc::netstring_empty_length);
                ++consumed_;
                // The length is known and within the limit, so reserving it
                // cannot be used to make us allocate more than max_payload.
                payload_.reserve(length_);
                state_ = length_ == 0 ? state::comma : state::payload;
                break;
            }
            if (c < '0' || c > '9')
                return fail(proto_errc::netstring_bad_length);
            // Leading zeros add digits but no value; the digit cap keeps an
            // endless run of them from being read forever.
            if (digits_ == max_netstring_length_digits)
                return fail(proto_errc::netstring_length_too_long);
            // Reject before buffering: a peer announcing a huge length must
            // not make us allocate it. The test is written so that it cannot
            // overflow, whatever max_payload is.
            auto d = static_cast<std::size_t>(c - '0');
            if (length_ > max_payload_ / 10 || d > max_payload_ - length_ * 10)
                return fail(proto_errc::netstring_too_long);
            length_ = length_ * 10 + d;
            ++digits_;
            ++consumed_;
            break;
        }
        case state::payload: {
            std::size_t take = std::min(length_ - payload_.size(), in.size() - consumed_);
            payload_.append(in.substr(consumed_, take));
            consumed_ += take;
            if (payload_.size() == length_)
                state_ = state::comma;
            break;
        }
        case state::comma:
            if (in[consumed_] != ',')
                return fail(proto_errc::netstring_missing_comma);
            ++consumed_;
            frame_done_ = true;
            return step::frame;
        }
    }
    return step::need_more;
}

std::string encode_netstring(std::string_view payload)
{
    std::string out = std::to_string(payload.size());
    out.reserve(out.size() + payload.size() + 2);
    out.push_back(':');
    out.append(payload);
    out.push_back(',');
    return out;
}

}  // namespace mxw::proto

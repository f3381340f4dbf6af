// proto/netstring.hpp: incremental netstring decoder and encoder.
// Wire form (cr.yp.to/proto/netstrings.txt): <decimal length> ":" <payload> ","
// with any bytes in the payload. Leading zeros in the length are accepted, as
// Postfix's netstring_get_length() does; an empty length is not (Postfix reads
// ":," as an empty netstring, but no sender writes it). Limits: the caller's
// max_payload and max_netstring_length_digits (proto/limits.hpp). Pure code:
// the caller owns the socket and buffer and feeds bytes as they arrive.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "proto/step.hpp"

namespace mxw::proto {

/// Incremental decoder for one connection. feed() may be called with any
/// split of the byte stream, down to one byte at a time, with the same result.
class netstring_decoder {
public:
    /// Payloads longer than `max_payload` bytes are refused while the length
    /// is read, before any payload byte is buffered. Limits beyond
    /// max_netstring_length_digits digits cannot be reached.
    explicit netstring_decoder(std::size_t max_payload) noexcept;

    /// Consumes a prefix of `in`. Returns step::frame when a netstring is
    /// complete (payload() then holds it), step::error with error() set on
    /// malformed or oversized input (the stream is beyond repair: the caller
    /// disconnects; the decoder stays failed until reset()), else
    /// step::need_more after using all of `in`. consumed() tells how much of
    /// `in` was used; the rest belongs to the next netstring.
    [[nodiscard]] step feed(std::string_view in) noexcept;
    [[nodiscard]] std::size_t consumed() const noexcept { return consumed_; }
    /// The payload of the frame the last feed() completed, a copy owned by
    /// the decoder: valid until the next feed() or reset(), whatever the
    /// caller does to its own buffer meanwhile.
    [[nodiscard]] std::string_view payload() const noexcept { return payload_; }
    [[nodiscard]] std::error_code error() const noexcept { return ec_; }
    /// Back to the start of a netstring with no error, keeping capacity.
    void reset() noexcept;

private:
    enum class state { length, payload, comma };
    step fail(std::error_code ec) noexcept;

    std::size_t max_payload_;
    state state_ = state::length;
    std::size_t length_ = 0;   // the declared payload length, read so far
    std::size_t digits_ = 0;   // length digits read so far
    std::string payload_;      // holds at most length_ <= max_payload_ bytes
    bool frame_done_ = false;  // last feed() ended a frame: start afresh
    std::size_t consumed_ = 0;
    std::error_code ec_;
};

/// "<length>:<payload>," with the length in decimal, no leading zeros.
std::string encode_netstring(std::string_view payload);

}  // namespace mxw::proto

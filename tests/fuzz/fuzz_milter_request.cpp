// Fuzz target for milter/milter_request: the milter's translation of MTA
// macros and callback arguments into a policy request, of the daemon's
// action into a milter verdict, and its message capture.
//
// Input layout: byte 0 holds flags (bit 0: raw header value, bit 1: on-error
// tempfail), byte 1 the capture cap in 64-byte units; then fields, each a
// 2-byte little-endian length (cut to what is left) and its bytes: the six
// connect macros, the MAIL FROM argument, the daemon's action text, the
// quarantine transport, a header name and value, and a body chunk.
// Invariants: every attribute is control-free and within
// max_attribute_bytes, and the request the milter would send decodes on
// the daemon's side to the same request; reply text is control-free,
// within max_reply_text_bytes, with '%' only doubled; a reject or tempfail
// carries a code of its class, a tag a valid header that fits one line, a
// quarantine a one-word reason; the capture never holds more than its cap,
// and holds nothing once it overflowed.
#include "milter/milter_request.hpp"
#include "proto/policy_attrs.hpp"
#include "proto/policy_reply.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using mxw::milter::milter_verdict;
namespace milter = mxw::milter;
namespace proto = mxw::proto;

// Fuzz builds define NDEBUG in release modes, so invariants abort explicitly.
void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

bool control_free(std::string_view s)
{
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return false;
    return true;
}

struct reader {
    std::string_view in;
    std::string_view take()
    {
        if (in.size() < 2) {
            in = {};
            return {};
        }
        std::size_t n = static_cast<std::uint8_t>(in[0]) | static_cast<std::size_t>(static_cast<std::uint8_t>(in[1])) << 8;
        in.remove_prefix(2);
        std::string_view out = in.substr(0, n);
        in.remove_prefix(out.size());
        return out;
    }
};

void check_attribute(std::string_view v, const char* what)
{
    require(v.size() <= milter::max_attribute_bytes, what);
    require(control_free(v), what);
}

void check_reply_text(std::string_view t)
{
    require(t.size() <= milter::max_reply_text_bytes, "reply text within the libmilter limit");
    require(control_free(t), "reply text is control-free");
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] != '%')
            continue;
        require(i + 1 < t.size() && t[i + 1] == '%', "'%' only doubled");
        ++i;
    }
}

void check_request_round_trip(const proto::policy_request& req)
{
    std::string wire = proto::encode_policy_request(req);
    proto::policy_decoder d;
    require(d.feed(wire) == proto::step::frame, "the milter's request decodes in the daemon");
    require(d.consumed() == wire.size(), "the milter's request is consumed whole");
    require(d.request() == req, "the daemon sees what the milter sent");
}

void check_verdict(const milter_verdict& v)
{
    using kind = milter_verdict::kind;
    switch (v.what) {
    case kind::reject:
    case kind::tempfail: {
        char cls = v.what == kind::reject ? '5' : '4';
        require(v.rcode.size() == 3 && v.rcode[0] == cls, "reply code of the verdict's class");
        require(v.rcode[1] >= '0' && v.rcode[1] <= '9' && v.rcode[2] >= '0' && v.rcode[2] <= '9', "digits");
        require(v.xcode.empty() || v.xcode[0] == cls, "enhanced code of the same class");
        check_reply_text(v.text);
        break;
    }
    case kind::tag:
        require(!v.header_name.empty(), "a tag has a header name");
        for (char c : v.header_name)
            require(c > ' ' && c < 0x7f && c != ':', "the header name is printable, without ':'");
        require(v.header_name.size() + 2 + v.header_value.size() <= milter::max_header_line_bytes,
                "the added header fits one line");
        require(control_free(v.header_value), "the header value is control-free");
        break;
    case kind::quarantine:
        require(!v.reason.empty() && v.reason.size() <= 100, "a quarantine reason is one short word");
        for (char c : v.reason)
            require(c > ' ' && c < 0x7f, "the reason is printable");
        break;
    case kind::proceed:
    case kind::discard: break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const bool raw_value = (data[0] & 1) != 0;
    const bool tempfail = (data[0] & 2) != 0;
    const std::size_t cap = std::size_t{data[1]} * 64;
    reader r{std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2)};

    milter::connect_macros m;
    m.client_addr = r.take();
    m.client_name = r.take();
    m.client_ptr = r.take();
    m.client_resolve = r.take();
    m.hostname_arg = r.take();
    m.sockaddr_text = r.take();
    proto::policy_request req;
    req.protocol_state = milter::protocol_state(milter::stage::rcpt);
    req.protocol_name = "ESMTP";
    milter::apply_client(req, m);
    check_attribute(req.client_address, "client_address is a clean attribute");
    check_attribute(req.client_name, "client_name is a clean attribute");
    check_attribute(req.reverse_client_name, "reverse_client_name is a clean attribute");
    req.sender = milter::envelope_address(r.take());
    check_attribute(req.sender, "the sender is a clean attribute");
    check_request_round_trip(req);

    std::string_view action = r.take();
    std::string_view transport = r.take();
    check_verdict(milter::map_action(proto::parse_policy_action(action), transport));
    check_reply_text(milter::escape_reply_text(action));
    check_verdict(milter::on_error_verdict(tempfail));

    milter::message_capture capture(cap);
    std::string_view name = r.take();
    std::string_view value = r.take();
    capture.add_header(name, value, raw_value);
    capture.end_of_headers();
    capture.add_body(r.take());
    require(capture.data().size() <= cap, "the capture never outgrows its cap");
    require(capture.total_bytes() >= capture.data().size(), "the total counts every byte offered");
    if (capture.overflowed())
        require(capture.data().empty(), "an overflowed capture holds nothing");
    else
        require(capture.data().size() == capture.total_bytes(), "a capture within its cap keeps everything");
    return 0;
}

#include "proto/json.hpp"

namespace mxw::proto {

void json_writer::separate()
{
    if (need_comma_)
        out_.push_back(',');
    need_comma_ = false;
}

json_writer& json_writer::begin_object()
{
    separate();
    out_.push_back('{');
    return *this;
}

json_writer& json_writer::end_object()
{
    out_.push_back('}');
    need_comma_ = true;
    return *this;
}

json_writer& json_writer::begin_array()
{
    separate();
    out_.push_back('[');
    return *this;
}

json_writer& json_writer::end_array()
{
    out_.push_back(']');
    need_comma_ = true;
    return *this;
}

json_writer& json_writer::key(std::string_view k)
{
    separate();
    put_string(k);
    out_.push_back(':');
    return *this;
}

json_writer& json_writer::value(std::string_view v)
{
    separate();
    put_string(v);
    need_comma_ = true;
    return *this;
}

json_writer& json_writer::value(std::int64_t v)
{
    separate();
    out_.append(std::to_string(v));
    need_comma_ = true;
    return *this;
}

json_writer& json_writer::value(bool v)
{
    separate();
    out_.append(v ? "true" : "false");
    need_comma_ = true;
    return *this;
}

json_writer& json_writer::raw_value(std::string_view json)
{
    separate();
    out_.append(json);
    need_comma_ = true;
    return *this;
}

void json_writer::put_string(std::string_view s)
{
    static constexpr char hex[] = "0123456789abcdef";
    out_.push_back('"');
    for (auto c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u == '"' || u == '\\') {
            out_.push_back('\\');
            out_.push_back(c);
        } else if (u < 0x20 || u >= 0x7f) {
            // Peer text is not trusted to be UTF-8: escaping every non-ASCII
            // byte keeps the document valid whatever came in.
            out_.append("\\u00");
            out_.push_back(hex[u >> 4]);
            out_.push_back(hex[u & 0xf]);
        } else {
            out_.push_back(c);
        }
    }
    out_.push_back('"');
}

}  // namespace mxw::proto

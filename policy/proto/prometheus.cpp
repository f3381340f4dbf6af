#include "proto/prometheus.hpp"

#include <charconv>
#include <cmath>

namespace mxw::proto {
namespace {

std::string number(double v)
{
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v))
        return "NaN";
    // Counters are whole numbers: print them without an exponent.
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        return std::to_string(static_cast<long long>(v));
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, p) : "NaN";
}

}  // namespace

void histogram::observe(double seconds) noexcept
{
    std::size_t i = 0;
    while (i < latency_buckets.size() && seconds > latency_buckets[i])
        ++i;
    ++counts[i];
    sum += seconds;
    ++count;
}

std::string prometheus_escape(std::string_view s, bool label_value)
{
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && label_value)
            out += "\\\"";
        else
            out.push_back(c);
    }
    return out;
}

prometheus_writer& prometheus_writer::family(std::string_view name, std::string_view type, std::string_view help)
{
    out_.append("# HELP ").append(name).append(" ").append(prometheus_escape(help, false)).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    return *this;
}

void prometheus_writer::write_labels(labels l, std::string_view extra_name, std::string_view extra_value)
{
    if (l.size() == 0 && extra_name.empty())
        return;
    out_.push_back('{');
    bool first = true;
    for (const auto& [k, v] : l) {
        out_.append(first ? "" : ",").append(k).append("=\"").append(prometheus_escape(v, true)).append("\"");
        first = false;
    }
    if (!extra_name.empty())
        out_.append(first ? "" : ",").append(extra_name).append("=\"").append(extra_value).append("\"");
    out_.push_back('}');
}

prometheus_writer& prometheus_writer::sample(std::string_view name, double value, labels l)
{
    out_.append(name);
    write_labels(l);
    out_.append(" ").append(number(value)).append("\n");
    return *this;
}

prometheus_writer& prometheus_writer::histogram_samples(std::string_view name, const histogram& h, labels l)
{
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= latency_buckets.size(); ++i) {
        cumulative += h.counts[i];
        out_.append(name).append("_bucket");
        write_labels(l, "le", i < latency_buckets.size() ? number(latency_buckets[i]) : "+Inf");
        out_.append(" ").append(number(static_cast<double>(cumulative))).append("\n");
    }
    out_.append(name).append("_sum");
    write_labels(l);
    out_.append(" ").append(number(h.sum)).append("\n");
    out_.append(name).append("_count");
    write_labels(l);
    out_.append(" ").append(number(static_cast<double>(h.count))).append("\n");
    return *this;
}

}  // namespace mxw::proto

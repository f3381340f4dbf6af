// web/svg_chart.cpp: the health page's bar charts (see svg_chart.hpp).
#include "web/svg_chart.hpp"

#include "web/html.hpp"

#include <algorithm>
#include <cstdio>

namespace mxw::web {

namespace {

// The drawing area inside a fixed view box; the browser scales the whole.
constexpr int width = 600;
constexpr int height = 160;
constexpr int left = 50;
constexpr int right = 10;
constexpr int top = 28;
constexpr int bottom = 22;
constexpr int plot_w = width - left - right;
constexpr int plot_h = height - top - bottom;

std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

}  // namespace

std::string svg_bar_chart(const chart_spec& spec, const std::vector<chart_bucket>& buckets)
{
    std::string id;
    for (char c : spec.id)
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            id += c;
    const std::int64_t span = std::max<std::int64_t>(spec.span_seconds, 1);
    const std::int64_t bucket = std::clamp<std::int64_t>(spec.bucket_seconds, 1, span);
    const std::int64_t from = spec.now - span;

    const std::size_t n = std::min(buckets.size(), max_chart_buckets);
    std::uint64_t max = 0;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (buckets[i].start >= from && buckets[i].start < spec.now) {
            max = std::max(max, buckets[i].value);
            ++shown;
        }

    std::string out;
    out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\"";
    if (!id.empty())
        out += " id=\"" + id + "\"";
    out += " viewBox=\"0 0 " + std::to_string(width) + ' ' + std::to_string(height) +
           "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
           "\" role=\"img\" aria-label=\"";
    escape_into(out, spec.title);
    out += "\"><title>";
    escape_into(out, spec.title);
    out += "</title>";
    out += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
           "\" fill=\"#ffffff\" stroke=\"#dddddd\"/>";
    out += "<text class=\"chart-title\" x=\"" + std::to_string(left) +
           "\" y=\"18\" font-size=\"13\" font-weight=\"bold\" fill=\"#1d1d1f\">";
    escape_into(out, spec.title);
    out += "</text>";
    out += "<text class=\"chart-max\" x=\"" + std::to_string(left - 4) + "\" y=\"" + std::to_string(top + 4) +
           "\" font-size=\"10\" text-anchor=\"end\" fill=\"#555555\">" + std::to_string(max) + "</text>";
    out += "<text x=\"" + std::to_string(left - 4) + "\" y=\"" + std::to_string(top + plot_h) +
           "\" font-size=\"10\" text-anchor=\"end\" fill=\"#555555\">0</text>";
    // Axes.
    out += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(top + plot_h) + "\" x2=\"" +
           std::to_string(left + plot_w) + "\" y2=\"" + std::to_string(top + plot_h) +
           "\" stroke=\"#888888\" stroke-width=\"1\"/>";
    out += "<line x1=\"" + std::to_string(left) + "\" y1=\"" + std::to_string(top) + "\" x2=\"" +
           std::to_string(left) + "\" y2=\"" + std::to_string(top + plot_h) +
           "\" stroke=\"#888888\" stroke-width=\"1\"/>";
    // Labels every quarter of the span, in hours ago.
    for (int q = 0; q <= 4; ++q) {
        const double x = left + plot_w * q / 4.0;
        const std::int64_t ago_h = (span - span * q / 4) / 3600;
        std::string label = q == 4 ? "now" : std::to_string(ago_h) + " h ago";
        out += "<text class=\"chart-axis\" x=\"" + num(x) + "\" y=\"" + std::to_string(height - 6) +
               "\" font-size=\"10\" text-anchor=\"" + (q == 0 ? "start" : q == 4 ? "end" : "middle") +
               "\" fill=\"#555555\">" + label + "</text>";
    }

    if (shown == 0) {
        out += "<text class=\"chart-empty\" x=\"" + std::to_string(left + plot_w / 2) + "\" y=\"" +
               std::to_string(top + plot_h / 2) +
               "\" font-size=\"12\" text-anchor=\"middle\" fill=\"#888888\">no data</text>";
    } else {
        const double bar_w = std::max(plot_w * static_cast<double>(bucket) / static_cast<double>(span), 0.5);
        for (std::size_t i = 0; i < n; ++i) {
            const auto& b = buckets[i];
            if (b.start < from || b.start >= spec.now || b.value == 0)
                continue;
            const double x = left + plot_w * static_cast<double>(b.start - from) / static_cast<double>(span);
            const double h = max == 0 ? 0 : plot_h * static_cast<double>(b.value) / static_cast<double>(max);
            out += "<rect class=\"bar\" x=\"" + num(x) + "\" y=\"" + num(top + plot_h - h) + "\" width=\"" +
                   num(std::min(bar_w, left + plot_w - x)) + "\" height=\"" + num(h) +
                   "\" fill=\"#3b6ea5\"><title>" + std::to_string(b.value) + "</title></rect>";
        }
    }
    out += "</svg>";
    return out;
}

}  // namespace mxw::web

// web/svg_chart.hpp: a bar chart of counts over time as inline SVG markup,
// drawn on the server so the health page needs no script. Colours and
// lines are SVG presentation attributes (fill=, stroke=), never style=,
// which the page's Content-Security-Policy (style-src 'self') would block.
// The x axis is "hours ago" back from the report's time. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mxw::web {

struct chart_bucket {
    std::int64_t start = 0;  ///< Unix seconds
    std::uint64_t value = 0;
};

struct chart_spec {
    std::string title;                ///< text, escaped here
    std::string id;                   ///< the <svg> element's id: [a-z0-9-] only, others dropped
    std::int64_t now = 0;             ///< the right edge, Unix seconds
    std::int64_t bucket_seconds = 300;
    std::int64_t span_seconds = 86400;  ///< the left edge is now - span
};

/// More buckets than a chart draws; the rest are ignored. 24 h of
/// five-minute buckets is 288.
inline constexpr std::size_t max_chart_buckets = 2048;

/// An <svg> element (role="img", a <title>, the maximum as a label, axis
/// labels every 6 hours: "24 h ago" ... "now"). Buckets outside the span
/// are left out; no buckets at all draws an empty frame saying "no data".
std::string svg_bar_chart(const chart_spec& spec, const std::vector<chart_bucket>& buckets);

}  // namespace mxw::web

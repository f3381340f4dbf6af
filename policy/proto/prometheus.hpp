// proto/prometheus.hpp: the Prometheus text exposition format (version
// 0.0.4): "# HELP", "# TYPE", then samples with escaped label values, and a
// fixed-bucket histogram to feed it. Pure: the daemon owns the numbers and
// the socket.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace mxw::proto {

/// Latency buckets in seconds, from a cached answer (tens of microseconds)
/// to a DNS lookup that ran into its deadline (seconds).
inline constexpr std::array<double, 12> latency_buckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                         0.005,   0.01,   0.05,    0.25,   1.0,   5.0};

struct histogram {
    std::array<std::uint64_t, latency_buckets.size() + 1> counts{};  ///< last one: above every bound
    double sum = 0;
    std::uint64_t count = 0;
    void observe(double seconds) noexcept;
};

class prometheus_writer {
public:
    using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

    /// Starts a metric family; `type` is "counter", "gauge" or "histogram".
    prometheus_writer& family(std::string_view name, std::string_view type, std::string_view help);
    prometheus_writer& sample(std::string_view name, double value, labels l = {});
    /// The _bucket, _sum and _count samples of `h` under `name`.
    prometheus_writer& histogram_samples(std::string_view name, const histogram& h, labels l = {});
    [[nodiscard]] const std::string& str() const noexcept { return out_; }

private:
    void write_labels(labels l, std::string_view extra_name = {}, std::string_view extra_value = {});
    std::string out_;
};

/// A label value or HELP text as the format wants it: backslash, double
/// quote (label values only) and newline escaped.
std::string prometheus_escape(std::string_view s, bool label_value);

}  // namespace mxw::proto

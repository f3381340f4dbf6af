// The Prometheus text writer, the latency histogram and the metrics
// endpoint's HTTP answers.
#include "net/metrics_session.hpp"
#include "proto/prometheus.hpp"

#include <catch2/catch.hpp>

using namespace mxw;

TEST_CASE("prometheus_writer: families, labels escaped, whole numbers without exponent", "[metrics]")
{
    proto::prometheus_writer w;
    w.family("x_total", "counter", "Things\nseen");
    w.sample("x_total", 12);
    w.sample("x_total", 3, {{"reason", "a\"b\\c\nd"}, {"k", "v"}});
    w.sample("y", 0.25);
    CHECK(w.str() == "# HELP x_total Things\\nseen\n# TYPE x_total counter\nx_total 12\n"
                     "x_total{reason=\"a\\\"b\\\\c\\nd\",k=\"v\"} 3\ny 0.25\n");
}

TEST_CASE("histogram: cumulative buckets at their bounds, +Inf, sum and count", "[metrics]")
{
    proto::histogram h;
    h.observe(0.00005);  // exactly the first bound: in it
    h.observe(0.0003);
    h.observe(7.0);  // past every bound
    CHECK(h.counts[0] == 1);
    CHECK(h.counts[3] == 1);
    CHECK(h.counts.back() == 1);
    proto::prometheus_writer w;
    w.histogram_samples("lat", h, {{"path", "policy"}});
    const auto& s = w.str();
    CHECK(s.find("lat_bucket{path=\"policy\",le=\"5e-05\"} 1\n") != std::string::npos);
    CHECK(s.find("lat_bucket{path=\"policy\",le=\"0.00025\"} 1\n") != std::string::npos);
    CHECK(s.find("lat_bucket{path=\"policy\",le=\"5e-04\"} 2\n") != std::string::npos);  // shortest form
    CHECK(s.find("lat_bucket{path=\"policy\",le=\"5\"} 2\n") != std::string::npos);
    CHECK(s.find("lat_bucket{path=\"policy\",le=\"+Inf\"} 3\n") != std::string::npos);
    CHECK(s.find("lat_count{path=\"policy\"} 3\n") != std::string::npos);
    CHECK(s.find("lat_sum{path=\"policy\"} 7.00035") != std::string::npos);
}

TEST_CASE("metrics_response: GET /metrics only", "[metrics]")
{
    auto render = [] { return std::string("m 1\n"); };
    auto ok = net::metrics_response(proto::http_request{"GET", "/metrics", '1'}, render);
    CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(ok.find("Content-Length: 4\r\n") != std::string::npos);
    CHECK(ok.ends_with("\r\n\r\nm 1\n"));
    CHECK(net::metrics_response(proto::http_request{"GET", "/metrics?x=1", '0'}, render).starts_with("HTTP/1.1 200"));
    CHECK(net::metrics_response(proto::http_request{"GET", "/", '1'}, render).starts_with("HTTP/1.1 404"));
    CHECK(net::metrics_response(proto::http_request{"GET", "/metricsx", '1'}, render).starts_with("HTTP/1.1 404"));
    CHECK(net::metrics_response(proto::http_request{"POST", "/metrics", '1'}, render).starts_with("HTTP/1.1 405"));
    CHECK(net::metrics_response(std::nullopt, render).starts_with("HTTP/1.1 400"));
}

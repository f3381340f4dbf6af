// socketmap_load: closed-loop load generator for socketmap servers
// (Postfix socketmap_table(5), Sendmail socket maps).
//
// Each connection behaves like one trivial-rewrite process: a persistent
// connection with strictly one outstanding request, the next one sent as soon
// as the reply arrives. Requests are netstrings "transport userN@dK.bench.test"
// over N recipient domains, and every 10th one is the wildcard key "*", which
// Postfix sends after a miss. With --keys dnsfilter they are the resource
// records Postfix's smtp_dns_reply_filter sends instead, alternately
// "dK.bench.test. 86400 IN MX 10 mxM.bench.test." and that host's A record
// (M = K mod 50, address 127.0.0.(200 + M), the zone of run_socketmap_bench.sh),
// and there is no wildcard key: Postfix asks a reply filter once per record. All connections are driven by one epoll thread,
// which leaves the other core of the benchmark machine to the server under
// test.
//
// --warmup-only asks for each domain once, then asks again, in rounds, for
// every domain whose answer did not yet start with the expected prefix
// ("OK mxw:"), until all do or --timeout passes: mxwardend resolves and
// probes in the background, so its first answers may be NOTFOUND.
//
// Output: one line of key=value results on stdout. Exit status 0 when the run
// took place (failed requests are counted in errors=, answers without the
// expected form in mismatched=), 1 on bad usage, when the server cannot be
// reached, or when every connection to it is lost (the line is printed too).

#include "load_common.hpp"

#include <cstring>
#include <deque>
#include <vector>

namespace {

using namespace mxw::bench;

constexpr usage kUsage{
    "socketmap_load",
    "usage: socketmap_load --port P --connections C (--seconds S | --warmup-only [--timeout T])\n"
    "                      [--domains N] [--map transport] [--keys transport|dnsfilter]\n"
    "                      [--expect 'OK mxw:'] [--host 127.0.0.1]\n"
    "  --seconds S     send requests for S seconds, then report throughput and latency\n"
    "  --warmup-only   ask for each of the N domains until every answer starts with the\n"
    "                  expected prefix or T seconds (default 60) have passed, then report\n"
    "  --domains N     recipient domains d0.bench.test .. d(N-1).bench.test (default 1000)\n"
    "  --map NAME      socketmap name sent before each key (default transport)\n"
    "  --keys FORM     transport: recipient addresses and \"*\"; dnsfilter: MX and A records\n"
    "  --expect TEXT   reply payload prefix a warm domain key gets (default 'OK mxw:')\n"};

// Postfix accepts socketmap replies of up to 100000 bytes (dict_sockmap.c).
constexpr size_t kMaxReplyBytes = 100000;
// Every kWildcardEvery-th request is the "*" key.
constexpr uint64_t kWildcardEvery = 10;
// Pause between warm-up rounds: the server is resolving and probing.
constexpr uint64_t kWarmupPauseNs = 50'000'000;

struct Options : common_options {
    std::string map = "transport";
    bool dns_records = false;  // --keys dnsfilter
    std::string expect = "OK mxw:";
    long timeout = 60;
};

Options parse_args(int argc, char** argv) {
    Options opt;
    bool timeout_given = false;
    mxw::bench::parse_args(argc, argv, kUsage, opt, [&](std::string_view arg, std::string_view value) {
        if (arg == "--timeout") {
            opt.timeout = kUsage.parse_long(arg, value, 1, 86400);
            timeout_given = true;
        } else if (arg == "--map") {
            if (value.empty() || value.find_first_of(" ,:") != std::string_view::npos)
                kUsage.die("--map must be one word");
            opt.map = value;
        } else if (arg == "--keys") {
            if (value != "transport" && value != "dnsfilter") kUsage.die("--keys is transport or dnsfilter");
            opt.dns_records = value == "dnsfilter";
        } else if (arg == "--expect") {
            opt.expect = value;
        } else {
            return false;
        }
        return true;
    });
    if (timeout_given && !opt.warmup_only) kUsage.die("--timeout goes with --warmup-only");
    return opt;
}

// One netstring at the start of `in`: its payload, or why there is none yet.
enum class Frame { complete, need_more, bad };
Frame parse_netstring(std::string_view in, std::string_view& payload, size_t& frame_size) {
    size_t len = 0, i = 0;
    for (; i < in.size() && in[i] >= '0' && in[i] <= '9'; ++i) {
        if (i > 0 && len == 0) return Frame::bad;  // leading zero
        len = len * 10 + static_cast<size_t>(in[i] - '0');
        if (len > kMaxReplyBytes) return Frame::bad;
    }
    if (i == in.size()) return Frame::need_more;
    if (i == 0 || in[i] != ':') return Frame::bad;
    if (in.size() < i + 1 + len + 1) return Frame::need_more;
    if (in[i + 1 + len] != ',') return Frame::bad;
    payload = in.substr(i + 1, len);
    frame_size = i + 1 + len + 1;
    return Frame::complete;
}

constexpr int64_t kWildcard = -1;
// The MX hosts of run_socketmap_bench.sh's zone: mxM.bench.test has 127.0.0.(200 + M).
constexpr long long kZoneMxHosts = 50;
constexpr long long kZoneFirstOctet = 200;

struct Connection {
    int fd = -1;
    uint64_t sent_at = 0;    // when the outstanding request was written; 0 = none outstanding
    int64_t domain = 0;      // of the outstanding request, kWildcard for "*"
    std::string reply;       // reply bytes received so far
};

class LoadRun {
public:
    explicit LoadRun(const Options& opt) : opt_(opt), server_(opt, kUsage) {
        long count = opt.warmup_only ? std::min(opt.connections, opt.domains) : opt.connections;
        // Fixed size: epoll events point at these elements.
        connections_.resize(static_cast<size_t>(count));
        if (opt.warmup_only)
            for (long d = 0; d < opt.domains; ++d) queue_.push_back(d);
    }
    int run() {
        for (auto& c : connections_) {
            if (!connect_to_server(c)) {
                std::fprintf(stderr, "socketmap_load: connect to %s port %s: %s\n", opt_.host.c_str(),
                             opt_.port.c_str(), std::strerror(errno));
                return 1;
            }
        }
        start_ = last_reply_ = now_ns();
        deadline_ = start_ + static_cast<uint64_t>(opt_.warmup_only ? opt_.timeout : opt_.seconds) * 1'000'000'000;
        for (;;) {
            for (auto& c : connections_)
                if (c.fd >= 0 && c.sent_at == 0) send_next(c);
            if (outstanding_ == 0) {
                // Every connection failed and could not be made again: the
                // server is gone, and waiting for the deadline helps nobody.
                if (std::none_of(connections_.begin(), connections_.end(), [](const Connection& c) { return c.fd >= 0; })) {
                    std::fprintf(stderr, "socketmap_load: lost every connection to %s port %s\n", opt_.host.c_str(),
                                 opt_.port.c_str());
                    report();
                    return 1;
                }
                // Only a warm-up goes on after a round: the domains whose
                // answers were not yet warm are asked again after a pause.
                if (!opt_.warmup_only || retry_.empty() || now_ns() >= deadline_) break;
                timespec pause{0, static_cast<long>(kWarmupPauseNs)};
                nanosleep(&pause, nullptr);
                queue_.swap(retry_);
                ++rounds_;
                last_reply_ = now_ns();
                continue;
            }
            wait_for_replies();
        }
        for (auto& c : connections_)
            if (c.fd >= 0) close(c.fd);
        report();
        return 0;
    }

private:
    bool connect_to_server(Connection& c) {
        c.fd = server_.connect(&c);
        return c.fd >= 0;
    }

    // Until every outstanding request is answered, or the server stalls.
    void wait_for_replies() {
        std::array<epoll_event, 256> events{};
        while (outstanding_ > 0) {
            int n = server_.wait(events, last_reply_);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                // Nothing heard for stall_limit_ns (or epoll broke): every
                // request still waiting for a reply failed, and the run ends.
                for (auto& c : connections_)
                    if (c.sent_at != 0) fail(c, false);
                retry_.clear();
                queue_.clear();
                return;
            }
            for (int i = 0; i < n; ++i) on_readable(*static_cast<Connection*>(events[i].data.ptr));
        }
    }

    // Whether the run wants another request, and which key: a domain number
    // or kWildcard.
    bool take_key(int64_t& domain) {
        if (opt_.warmup_only) {
            if (queue_.empty()) return false;
            domain = queue_.front();
            queue_.pop_front();
            return true;
        }
        if (now_ns() >= deadline_) return false;
        if (!opt_.dns_records && issued_ % kWildcardEvery == kWildcardEvery - 1) {
            domain = kWildcard;
        } else {
            domain = static_cast<int64_t>(next_domain_++ % static_cast<uint64_t>(opt_.domains));
        }
        return true;
    }

    void send_next(Connection& c) {
        int64_t domain = 0;
        if (!take_key(domain)) return;
        format_request(domain);
        c.domain = domain;
        c.sent_at = now_ns();
        ++outstanding_;
        // Only one request is ever in flight and the server read the previous
        // one completely before replying, so the send buffer is empty and a
        // short write cannot happen with a working server.
        ssize_t n = send(c.fd, request_.data(), request_.size(), MSG_NOSIGNAL);
        if (n != static_cast<ssize_t>(request_.size())) fail(c, true);
    }

    // "transport user123@d45.bench.test" or "transport *", as a netstring.
    // The local part changes with every request, as recipients do: a server
    // must route by the domain, not remember whole keys. A dnsfilter key is an
    // MX record of the domain or the A record of its MX host, by turns.
    void format_request(int64_t domain) {
        uint64_t seq = issued_++;
        char payload[256];
        int len = 0;
        if (domain == kWildcard) {
            len = std::snprintf(payload, sizeof payload, "%s *", opt_.map.c_str());
        } else if (!opt_.dns_records) {
            len = std::snprintf(payload, sizeof payload, "%s user%llu@d%lld.bench.test", opt_.map.c_str(),
                                static_cast<unsigned long long>(seq), static_cast<long long>(domain));
        } else {
            long long host = domain % kZoneMxHosts;
            len = seq % 2 == 0 ? std::snprintf(payload, sizeof payload, "%s d%lld.bench.test. 86400 IN MX 10 mx%lld.bench.test.",
                                               opt_.map.c_str(), static_cast<long long>(domain), host)
                               : std::snprintf(payload, sizeof payload, "%s mx%lld.bench.test. 86400 IN A 127.0.0.%lld",
                                               opt_.map.c_str(), host, kZoneFirstOctet + host);
        }
        char head[16];
        int head_len = std::snprintf(head, sizeof head, "%d:", len);
        request_.assign(head, static_cast<size_t>(head_len));
        request_.append(payload, static_cast<size_t>(len));
        request_.push_back(',');
    }

    void on_readable(Connection& c) {
        if (c.fd < 0) return;  // failed earlier in this batch of events
        char buf[1024];
        ssize_t n = read(c.fd, buf, sizeof buf);
        // Level-triggered: whatever is left, or was interrupted, comes back
        // with the next epoll_wait.
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0 || c.sent_at == 0) {  // closed, failed, or talking out of turn
            fail(c, true);
            return;
        }
        c.reply.append(buf, static_cast<size_t>(n));
        std::string_view payload;
        size_t frame_size = 0;
        switch (parse_netstring(c.reply, payload, frame_size)) {
        case Frame::need_more: return;
        case Frame::bad: fail(c, true); return;
        case Frame::complete: break;
        }
        // One request, one reply: anything after it is out of turn, and a
        // reply Postfix would not take as OK or NOTFOUND fails its lookup.
        bool ok = payload.starts_with("OK ");
        if (frame_size != c.reply.size() || (!ok && payload != "NOTFOUND ")) {
            fail(c, true);
            return;
        }
        last_reply_ = now_ns();
        latency_.record((last_reply_ - c.sent_at) / 1000);
        ++(ok ? ok_ : notfound_);
        bool expected = c.domain == kWildcard ? payload == "NOTFOUND " : payload.starts_with(opt_.expect);
        if (!expected) {
            ++mismatched_;
            if (opt_.warmup_only) retry_.push_back(c.domain);
        } else if (opt_.warmup_only) {
            ++ready_;
        }
        c.reply.clear();
        c.sent_at = 0;
        --outstanding_;
        send_next(c);
    }

    // Counts the outstanding request as failed and drops the connection. Like
    // trivial-rewrite, reconnect and carry on if asked to and the run is not
    // over; a warm-up asks for the domain again in the next round.
    void fail(Connection& c, bool reconnect) {
        ++errors_;
        if (c.sent_at != 0) {
            --outstanding_;
            if (opt_.warmup_only && c.domain != kWildcard) retry_.push_back(c.domain);
        }
        c.sent_at = 0;
        c.reply.clear();
        if (c.fd >= 0) close(c.fd);
        c.fd = -1;
        if (reconnect && connect_to_server(c)) send_next(c);
    }

    void report() const {
        // Up to the last reply, so that draining the outstanding requests
        // after the deadline does not count as idle time; with no reply at
        // all, the whole run.
        uint64_t end = latency_.total() > 0 ? last_reply_ : now_ns();
        print_latency(connections_.size(), latency_, static_cast<double>(end - start_) / 1e9);
        std::printf(" ok=%llu notfound=%llu mismatched=%llu errors=%llu", static_cast<unsigned long long>(ok_),
                    static_cast<unsigned long long>(notfound_), static_cast<unsigned long long>(mismatched_),
                    static_cast<unsigned long long>(errors_));
        if (opt_.warmup_only)
            std::printf(" domains=%ld ready=%llu rounds=%llu", opt_.domains, static_cast<unsigned long long>(ready_),
                        static_cast<unsigned long long>(rounds_));
        std::printf("\n");
    }

    const Options& opt_;
    server server_;
    std::vector<Connection> connections_;
    std::string request_;
    histogram latency_;
    std::deque<int64_t> queue_;  // warm-up: domains to ask in this round
    std::deque<int64_t> retry_;  // warm-up: domains to ask in the next round
    uint64_t start_ = 0;
    uint64_t deadline_ = 0;
    uint64_t last_reply_ = 0;
    uint64_t issued_ = 0;
    uint64_t next_domain_ = 0;
    uint64_t outstanding_ = 0;
    uint64_t ok_ = 0;
    uint64_t notfound_ = 0;
    uint64_t mismatched_ = 0;
    uint64_t ready_ = 0;
    uint64_t rounds_ = 1;
    uint64_t errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    Options opt = parse_args(argc, argv);
    LoadRun run(opt);
    return run.run();
}

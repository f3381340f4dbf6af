// web_list_bench: how fast the quarantine answers a web view's listing
// (store/quarantine.hpp page() and count()) with many entries. Fills an
// empty store through the store API (ingest, then delete and release about
// 5 %), then times the first page (50 entries, newest first) and the count
// for no filter and for each single filter, several runs each, and prints
// the medians as a table. run_web_list_bench.sh runs it against SQLite and
// PostgreSQL.
//
// usage: web_list_bench fill STORE ENTRIES     STORE: sqlite:PATH or postgresql:CONNINFO
//        web_list_bench measure STORE RUNS
//
// The entries are meant to look like a real quarantine: 1-3 recipients
// each over 300 domains (a few large, most small), 4000 senders, six
// reasons of very different frequency, subjects from a word list, about
// 400 bytes of evidence and a 2 KB body. Generated from a fixed seed, so
// every run and both backends hold the same data.
#include "store/open_store.hpp"
#include "store/quarantine_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using mxw::store::entry_state;
using mxw::store::list_filter;
using clock_type = std::chrono::steady_clock;

constexpr std::int64_t start_time = 1780000000;
constexpr int domain_count = 300;
constexpr int sender_count = 4000;

const std::vector<std::string> reasons = {"dns-failure", "all-mx-dead", "nxdomain", "null-mx", "sender-domain",
                                          "client-ptr"};
const std::vector<int> reason_weights = {40, 30, 12, 8, 6, 4};
const std::vector<std::string> words = {"invoice",  "order",   "report",  "meeting", "quarterly", "update",
                                        "shipment", "payment", "reminder", "contract", "offer",    "newsletter",
                                        "account",  "delivery", "review",  "agenda",  "budget",    "release"};

std::string domain(int k) { return "d" + std::to_string(k) + ".example"; }

// One generated message: everything ingest needs, from entry number i.
struct generator {
    std::mt19937_64 rng{20261207};
    // Zipf-like: domain k is picked with weight 1/(k+1), so d0 gets ~16 %
    // of the recipients and the last ones a few dozen each.
    std::discrete_distribution<int> domain_pick = [] {
        std::vector<double> w;
        for (int k = 0; k < domain_count; ++k)
            w.push_back(1.0 / (k + 1));
        return std::discrete_distribution<int>(w.begin(), w.end());
    }();
    std::discrete_distribution<int> reason_pick{reason_weights.begin(), reason_weights.end()};

    int below(int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); }

    mxw::store::new_entry next(std::int64_t i)
    {
        mxw::store::new_entry e;
        e.reason = reasons[static_cast<std::size_t>(reason_pick(rng))];
        e.queue_id = "4Q" + std::to_string(i);
        // Senders: mixed case as MTAs pass them on; one in 50 the null sender.
        int s = below(sender_count);
        e.sender = below(50) == 0 ? std::string() : (s % 7 == 0 ? "Sales" : "user") + std::to_string(s) + "@" + "S" +
                                                        std::to_string(s % 500) + ".example.com";
        int n = 1 + (below(10) < 6 ? 0 : below(10) < 7 ? 1 : 2);
        int d = domain_pick(rng);
        for (int r = 0; r < n; ++r) {
            // Most multi-recipient mail stays in one domain; some does not.
            int dom = (r > 0 && below(3) == 0) ? domain_pick(rng) : d;
            e.recipients.push_back("rcpt" + std::to_string(below(2000)) + "@" + domain(dom));
        }
        std::string subject = words[static_cast<std::size_t>(below(static_cast<int>(words.size())))] + " " +
                              words[static_cast<std::size_t>(below(static_cast<int>(words.size())))] + " #" +
                              std::to_string(below(100000));
        e.message = "From: <" + e.sender + ">\r\nTo: <" + e.recipients.front() + ">\r\nSubject: " + subject +
                    "\r\nMessage-ID: <" + std::to_string(i) + ".bench@example.com>\r\n\r\n" +
                    std::string(2048, 'x') + "\r\n";
        e.evidence = R"({"domain":")" + domain(d) +
                     R"(","queries":[{"name":"_mx","server":"192.0.2.53","transport":"udp","rcode":"SERVFAIL"},)"
                     R"({"name":"_mx","server":"192.0.2.53","transport":"tcp","rcode":"timeout"}],)"
                     R"("probes":[{"host":"mx1.)" +
                     domain(d) + R"(","address":"198.51.100.7","result":"no-banner","after_ms":30000}]})";
        return e;
    }
};

double ms_since(clock_type::time_point t)
{
    return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::unique_ptr<mxw::store::quarantine> open(const std::string& where)
{
    mxw::store::store_location loc;
    loc.node = "bench";
    if (where.rfind("sqlite:", 0) == 0)
        loc.sqlite_path = where.substr(7);
    else if (where.rfind("postgresql:", 0) == 0)
        loc.url = where.substr(11);
    else
        throw std::invalid_argument("the store is sqlite:PATH or postgresql:CONNINFO");
    return mxw::store::open_quarantine(loc, mxw::store::open_mode::create);
}

// Ingests entries [from, to), one transaction each, as the MTA would.
void fill(const std::string& where, std::int64_t from, std::int64_t to)
{
    auto qs = open(where);
    // One fsync per ingest is right for mail and nothing a listing depends
    // on; a bench that waited for 100 000 of them would measure the disk.
    if (auto* s = dynamic_cast<mxw::store::quarantine_store*>(qs.get()))
        s->db().exec("PRAGMA synchronous=OFF");
    generator g;
    // Each filler generates the whole sequence and keeps its own share, so
    // the data does not depend on how many fill at once.
    for (std::int64_t i = 0; i < to; ++i) {
        auto e = g.next(i);
        if (i >= from)
            qs->ingest(e, start_time + i * 30);
    }
}

struct row {
    std::string name;
    list_filter filter;
};

// "Now" is the time of the last entry generated: the store is as old as
// its data. (Not the newest id's: with two fillers the highest id may be
// an entry from the middle of the sequence.)
void measure(mxw::store::quarantine& qs, int runs)
{
    const std::int64_t now = start_time + std::max<std::int64_t>(qs.count({}) - 1, 0) * 30;
    auto with = [](const std::function<void(list_filter&)>& set) {
        list_filter f;
        set(f);
        return f;
    };
    // The values are ones the data holds: a mid-sized reason, the largest
    // domain and a small one, a sender with mixed case, the last day.
    const std::vector<row> rows = {
        {"none (first page)", {}},
        {"state=held", with([](list_filter& f) { f.state = entry_state::held; })},
        {"state=released", with([](list_filter& f) { f.state = entry_state::released; })},
        {"reason=null-mx", with([](list_filter& f) { f.reason = "null-mx"; })},
        {"domain=d0 (largest)", with([](list_filter& f) { f.domain = "D0.example"; })},
        {"domain=d250 (small)", with([](list_filter& f) { f.domain = "d250.example"; })},
        {"sender", with([](list_filter& f) { f.sender = "SALES1001@s1.EXAMPLE.com"; })},
        {"since=last day", with([now](list_filter& f) { f.since = now - 86400; })},
        {"text=invoice (common)", with([](list_filter& f) { f.text = "Invoice"; })},
        {"text=#4242 (rare)", with([](list_filter& f) { f.text = "#4242"; })},
        {"text=no match", with([](list_filter& f) { f.text = "no such text"; })},
        {"only_domains=d3,d40", with([](list_filter& f) {
             f.only_domains = std::vector<std::string>{"d3.example", "d40.example"};
         })},
        {"held+only_domains=d3,d40", with([](list_filter& f) {
             f.state = entry_state::held;
             f.only_domains = std::vector<std::string>{"d3.example", "d40.example"};
         })},
    };
    std::printf("\n%-26s %8s %10s %10s %12s %12s\n", "filter", "matches", "page ms", "count ms", "page+count",
                "2nd page ms");
    for (const auto& r : rows) {
        std::vector<double> page_ms, count_ms, total_ms, next_ms;
        std::int64_t n = 0;
        for (int k = 0; k < runs; ++k) {
            auto t0 = clock_type::now();
            auto p = qs.page(r.filter, {});
            auto t1 = clock_type::now();
            n = qs.count(r.filter);
            auto t2 = clock_type::now();
            page_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
            count_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
            total_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
            auto t3 = clock_type::now();
            if (!p.empty())
                qs.page(r.filter, {p.back().id, 50});
            next_ms.push_back(ms_since(t3));
        }
        std::printf("%-26s %8lld %10.1f %10.1f %12.1f %12.1f\n", r.name.c_str(), static_cast<long long>(n),
                    median(page_ms), median(count_ms), median(total_ms), median(next_ms));
    }
    std::printf("\nmedians of %d runs; page = the first 50, newest first; 2nd page = the 50 after it\n", runs);
}

}  // namespace

int main(int argc, char** argv)
try {
    const std::string verb = argc == 4 ? argv[1] : "";
    if (verb != "fill" && verb != "measure") {
        std::cerr << "usage: web_list_bench fill sqlite:PATH|postgresql:CONNINFO ENTRIES\n"
                     "       web_list_bench measure sqlite:PATH|postgresql:CONNINFO RUNS\n";
        return 64;
    }
    const std::string where = argv[2];
    const std::int64_t number = std::atoll(argv[3]);
    auto qs = open(where);
    if (verb == "measure") {
        if (number < 1) {
            std::cerr << "web_list_bench: at least one run\n";
            return 64;
        }
        measure(*qs, static_cast<int>(number));
        return 0;
    }
    const std::int64_t entries = number;
    if (entries < 1000) {
        std::cerr << "web_list_bench: at least 1000 entries\n";
        return 64;
    }
    if (qs->count({}) != 0) {
        std::cerr << "web_list_bench: the store is not empty\n";
        return 65;
    }
    auto t = clock_type::now();
    // PostgreSQL takes ingests from several connections at once, as a
    // fleet's nodes do; SQLite has one writer at a time anyway.
    const int fillers = where.rfind("postgresql:", 0) == 0 ? 2 : 1;
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(fillers));
    for (int k = 0; k < fillers; ++k)
        threads.emplace_back([&, k] {
            try {
                fill(where, entries * k / fillers, entries * (k + 1) / fillers);
            } catch (...) {
                errors[static_cast<std::size_t>(k)] = std::current_exception();
            }
        });
    for (auto& th : threads)
        th.join();
    for (auto& e : errors)
        if (e)
            std::rethrow_exception(e);
    // About 5 % not held: 3 % deleted, 2 % released, spread over the ids.
    const auto all = qs->page({}, {std::nullopt, 1});
    const std::int64_t top = all.at(0).id;
    const std::int64_t now = start_time + entries * 30;
    for (std::int64_t id = top - entries + 1; id <= top; ++id) {
        if (id % 100 < 3) {
            qs->remove(id, now, "bench");
        } else if (id % 100 < 5) {
            if (qs->claim_release(id, {1, now}, [](const auto&) { return false; }).what ==
                mxw::store::claim_result::kind::claimed)
                qs->mark_released(id, 1, 1, now, "bench");
        }
    }
    std::printf("filled %lld entries in %.1f s (%d connection%s)\n", static_cast<long long>(entries),
                ms_since(t) / 1000, fillers, fillers == 1 ? "" : "s");
    return 0;
} catch (const std::exception& e) {
    std::cerr << "web_list_bench: " << e.what() << "\n";
    return 70;
}

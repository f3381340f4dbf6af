// cli/reinject.hpp: hands a released message back to the MTA with its
// original envelope, either through the MTA's sendmail binary (fork and
// execv, no shell) or over SMTP to a listener given by
// quarantine.release-via. The addresses must have passed
// proto::check_envelope_address. Every failure throws std::runtime_error
// with a message fit for the admin; success returns what the MTA said.
#pragma once
#include "proto/endpoint.hpp"

#include <span>
#include <string>
#include <string_view>

namespace mxw::cli {

/// Runs `path -i -f SENDER -- RCPT...` with `message` on its stdin and waits
/// for it; anything but exit status 0 is a failure.
std::string reinject_sendmail(const std::string& path, std::string_view sender,
                              std::span<const std::string> recipients, std::string_view message);

/// One SMTP transaction (EHLO, MAIL, RCPT for each recipient, DATA, QUIT)
/// with a deadline per step. Any rejected recipient fails the whole
/// transaction before DATA, so a release delivers to everyone or no one.
std::string reinject_smtp(const proto::endpoint& server, std::string_view sender,
                          std::span<const std::string> recipients, std::string_view message);

}  // namespace mxw::cli

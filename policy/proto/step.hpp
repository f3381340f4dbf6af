// proto/step.hpp: the outcome of feeding bytes to an incremental decoder,
// shared by every stream codec (policy_attrs, netstring). Pure.
#pragma once

namespace mxw::proto {

/// need_more: every byte fed was used, feed more. frame: one message is
/// complete. error: the stream is beyond repair, the decoder's error() says why.
enum class step { need_more, frame, error };

}  // namespace mxw::proto

// SPDX-License-Identifier: Apache-2.0
// spdlog set-up: one line per event, human text or JSON objects (--log-format), level from -v.
#pragma once

#include <string>

namespace akrobateo {

// `format`: "text" or "json". `verbosity`: 0 info, 1 debug, 2+ trace.
void SetupLogging(const std::string& format, int verbosity);

// `s` as the inside of a JSON string literal (no quotes). Exposed for tests.
std::string JsonEscape(std::string_view s);

}  // namespace akrobateo

// Base64 (RFC 4648), one implementation for every use: PEM bodies, password hashes, JWS tokens,
// HTTP Basic credentials. Each use names its rules; nothing else differs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace c8y::common {

enum class Base64Alphabet { kStandard, kUrl };  // "+/" or "-_" (RFC 4648 sections 4 and 5)

struct Base64Rules {
  Base64Alphabet alphabet = Base64Alphabet::kStandard;
  // kRequired: the input is whole 4-character groups ("=" fills the last one);
  // kForbidden: no "=" at all (JWS); kOptional: "=" may be left out, and when present ends it.
  enum class Padding { kRequired, kForbidden, kOptional } padding = Padding::kRequired;
  bool skip_whitespace = false;  // spaces, tabs, CR, LF, FF and VT anywhere are ignored (PEM lines)
  // The unused low bits of the last character must be zero, so that each byte string has one
  // encoding (a MAC compared as text must not have several spellings).
  bool canonical = true;
};

// nullopt on a character outside the alphabet, "=" where the rules do not allow it, or a length
// no encoding has (one character left over in the last group).
std::optional<std::string> base64_decode(std::string_view in, const Base64Rules& rules);
std::string base64_encode(std::string_view bytes, Base64Alphabet alphabet, bool pad);

}  // namespace c8y::common

// Strict parsers for SmartREST field values (a value of the wrong type is s/e error 45). Pure
// functions: no locale, no allocation except format_iso8601_ms's result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace c8y::common {

// Decimal number: [+|-] digits [. digits] [(e|E) [+|-] digits], with at least one mantissa digit
// ("1." and ".5" are accepted, as Java's Double.parseDouble does). Rejects "", whitespace anywhere,
// NaN/Inf in any spelling, hex, trailing garbage, and overflow ("1e400", "-1e400").
// Underflow ("1e-400") is accepted and yields 0 with the input's sign, as IEEE rounding and the
// platform's Java parser do; subnormal results ("1e-310") are kept.
std::optional<double> parse_number(std::string_view s);

// [+|-] digits, range-checked against int64_t. No whitespace, no other characters.
std::optional<int64_t> parse_integer(std::string_view s);

// "true" / "false", case-insensitive; nothing else.
std::optional<bool> parse_bool(std::string_view s);

// ISO 8601 instant -> milliseconds since the Unix epoch (UTC). Accepted forms:
//   YYYY-MM-DD                                   (midnight UTC)
//   YYYY-MM-DDThh:mm[:ss[.f]]<zone>              f: 1..9 digits, truncated to milliseconds
//   <zone> = Z | (+|-)hh[[:]mm]                  at most 18:00 either way
// Years 0000..9999 (proleptic Gregorian), month 01..12, day valid for that month and year, hour
// 00..23, minute 00..59, second 00..60 (60 is a leap second and counts as the next second).
// A date-time without zone is rejected: it names no instant.
std::optional<int64_t> parse_iso8601_ms(std::string_view s);

// "YYYY-MM-DDThh:mm:ss.mmmZ" (UTC, always milliseconds), e.g. "2016-06-22T15:03:14.000Z".
// parse_iso8601_ms reads it back for years 0000..9999; other years are written with a sign and at
// least four digits (ISO 8601 expanded form, e.g. "-0001-..." or "+10000-...").
std::string format_iso8601_ms(int64_t ms);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF, no truncated sequences. NUL is a valid code point here.
bool is_valid_utf8(std::string_view s);

// A value quoted in an error text: at most 64 bytes (cut at a character boundary, "..." added),
// control characters and the bytes of invalid UTF-8 replaced by '?', so that the error line is
// short, printable and valid UTF-8 whatever the device sent.
std::string echo_value(std::string_view v);

}  // namespace c8y::common

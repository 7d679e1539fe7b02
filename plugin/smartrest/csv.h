// SmartREST 2.0 CSV codec. Pure, byte-oriented, no I/O.
//
// Input (CsvReader):
//  * Records end with "\n" or "\r\n"; a "\r" that is the last byte of the payload also ends a
//    record; any other "\r" outside quotes is data. The last record needs no line end.
//  * Empty lines and lines of only spaces/tabs are skipped (they are not records).
//  * Fields are separated by ','. "100,," yields {"100", "", ""}.
//  * Unquoted field: leading/trailing spaces and tabs are trimmed; everything else, including
//    '"' in the middle of the field and '\', is literal.
//  * Quoted field: spaces/tabs may precede the opening '"' and follow the closing '"'. The
//    content is kept exactly (commas, real CR/LF bytes, the two characters "\n" ...), except:
//      - `""` is one '"' (SmartREST 1.0 / thin-edge.io style);
//      - a run of N backslashes directly followed by '"' stands for N/2 backslashes; if N is odd
//        the '"' is a literal quote (so `\"` is a quote, the platform's style), if N is even the
//        '"' is an ordinary quote (closing, or the first half of `""`). Backslashes that are not
//        followed by '"' are literal, however many there are.
//  * After a closing quote only spaces/tabs may come before ',' or the line end; anything else
//    makes the record malformed ("garbage after closing quote") and the reader resumes at the
//    next line. A quote that is never closed makes the record malformed ("unterminated quoted
//    value") and consumes the rest of the payload.
//  * NUL bytes and invalid UTF-8 are ordinary bytes here (see is_valid_utf8 in values.h).
//
// Output (append_csv_field): a value is written unquoted unless it holds ',', '"', CR, LF, tab,
// or starts/ends with a space. Inside quotes '"' becomes `\"` (what the platform sends) and a run
// of backslashes is doubled only where it directly precedes a '"' or the closing quote, which is
// exactly what the reader undoes. So the two-character text "\n" is written as is, and reading
// back what append_csv_field / csv_line wrote always yields the original values.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace c8y::smartrest {

struct CsvRecord {
  // Reused between calls: the strings are overwritten in place, so a reused record allocates only
  // when a field outgrows its capacity (short fields fit the small-string buffer).
  std::vector<std::string> fields;
  // True: unterminated quote or garbage after a closing quote. `fields` then holds what was read
  // before the error (fields[0] is the message id if it could be read), `error` a human text.
  bool malformed = false;
  std::string error;
  // 1-based ordinal of the record within the payload (skipped empty lines are not counted,
  // malformed records are).
  size_t line = 0;
};

// Iterates the records of one payload. The payload must outlive the reader. No allocation beyond
// the record's fields.
class CsvReader {
 public:
  explicit CsvReader(std::string_view payload) : in_(payload) {}
  explicit CsvReader(const char* payload) : in_(payload) {}
  CsvReader(std::string&&) = delete;  // would dangle: the reader does not copy the payload

  // Reads the next record into `rec`; false (and `rec` untouched) at the end of the payload.
  bool next(CsvRecord& rec);

 private:
  // Parses one field starting at pos_ into `out`. Returns false if the record is malformed
  // (rec.error set, pos_ moved to where reading resumes). Sets `end_of_record` otherwise.
  bool read_field(std::string& out, bool& end_of_record, CsvRecord& rec);

  std::string_view in_;
  size_t pos_ = 0;
  size_t records_ = 0;
};

// Appends `value` as one CSV field (quoted and escaped only if needed, see above).
void append_csv_field(std::string& out, std::string_view value);

// Appends the fields joined with ',' (no line end). A single empty field is written as `""` so
// that the line is not an empty line, which the reader would skip.
void append_csv_record(std::string& out, std::span<const std::string> fields);
void append_csv_record(std::string& out, std::span<const std::string_view> fields);

// The fields joined with ',' by append_csv_field, no trailing newline.
std::string csv_line(std::initializer_list<std::string_view> fields);

}  // namespace c8y::smartrest

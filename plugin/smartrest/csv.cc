#include "plugin/smartrest/csv.h"

namespace c8y::smartrest {
namespace {

constexpr bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// First position >= from holding ',' or '\n', or in.size().
size_t find_separator(std::string_view in, size_t from) {
  for (size_t i = from; i < in.size(); ++i) {
    const char c = in[i];
    if (c == ',' || c == '\n') return i;
  }
  return in.size();
}

// First position >= from holding '"' or '\\', or in.size().
size_t find_quote_or_backslash(std::string_view in, size_t from) {
  for (size_t i = from; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '"' || c == '\\') return i;
  }
  return in.size();
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return false;
  if (v.front() == ' ' || v.back() == ' ') return true;
  for (const char c : v) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n' || c == '\t') return true;
  }
  return false;
}

template <typename Field>
void append_record(std::string& out, std::span<const Field> fields) {
  if (fields.size() == 1 && fields[0].empty()) {
    out += "\"\"";
    return;
  }
  bool first = true;
  for (const auto& f : fields) {
    if (!first) out.push_back(',');
    first = false;
    append_csv_field(out, f);
  }
}

}  // namespace

bool CsvReader::next(CsvRecord& rec) {
  const size_t size = in_.size();
  // Skip empty and blank-only lines.
  for (;;) {
    size_t p = pos_;
    while (p < size && is_blank(in_[p])) ++p;
    if (p == size) {
      pos_ = size;
      return false;
    }
    if (in_[p] == '\n') {
      pos_ = p + 1;
      continue;
    }
    if (in_[p] == '\r' && (p + 1 == size || in_[p + 1] == '\n')) {
      pos_ = p + 1 == size ? size : p + 2;
      continue;
    }
    pos_ = p;
    break;
  }

  rec.malformed = false;
  rec.error.clear();
  rec.line = ++records_;
  size_t n = 0;
  for (;;) {
    if (n == rec.fields.size()) rec.fields.emplace_back();
    bool end_of_record = false;
    if (!read_field(rec.fields[n], end_of_record, rec)) {
      rec.malformed = true;
      break;  // the broken field is not reported
    }
    ++n;
    if (end_of_record) break;
  }
  rec.fields.resize(n);
  return true;
}

bool CsvReader::read_field(std::string& out, bool& end_of_record, CsvRecord& rec) {
  const size_t size = in_.size();
  size_t p = pos_;
  while (p < size && is_blank(in_[p])) ++p;

  if (p == size || in_[p] != '"') {
    // Unquoted: up to ',' or '\n'; a CR right before the line end belongs to "\r\n".
    const size_t stop = find_separator(in_, p);
    end_of_record = stop == size || in_[stop] == '\n';
    size_t e = stop;
    if (end_of_record && e > p && in_[e - 1] == '\r') --e;
    while (e > p && is_blank(in_[e - 1])) --e;
    out.assign(in_.data() + p, e - p);
    pos_ = stop == size ? size : stop + 1;
    return true;
  }

  // Quoted.
  out.clear();
  ++p;
  for (;;) {
    const size_t q = find_quote_or_backslash(in_, p);
    if (q == size) {
      rec.error = "unterminated quoted value";
      pos_ = size;
      return false;
    }
    out.append(in_.data() + p, q - p);
    if (in_[q] == '\\') {
      size_t r = q;
      while (r < size && in_[r] == '\\') ++r;
      const size_t run = r - q;
      if (r < size && in_[r] == '"') {
        out.append(run / 2, '\\');
        if (run % 2 == 1) {
          out.push_back('"');  // `\"`: escaped quote
          p = r + 1;
        } else {
          p = r;  // the quote is an ordinary one
        }
      } else {
        out.append(run, '\\');
        p = r;
      }
      continue;
    }
    if (q + 1 < size && in_[q + 1] == '"') {  // `""`: escaped quote
      out.push_back('"');
      p = q + 2;
      continue;
    }
    p = q + 1;  // closing quote
    break;
  }

  while (p < size && is_blank(in_[p])) ++p;
  if (p == size) {
    end_of_record = true;
    pos_ = size;
    return true;
  }
  if (in_[p] == ',') {
    end_of_record = false;
    pos_ = p + 1;
    return true;
  }
  if (in_[p] == '\n') {
    end_of_record = true;
    pos_ = p + 1;
    return true;
  }
  if (in_[p] == '\r' && (p + 1 == size || in_[p + 1] == '\n')) {
    end_of_record = true;
    pos_ = p + 1 == size ? size : p + 2;
    return true;
  }
  rec.error = "garbage after closing quote";
  const size_t nl = in_.find('\n', p);
  pos_ = nl == std::string_view::npos ? size : nl + 1;
  return false;
}

void append_csv_field(std::string& out, std::string_view value) {
  if (!needs_quotes(value)) {
    out.append(value);
    return;
  }
  out.push_back('"');
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (c == '\\') {
      size_t r = i;
      while (r < value.size() && value[r] == '\\') ++r;
      const size_t run = r - i;
      // Doubled only where the reader would otherwise pair it with the following quote.
      const bool before_quote = r == value.size() || value[r] == '"';
      out.append(before_quote ? 2 * run : run, '\\');
      i = r;
    } else if (c == '"') {
      out += "\\\"";
      ++i;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  out.push_back('"');
}

void append_csv_record(std::string& out, std::span<const std::string> fields) {
  append_record(out, fields);
}

void append_csv_record(std::string& out, std::span<const std::string_view> fields) {
  append_record(out, fields);
}

std::string csv_line(std::initializer_list<std::string_view> fields) {
  std::string out;
  append_record(out, std::span<const std::string_view>(fields.begin(), fields.size()));
  return out;
}

}  // namespace c8y::smartrest

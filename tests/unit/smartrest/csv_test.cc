#include "plugin/smartrest/csv.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace c8y::smartrest {
namespace {

using Fields = std::vector<std::string>;
using namespace std::string_literals;

struct Rec {
  Fields fields;
  bool malformed;
  std::string error;
  size_t line;
};

std::vector<Rec> read_all(std::string_view payload) {
  std::vector<Rec> out;
  CsvReader reader(payload);
  CsvRecord rec;
  while (reader.next(rec)) out.push_back({rec.fields, rec.malformed, rec.error, rec.line});
  return out;
}

// Reads a payload that must hold exactly one well-formed record.
Fields one(std::string_view payload) {
  const auto recs = read_all(payload);
  EXPECT_EQ(recs.size(), 1u) << "payload: " << payload;
  if (recs.size() != 1) return {};
  EXPECT_FALSE(recs[0].malformed) << recs[0].error;
  EXPECT_EQ(recs[0].line, 1u);
  return recs[0].fields;
}

std::string field(std::string_view v) {
  std::string out;
  append_csv_field(out, v);
  return out;
}

// The reader keeps a view: a temporary std::string payload would dangle, so it does not compile.
static_assert(!std::is_constructible_v<CsvReader, std::string>);
static_assert(std::is_constructible_v<CsvReader, const std::string&>);
static_assert(std::is_constructible_v<CsvReader, std::string_view>);
static_assert(std::is_constructible_v<CsvReader, const char*>);

// ---------------------------------------------------------------------------------------------
// Lines and records

TEST(CsvReader, EmptyPayloadHasNoRecords) {
  EXPECT_TRUE(read_all("").empty());
}

TEST(CsvReader, BlankPayloadsHaveNoRecords) {
  for (const char* p :
       {"\n", "\r\n", "\r", "\n\n\n", " ", "\t", "  \t \n", " \r\n\t\r\n", "\n \n"}) {
    EXPECT_TRUE(read_all(p).empty()) << "payload: [" << p << "]";
  }
}

TEST(CsvReader, NextReturnsFalseRepeatedlyAtEnd) {
  CsvReader reader("100");
  CsvRecord rec;
  ASSERT_TRUE(reader.next(rec));
  EXPECT_FALSE(reader.next(rec));
  EXPECT_FALSE(reader.next(rec));
  EXPECT_EQ(rec.fields, Fields{"100"});  // untouched at the end
}

TEST(CsvReader, SingleLineWithoutNewline) {
  EXPECT_EQ(one("100,My MQTT device,c8y_MQTTDevice"),
            (Fields{"100", "My MQTT device", "c8y_MQTTDevice"}));
}

TEST(CsvReader, SingleFieldLine) {
  EXPECT_EQ(one("500"), Fields{"500"});
}

TEST(CsvReader, OptionalTrailingNewline) {
  EXPECT_EQ(one("211,25\n"), (Fields{"211", "25"}));
  EXPECT_EQ(one("211,25\r\n"), (Fields{"211", "25"}));
  EXPECT_EQ(one("211,25\r"), (Fields{"211", "25"}));  // CR as last byte ends the record
}

TEST(CsvReader, MultipleLinesLf) {
  const auto recs = read_all("211,25\n212,30\n213,40");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"211", "25"}));
  EXPECT_EQ(recs[1].fields, (Fields{"212", "30"}));
  EXPECT_EQ(recs[2].fields, (Fields{"213", "40"}));
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_FALSE(recs[i].malformed);
    EXPECT_TRUE(recs[i].error.empty());
    EXPECT_EQ(recs[i].line, i + 1);
  }
}

TEST(CsvReader, MultipleLinesCrLf) {
  const auto recs = read_all("211,25\r\n212,30\r\n213,40\r\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"211", "25"}));
  EXPECT_EQ(recs[1].fields, (Fields{"212", "30"}));
  EXPECT_EQ(recs[2].fields, (Fields{"213", "40"}));
}

TEST(CsvReader, MixedLineEnds) {
  const auto recs = read_all("1,a\r\n2,b\n3,c\r\n4,d");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[0].fields, (Fields{"1", "a"}));
  EXPECT_EQ(recs[1].fields, (Fields{"2", "b"}));
  EXPECT_EQ(recs[2].fields, (Fields{"3", "c"}));
  EXPECT_EQ(recs[3].fields, (Fields{"4", "d"}));
}

TEST(CsvReader, EmptyAndBlankLinesAreSkippedAndNotCounted) {
  const auto recs = read_all("\n\n211,1\n\n \t \r\n\r\n212,2\n\n\n  \n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"211", "1"}));
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[1].fields, (Fields{"212", "2"}));
  EXPECT_EQ(recs[1].line, 2u);
}

TEST(CsvReader, ThousandsOfShortLines) {
  std::string payload;
  for (int i = 0; i < 3000; ++i) payload += "211,1\n";
  CsvReader reader(payload);
  CsvRecord rec;
  size_t n = 0;
  while (reader.next(rec)) {
    ++n;
    ASSERT_FALSE(rec.malformed);
    ASSERT_EQ(rec.line, n);
    ASSERT_EQ(rec.fields.size(), 2u);
    ASSERT_EQ(rec.fields[0], "211");
    ASSERT_EQ(rec.fields[1], "1");
  }
  EXPECT_EQ(n, 3000u);
}

TEST(CsvReader, ThousandsOfShortCrLfLinesWithoutFinalNewline) {
  std::string payload;
  for (int i = 0; i < 3000; ++i) payload += (i ? "\r\n" : "") + std::to_string(i) + ",1";
  const auto recs = read_all(payload);
  ASSERT_EQ(recs.size(), 3000u);
  for (size_t i = 0; i < recs.size(); ++i) {
    ASSERT_EQ(recs[i].fields, (Fields{std::to_string(i), "1"}));
    ASSERT_EQ(recs[i].line, i + 1);
  }
}

TEST(CsvReader, RecordStorageIsReused) {
  const std::string payload =
      "1,2,3,4,5,6,7,8\n" + std::string(100, 'x') + ",b\n9\n1,2,3,4,5,6,7,8";
  CsvReader reader(payload);
  CsvRecord rec;
  ASSERT_TRUE(reader.next(rec));
  ASSERT_EQ(rec.fields.size(), 8u);
  const auto* data = rec.fields.data();
  ASSERT_TRUE(reader.next(rec));
  ASSERT_EQ(rec.fields.size(), 2u);
  EXPECT_EQ(rec.fields.data(), data);
  const size_t cap = rec.fields[0].capacity();
  EXPECT_GE(cap, 100u);
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.fields, Fields{"9"});
  EXPECT_EQ(rec.fields[0].capacity(), cap);  // overwritten in place
  ASSERT_TRUE(reader.next(rec));
  EXPECT_EQ(rec.fields.size(), 8u);
  EXPECT_EQ(rec.fields.data(), data);
}

TEST(CsvReader, ReusedRecordResetsMalformedState) {
  CsvReader reader("100,\"x\n");
  CsvRecord rec;
  rec.malformed = true;
  rec.error = "stale";
  rec.fields = {"a", "b", "c", "d"};
  CsvReader good("200,1");
  ASSERT_TRUE(good.next(rec));
  EXPECT_FALSE(rec.malformed);
  EXPECT_TRUE(rec.error.empty());
  EXPECT_EQ(rec.fields, (Fields{"200", "1"}));
  ASSERT_TRUE(reader.next(rec));
  EXPECT_TRUE(rec.malformed);
  EXPECT_EQ(rec.fields, Fields{"100"});
}

// ---------------------------------------------------------------------------------------------
// Unquoted fields

TEST(CsvReader, TrailingEmptyFieldsAreKept) {
  EXPECT_EQ(one("100,,"), (Fields{"100", "", ""}));
  EXPECT_EQ(one("100,"), (Fields{"100", ""}));
  EXPECT_EQ(one("100,,\n"), (Fields{"100", "", ""}));
  EXPECT_EQ(one("100,,\r\n"), (Fields{"100", "", ""}));
}

TEST(CsvReader, EmptyFieldsEverywhere) {
  EXPECT_EQ(one(","), (Fields{"", ""}));
  EXPECT_EQ(one(",,"), (Fields{"", "", ""}));
  EXPECT_EQ(one(",a,"), (Fields{"", "a", ""}));
  EXPECT_EQ(one("a,,b"), (Fields{"a", "", "b"}));
  EXPECT_EQ(one("a, ,b"), (Fields{"a", "", "b"}));
  EXPECT_EQ(one("a,\t,b"), (Fields{"a", "", "b"}));
  EXPECT_EQ(one("  ,  "), (Fields{"", ""}));
}

TEST(CsvReader, UnquotedFieldsAreTrimmedOfSpacesAndTabs) {
  EXPECT_EQ(one("100,My CS MQTT device, c8y_MQTTDevice"),
            (Fields{"100", "My CS MQTT device", "c8y_MQTTDevice"}));
  EXPECT_EQ(one(" 100 ,\t a b \t, c \r\n"), (Fields{"100", "a b", "c"}));
  EXPECT_EQ(one("a \t\r\n"), Fields{"a"});
}

TEST(CsvReader, OtherWhitespaceIsNotTrimmed) {
  EXPECT_EQ(one("\va\f,b"), (Fields{"\va\f", "b"}));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsLiteral) {
  EXPECT_EQ(one("ab\"c,d"), (Fields{"ab\"c", "d"}));
  EXPECT_EQ(one("5\",x\""), (Fields{"5\"", "x\""}));
  EXPECT_EQ(one("a\"\"b"), Fields{"a\"\"b"});
}

TEST(CsvReader, BackslashOutsideQuotesIsLiteral) {
  EXPECT_EQ(one("a\\,b"), (Fields{"a\\", "b"}));
  EXPECT_EQ(one("a\\\"b,c\\n"), (Fields{"a\\\"b", "c\\n"}));
  EXPECT_EQ(one("\\\\"), Fields{"\\\\"});
}

TEST(CsvReader, CarriageReturnInsideUnquotedFieldIsData) {
  EXPECT_EQ(one("a\rb,c"), (Fields{"a\rb", "c"}));
  EXPECT_EQ(one("a\r,b"), (Fields{"a\r", "b"}));  // not before a line end
  EXPECT_EQ(one("a\r\r\n"), Fields{"a\r"});       // only the CR of CRLF goes
}

TEST(CsvReader, NulAndInvalidUtf8AreOrdinaryBytes) {
  const std::string payload = "100,a\0b,\xff\xfe,\"q\0\xc0\"\n200"s;
  const auto recs = read_all(payload);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"100", "a\0b"s, "\xff\xfe", "q\0\xc0"s}));
  EXPECT_EQ(recs[1].fields, Fields{"200"});
  EXPECT_EQ(one("\0"s), Fields{"\0"s});
}

// ---------------------------------------------------------------------------------------------
// Quoted fields

TEST(CsvReader, QuotedContentIsKeptExactly) {
  EXPECT_EQ(one("\"  a  \""), Fields{"  a  "});
  EXPECT_EQ(one("\"\t\""), Fields{"\t"});
  EXPECT_EQ(one("\"a,b\",c"), (Fields{"a,b", "c"}));
  EXPECT_EQ(one("\"\""), Fields{""});
  EXPECT_EQ(one("\"\",\"\""), (Fields{"", ""}));
}

TEST(CsvReader, BlanksAroundQuotesAreIgnored) {
  EXPECT_EQ(one(" \t\"a\" \t, \"b\"\t\r\n"), (Fields{"a", "b"}));
  EXPECT_EQ(one("1, \"x y\" ,2"), (Fields{"1", "x y", "2"}));
}

TEST(CsvReader, QuotedRealNewlines) {
  const auto recs = read_all("511,dev,\"line1\nline2\r\nline3\rend\"\n212,1");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"511", "dev", "line1\nline2\r\nline3\rend"}));
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[1].fields, (Fields{"212", "1"}));
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(one("\"\n\""), Fields{"\n"});
  EXPECT_EQ(one("\"\n\n\n\",x"), (Fields{"\n\n\n", "x"}));
}

TEST(CsvReader, DoubledQuoteEscape) {
  EXPECT_EQ(one("\"say \"\"hi\"\"\""), Fields{"say \"hi\""});
  EXPECT_EQ(one("\"\"\"\""), Fields{"\""});
  EXPECT_EQ(one("\"\"\"\"\"\""), Fields{"\"\""});
  EXPECT_EQ(one("\"a\"\"\",b"), (Fields{"a\"", "b"}));
}

TEST(CsvReader, BackslashQuoteEscape) {
  EXPECT_EQ(one("\"say \\\"hi\\\"\""), Fields{"say \"hi\""});
  EXPECT_EQ(one("\"\\\"\""), Fields{"\""});
  EXPECT_EQ(one("\"\\\",\\\"\",x"), (Fields{"\",\"", "x"}));
}

TEST(CsvReader, BothQuoteEscapesMixed) {
  EXPECT_EQ(one("\"\\\"\"\"\""), Fields{"\"\""});
  EXPECT_EQ(one("\"a\"\"b\\\"c\""), Fields{"a\"b\"c"});
}

TEST(CsvReader, DocumentationExampleWithLiteralBackslashN) {
  // The docs' example: the two characters \n stay text; \" is a quote.
  EXPECT_EQ(one("511,myDeviceSerial,\"execute this\\nand this\\nand \\\"this\\\"\""),
            (Fields{"511", "myDeviceSerial", "execute this\\nand this\\nand \"this\""}));
  EXPECT_EQ(one("113,\"val1=1\\nval2=2\""), (Fields{"113", "val1=1\\nval2=2"}));
}

TEST(CsvReader, BackslashRunsInsideQuotes) {
  // Not followed by a quote: literal, however many.
  EXPECT_EQ(one("\"C:\\dir\\file\""), Fields{"C:\\dir\\file"});
  EXPECT_EQ(one("\"C:\\\\dir\""), Fields{"C:\\\\dir"});
  EXPECT_EQ(one("\"\\\\\\ \""), Fields{"\\\\\\ "});
  // Followed by a quote: halved; an odd run makes the quote literal.
  EXPECT_EQ(one("\"a\\\\\""), Fields{"a\\"});           // "a\\"     -> a\  (closing)
  EXPECT_EQ(one("\"a\\\\\\\"\""), Fields{"a\\\""});     // "a\\\""   -> a\"
  EXPECT_EQ(one("\"\\\\\\\\\""), Fields{"\\\\"});       // "\\\\"    -> \\ (closing)
  EXPECT_EQ(one("\"a\\\\\"\"b\""), Fields{"a\\\"b"});   // "a\\""b"  -> a\ + "" + b
  EXPECT_EQ(one("\"x\\\\\",y"), (Fields{"x\\", "y"}));  // closing after the even run
}

TEST(CsvReader, QuotedFieldFollowedByMoreFields) {
  EXPECT_EQ(one("\"a\",\"b\",c,\"d\""), (Fields{"a", "b", "c", "d"}));
  EXPECT_EQ(one("\"a\","), (Fields{"a", ""}));
}

// ---------------------------------------------------------------------------------------------
// Malformed input

TEST(CsvReader, UnterminatedQuoteConsumesTheRest) {
  const auto recs = read_all("200,1\n100,\"abc\n200,1\n300,2\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].malformed);
  EXPECT_TRUE(recs[1].malformed);
  EXPECT_EQ(recs[1].error, "unterminated quoted value");
  EXPECT_EQ(recs[1].fields, Fields{"100"});  // the broken field is not reported
  EXPECT_EQ(recs[1].line, 2u);
}

TEST(CsvReader, UnterminatedQuoteVariants) {
  for (const char* p : {"\"", "\"abc", "a,\"", "\"abc\\\"", "\"abc\"\"", "\"\"\"", "\"a\\\\\\\""}) {
    const auto recs = read_all(p);
    ASSERT_EQ(recs.size(), 1u) << p;
    EXPECT_TRUE(recs[0].malformed) << p;
    EXPECT_EQ(recs[0].error, "unterminated quoted value") << p;
  }
}

TEST(CsvReader, MalformedMessageIdLeavesNoFields) {
  const auto recs = read_all("\"100");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_TRUE(recs[0].malformed);
  EXPECT_TRUE(recs[0].fields.empty());
}

TEST(CsvReader, GarbageAfterClosingQuoteSkipsToNextLine) {
  const auto recs = read_all("100,\"a\"b,c\n200,1\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[0].malformed);
  EXPECT_EQ(recs[0].error, "garbage after closing quote");
  EXPECT_EQ(recs[0].fields, Fields{"100"});
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_FALSE(recs[1].malformed);
  EXPECT_TRUE(recs[1].error.empty());
  EXPECT_EQ(recs[1].fields, (Fields{"200", "1"}));
  EXPECT_EQ(recs[1].line, 2u);
}

TEST(CsvReader, GarbageVariantsFollowedByGoodLine) {
  for (const char* bad : {"\"a\"b", "\"a\" b", "\"a\"\t\"b\"", "\"a\"\"b\"x", "1,\"a\"\\",
                          "\"a\"\rx", "\"a\" \r ", "\"a\"x\"unbalanced", "\"\"x", "\"a\\\\\"b"}) {
    const std::string payload = std::string(bad) + "\r\n211,7";
    const auto recs = read_all(payload);
    ASSERT_EQ(recs.size(), 2u) << bad;
    EXPECT_TRUE(recs[0].malformed) << bad;
    EXPECT_EQ(recs[0].error, "garbage after closing quote") << bad;
    EXPECT_FALSE(recs[1].malformed) << bad;
    EXPECT_EQ(recs[1].fields, (Fields{"211", "7"})) << bad;
    EXPECT_EQ(recs[1].line, 2u);
  }
}

TEST(CsvReader, GarbageAfterQuotedNewlineSkipsTheLineOfTheGarbage) {
  const auto recs = read_all("100,\"a\nb\"x,y\n200,1");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[0].malformed);
  EXPECT_EQ(recs[1].fields, (Fields{"200", "1"}));
}

TEST(CsvReader, GarbageOnLastLine) {
  const auto recs = read_all("200,1\n\"a\"b");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].malformed);
  EXPECT_TRUE(recs[1].malformed);
}

TEST(CsvReader, SeveralMalformedLinesInARow) {
  const auto recs = read_all("1,\"a\"x\n2,\"b\"y\n\n3,\"c\"z\n4,ok\n5,\"never closed\n6,lost");
  ASSERT_EQ(recs.size(), 5u);
  for (size_t i : {0u, 1u, 2u, 4u}) EXPECT_TRUE(recs[i].malformed) << i;
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_FALSE(recs[3].malformed);
  EXPECT_EQ(recs[3].fields, (Fields{"4", "ok"}));
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[4].fields, Fields{"5"});
  EXPECT_EQ(recs[4].line, 5u);
}

// ---------------------------------------------------------------------------------------------
// Output

TEST(CsvWriter, PlainValuesAreNotQuoted) {
  EXPECT_EQ(field(""), "");
  EXPECT_EQ(field("abc"), "abc");
  EXPECT_EQ(field("a b"), "a b");
  EXPECT_EQ(field("25.5"), "25.5");
  EXPECT_EQ(field("a\\b"), "a\\b");
  EXPECT_EQ(field("a\\"), "a\\");
  EXPECT_EQ(field("x\\ny"), "x\\ny");  // the two characters \n
  EXPECT_EQ(field("\xc3\xa9t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");
}

TEST(CsvWriter, QuotesWhenNeeded) {
  EXPECT_EQ(field("a,b"), "\"a,b\"");
  EXPECT_EQ(field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(field("a\rb"), "\"a\rb\"");
  EXPECT_EQ(field("a\tb"), "\"a\tb\"");
  EXPECT_EQ(field(" a"), "\" a\"");
  EXPECT_EQ(field("a "), "\"a \"");
  EXPECT_EQ(field(" "), "\" \"");
  EXPECT_EQ(field("\""), "\"\\\"\"");
}

TEST(CsvWriter, EscapesQuotesWithBackslash) {
  EXPECT_EQ(field("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(field("\"\""), "\"\\\"\\\"\"");
}

TEST(CsvWriter, DoublesBackslashesOnlyBeforeAQuote) {
  EXPECT_EQ(field("a\\\"b"), "\"a\\\\\\\"b\"");  // a\"b   -> "a\\\"b"
  EXPECT_EQ(field("a,\\"), "\"a,\\\\\"");        // a,\    -> "a,\\"
  EXPECT_EQ(field("a,\\\\"), "\"a,\\\\\\\\\"");  // a,\\   -> "a,\\\\"
  EXPECT_EQ(field("C:\\dir, x"), "\"C:\\dir, x\"");
  EXPECT_EQ(field("\\n,"), "\"\\n,\"");
}

TEST(CsvWriter, CsvLineMatchesDocumentationExample) {
  EXPECT_EQ(csv_line({"511", "myDeviceSerial", "execute this\\nand this\\nand \"this\""}),
            "511,myDeviceSerial,\"execute this\\nand this\\nand \\\"this\\\"\"");
}

TEST(CsvWriter, CsvLineJoinsWithoutNewline) {
  EXPECT_EQ(csv_line({}), "");
  EXPECT_EQ(csv_line({"510", "dev"}), "510,dev");
  EXPECT_EQ(csv_line({"100", "", ""}), "100,,");
  EXPECT_EQ(csv_line({"", ""}), ",");
  EXPECT_EQ(csv_line({"a b", " c", "d,e"}), "a b,\" c\",\"d,e\"");
}

TEST(CsvWriter, LoneEmptyFieldIsQuotedSoTheLineIsNotEmpty) {
  EXPECT_EQ(csv_line({""}), "\"\"");
  EXPECT_EQ(one(csv_line({""})), Fields{""});
  std::string out = "x:";
  append_csv_record(out, Fields{""});
  EXPECT_EQ(out, "x:\"\"");
}

TEST(CsvWriter, AppendCsvRecordAppends) {
  std::string out = "prefix|";
  append_csv_record(out, Fields{"1", "a,b", ""});
  EXPECT_EQ(out, "prefix|1,\"a,b\",");
  std::vector<std::string_view> views{"x", "y"};
  append_csv_record(out, views);
  EXPECT_EQ(out, "prefix|1,\"a,b\",x,y");
}

// ---------------------------------------------------------------------------------------------
// Round trip

void expect_field_round_trip(const std::string& v) {
  const std::string line = csv_line({v, "z"});
  const auto recs = read_all(line);
  ASSERT_EQ(recs.size(), 1u) << "line: " << line;
  ASSERT_FALSE(recs[0].malformed) << "line: " << line;
  ASSERT_EQ(recs[0].fields, (Fields{v, "z"})) << "line: " << line;
}

TEST(CsvRoundTrip, ExhaustiveShortStrings) {
  // Every string of length <= 5 over the interesting characters.
  const std::string alphabet = "a \t,\"\\\n\r";
  std::vector<std::string> level{""};
  size_t checked = 0;
  for (int len = 0; len <= 5; ++len) {
    std::vector<std::string> next_level;
    for (const auto& s : level) {
      expect_field_round_trip(s);
      ++checked;
      if (len < 5) {
        for (char c : alphabet) next_level.push_back(s + c);
      }
    }
    level = std::move(next_level);
  }
  EXPECT_EQ(checked, 1u + 8 + 64 + 512 + 4096 + 32768);
}

TEST(CsvRoundTrip, GeneratedRecordsAndPayloads) {
  std::mt19937 rng(20240611);
  const std::string alphabet = "ab01 \t,\"\\\n\r\0\xff.-"s;
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> len_dist(0, 14);
  std::uniform_int_distribution<int> nfields_dist(1, 7);
  std::uniform_int_distribution<int> nrecords_dist(1, 6);
  std::uniform_int_distribution<int> coin(0, 3);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<Fields> records(static_cast<size_t>(nrecords_dist(rng)));
    std::string payload;
    for (size_t r = 0; r < records.size(); ++r) {
      const int nf = nfields_dist(rng);
      for (int f = 0; f < nf; ++f) {
        std::string v;
        const int len = coin(rng) == 0 ? 0 : len_dist(rng);
        for (int k = 0; k < len; ++k) v.push_back(alphabet[pick(rng)]);
        records[r].push_back(std::move(v));
      }
      if (r > 0) payload += coin(rng) == 0 ? "\r\n" : "\n";
      if (coin(rng) == 0) payload += "\n \n";  // empty lines are skipped
      append_csv_record(payload, records[r]);
    }
    if (coin(rng) == 0) payload += coin(rng) == 0 ? "\r\n" : "\n";

    const auto recs = read_all(payload);
    ASSERT_EQ(recs.size(), records.size()) << "payload: " << payload;
    for (size_t r = 0; r < records.size(); ++r) {
      ASSERT_FALSE(recs[r].malformed) << "payload: " << payload;
      ASSERT_EQ(recs[r].fields, records[r]) << "payload: " << payload;
      ASSERT_EQ(recs[r].line, r + 1);
    }
  }
}

TEST(CsvRoundTrip, ReencodingWhatWasReadIsStable) {
  // Whatever the reader accepts, writing it and reading again gives the same fields.
  std::mt19937 rng(7);
  const std::string alphabet = "a ,\"\\\n\r\t"s;
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> len_dist(0, 24);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string payload;
    const int len = len_dist(rng);
    for (int k = 0; k < len; ++k) payload.push_back(alphabet[pick(rng)]);
    CsvReader reader(payload);
    CsvRecord rec;
    while (reader.next(rec)) {
      if (rec.malformed) continue;
      std::string line;
      append_csv_record(line, rec.fields);
      const auto again = read_all(line);
      ASSERT_EQ(again.size(), 1u) << "payload: " << payload << " line: " << line;
      ASSERT_FALSE(again[0].malformed);
      ASSERT_EQ(again[0].fields, rec.fields) << "payload: " << payload << " line: " << line;
    }
  }
}

}  // namespace
}  // namespace c8y::smartrest

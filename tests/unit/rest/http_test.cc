#include "plugin/rest/http.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace c8y::rest {
namespace {

std::vector<std::pair<std::string, std::string>> all(const Params& p) {
  return {p.begin(), p.end()};
}

TEST(HttpDecode, PercentPlusAndUnicodeEscapes) {
  EXPECT_EQ(decode_url("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(decode_url("a+b", false), "a+b");
  EXPECT_EQ(decode_url("a+b", true), "a b");
  EXPECT_EQ(decode_url("%u00e9", false), "\xc3\xa9");
  // Invalid or cut escapes stay as they are.
  EXPECT_EQ(decode_url("100%", false), "100%");
  EXPECT_EQ(decode_url("%zz%4", false), "%zz%4");
  EXPECT_EQ(decode_url("%u12", false), "%u12");
  EXPECT_EQ(decode_url("%2b", true), "+");  // an escaped plus is a plus
}

TEST(HttpTarget, PathAndQueryAsCppHttplibSplitsThem) {
  std::string path;
  Params params;
  ASSERT_TRUE(parse_target("/measurement/measurements?source=12&pageSize=5", &path, &params));
  EXPECT_EQ(path, "/measurement/measurements");
  EXPECT_EQ(all(params), (std::vector<std::pair<std::string, std::string>>{{"pageSize", "5"},
                                                                           {"source", "12"}}));
}

TEST(HttpTarget, RepeatedParametersAreKeptInOrder) {
  std::string path;
  Params params;
  ASSERT_TRUE(parse_target("/x?series=a&series=b&series=a&other=1", &path, &params));
  auto [b, e] = params.equal_range("series");
  std::vector<std::string> series;
  for (; b != e; ++b) series.push_back(b->second);
  // An identical pair counts once (cpp-httplib's behaviour); distinct values all stay.
  EXPECT_EQ(series, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(params.count("other"), 1u);
}

TEST(HttpTarget, DecodingOfPathAndValues) {
  std::string path;
  Params params;
  ASSERT_TRUE(
      parse_target("/identity/externalIds/c8y_Serial/a%20b+c?dateFrom=2024-01-01T00:00:00%2B01:00"
                   "&text=hello+world&k%3Dx=v#frag",
                   &path, &params));
  EXPECT_EQ(path, "/identity/externalIds/c8y_Serial/a b+c");  // '+' stays in the path
  EXPECT_EQ(params.find("dateFrom")->second, "2024-01-01T00:00:00+01:00");
  EXPECT_EQ(params.find("text")->second, "hello world");
  EXPECT_EQ(params.find("k=x")->second, "v");
  EXPECT_EQ(params.size(), 3u);  // the fragment is dropped
}

TEST(HttpTarget, EmptyPiecesAndValuelessNames) {
  std::string path;
  Params params;
  ASSERT_TRUE(parse_target("/p?&a&&b=&c=1&", &path, &params));
  EXPECT_EQ(path, "/p");
  EXPECT_EQ(all(params),
            (std::vector<std::pair<std::string, std::string>>{{"a", ""}, {"b", ""}, {"c", "1"}}));
  params.clear();
  ASSERT_TRUE(parse_target("/p?", &path, &params));
  EXPECT_TRUE(params.empty());
  EXPECT_FALSE(parse_target("/p?a=1?b=2", &path, &params));
}

TEST(HttpMessage, HeadersAreCaseInsensitiveAndCrlfIsRefused) {
  Request req;
  req.headers.emplace("Authorization", "Basic x");
  EXPECT_TRUE(req.has_header("authorization"));
  EXPECT_EQ(req.get_header_value("AUTHORIZATION"), "Basic x");
  EXPECT_EQ(req.get_header_value("Host"), "");
  Response res;
  res.set_header("X-A", "1\r\nX-B: 2");
  EXPECT_FALSE(res.has_header("X-A"));
  res.set_content("{}", "application/json");
  res.set_content("[]", "application/json");
  EXPECT_EQ(res.headers.count("content-type"), 1u);
  EXPECT_EQ(res.body, "[]");
}

TEST(HttpMessage, ParamValuesByIndex) {
  Request req;
  req.params.emplace("s", "a");
  req.params.emplace("s", "b");
  EXPECT_TRUE(req.has_param("s"));
  EXPECT_EQ(req.get_param_value("s"), "a");
  EXPECT_EQ(req.get_param_value("s", 1), "b");
  EXPECT_EQ(req.get_param_value("s", 2), "");
  EXPECT_EQ(req.get_param_value_count("s"), 2u);
  EXPECT_FALSE(req.has_param("t"));
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
      res.status = 500;
      res.set_content("{\"error\":\"general/internalError\"}", "application/json");
    });
    router.set_error_handler([](const Request&, Response& res) {
      if (res.body.empty()) res.set_content("error " + std::to_string(res.status), "text/plain");
    });
  }
  Response run(const std::string& method, const std::string& target) {
    Request req;
    req.method = method;
    EXPECT_TRUE(parse_target(target, &req.path, &req.params));
    Response res;
    router.dispatch(req, res);
    return res;
  }
  Router router;
};

TEST_F(RouterTest, WholePathMatchInRegistrationOrderWithCaptures) {
  router.Get("/items/count", [](const Request&, Response& res) { res.set_content("count", "t"); });
  router.Get(R"(/items/([^/]+))", [](const Request& req, Response& res) {
    res.set_content("item " + std::string(req.matches[1]), "t");
  });
  EXPECT_EQ(run("GET", "/items/count").body, "count");
  auto r = run("GET", "/items/42?x=1");
  EXPECT_EQ(r.status, 200);  // not set by the route
  EXPECT_EQ(r.body, "item 42");
  EXPECT_EQ(run("GET", "/items/42/more").status, 404);  // no partial match
  EXPECT_EQ(run("GET", "/prefix/items/42").status, 404);
  EXPECT_EQ(run("HEAD", "/items/7").body, "item 7");  // HEAD takes the GET routes
}

TEST_F(RouterTest, UnmatchedAndUnknownMethods) {
  router.Get("/a", [](const Request&, Response& res) { res.status = 204; });
  auto r = run("POST", "/a");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "error 404");
  EXPECT_EQ(run("PATCH", "/a").status, 404);
  EXPECT_EQ(run("OPTIONS", "/a").status, 404);
  r = run("BREW", "/a");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "error 400");
  EXPECT_EQ(run("GET", "/a").status, 204);
}

TEST_F(RouterTest, ExceptionsBecomeTheExceptionHandlersAnswer) {
  router.Post("/boom", [](const Request&, Response& res) {
    res.set_header("X-Seen", "1");
    throw std::runtime_error("storage gone");
  });
  router.Put("/int", [](const Request&, Response&) { throw 42; });
  auto r = run("POST", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "{\"error\":\"general/internalError\"}");
  EXPECT_TRUE(r.has_header("X-Seen"));  // what the route set before it threw stays
  EXPECT_EQ(run("PUT", "/int").status, 500);
}

TEST_F(RouterTest, ErrorHandlerFillsOnlyEmptyErrorBodies) {
  router.Delete("/gone", [](const Request&, Response& res) { res.status = 410; });
  router.Delete("/own", [](const Request&, Response& res) {
    res.status = 409;
    res.set_content("mine", "text/plain");
  });
  EXPECT_EQ(run("DELETE", "/gone").body, "error 410");
  EXPECT_EQ(run("DELETE", "/own").body, "mine");
  Request req;
  Response res;
  res.status = 413;
  router.finish(req, res);
  EXPECT_EQ(res.body, "error 413");
}

TEST_F(RouterTest, HasRoute) {
  router.Post(R"(/event/events)", [](const Request&, Response&) {});
  Request req;
  req.method = "POST";
  req.path = "/event/events";
  EXPECT_TRUE(router.has_route(req));
  req.method = "PUT";
  EXPECT_FALSE(router.has_route(req));
  req.method = "POST";
  req.path = "/event/events/1";
  EXPECT_FALSE(router.has_route(req));
}

}  // namespace
}  // namespace c8y::rest

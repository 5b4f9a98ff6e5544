#include "core/json_writer.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(JsonWriterTest, EscapesWhatJsonRequiresAndNothingElse) {
  EXPECT_EQ(JsonQuoted("pool \"A\\B\"\n\t\r\b\f"), R"("pool \"A\\B\"\n\t\r\b\f")");
  EXPECT_EQ(JsonQuoted(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(JsonQuoted("Zürich / \x7f"), "\"Zürich / \x7f\"") << "UTF-8 and DEL pass as they are";
  EXPECT_EQ(JsonQuoted(std::string("a\0b", 3)), R"("a\u0000b")");
}

TEST(JsonWriterTest, WritesKeysInOrderWithCommasWhereTheyBelong) {
  JsonWriter w;
  w.BeginObject().Key("a").Number(1).Key("b").BeginArray().String("x").Bool(true);
  w.BeginObject().EndObject().EndArray().Key("c").Raw("{\"d\":null}").EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":["x",true,{}],"c":{"d":null}})");
}

}  // namespace
}  // namespace faultline

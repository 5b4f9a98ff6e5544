#include "core/printable.h"

#include "gtest/gtest.h"

namespace faultline {
namespace {

TEST(PrintableTest, KeepsPlainTextAndOtherScripts) {
  EXPECT_EQ(Printable("WEB01 / MSExchangeOWAAppPool"), "WEB01 / MSExchangeOWAAppPool");
  EXPECT_EQ(Printable("Größe 服务器 ☃"), "Größe 服务器 ☃");
  EXPECT_EQ(Printable(""), "");
}

TEST(PrintableTest, EscapesWhatCouldForgeALineOrDriveATerminal) {
  // A forged line of its own, a screen clear, a bell, a NUL and DEL.
  EXPECT_EQ(Printable("WEB1\n[critical] fake"), "WEB1\\x0A[critical] fake");
  EXPECT_EQ(Printable("\x1b[2J\x1b[1;31mRED"), "\\x1B[2J\\x1B[1;31mRED");
  EXPECT_EQ(Printable(std::string_view("a\0b\x07\x7f\r\t", 7)), "a\\x00b\\x07\\x7F\\x0D\\x09");
  // A C1 control (U+009B, the 8-bit CSI).
  EXPECT_EQ(Printable("\xc2\x9b" "31m"), "\\u{009B}31m");
}

TEST(PrintableTest, EscapesWhatReordersOrHidesText) {
  // Right-to-left override: "WEB1 gnp.exe" would show as "WEB1 exe.png".
  EXPECT_EQ(Printable("WEB1 \xe2\x80\xae" "gnp.exe"), "WEB1 \\u{202E}gnp.exe");
  EXPECT_EQ(Printable("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u{2066}x\\u{2069}");  // isolates
  EXPECT_EQ(Printable("a\xe2\x80\x8b" "b"), "a\\u{200B}b");                   // zero width space
  EXPECT_EQ(Printable("\xef\xbb\xbfhost"), "\\u{FEFF}host");                    // a BOM
  EXPECT_EQ(Printable("a\xe2\x80\xa8" "b"), "a\\u{2028}b");  // a line separator
  EXPECT_EQ(Printable("\xf3\xa0\x80\x81"), "\\u{E0001}");    // a tag character
}

TEST(PrintableTest, EscapesBytesOfNoValidCharacter) {
  EXPECT_EQ(Printable("\xff\xfe"), "\\xFF\\xFE");
  EXPECT_EQ(Printable("\xc3"), "\\xC3") << "cut short";
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xC0\\xAF") << "overlong";
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xED\\xA0\\x80") << "a surrogate";
  EXPECT_EQ(Printable("\xc3\xa9\xc3"), "\xc3\xa9\\xC3");
}

}  // namespace
}  // namespace faultline

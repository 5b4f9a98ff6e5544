// Text from events (host, pool and service names, messages) made safe to show to a person: a
// terminal, a log line, a chat message. Nothing an event carries can then move the cursor, clear
// the screen, start a line of its own (a forged "[critical]" line), or reorder what is shown.
#pragma once

#include <string>
#include <string_view>

namespace faultline {

// Appends `text` to `*out` with every character that is not plain text escaped: the C0 controls
// (newline and tab included) and DEL as \xNN, the C1 controls, the line and paragraph
// separators and the Unicode format characters that reorder or hide text (U+061C,
// U+200B..U+200F, U+202A..U+202E, U+2060..U+206F, U+FEFF, U+FFF9..U+FFFB, the tags
// U+E0000..U+E007F) as \u{NNNN}, a byte that is not part of valid UTF-8 as \xNN. Everything else,
// other scripts included, is kept as it is.
void AppendPrintable(std::string* out, std::string_view text);
std::string Printable(std::string_view text);

}  // namespace faultline

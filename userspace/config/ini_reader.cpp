#include "config/ini_reader.h"

#include <fmt/format.h>
#include <ini.h>
#include <cctype>
#include <cstring>

namespace iohealth {
namespace {

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// inih hands us one line at a time through this reader, so the reader always knows which
// physical line the next handler call belongs to. It also classifies each line the way
// inih's grammar does, to catch syntax errors that inih would report only once.
struct ReaderState {
    std::string_view rest;
    std::string_view file;
    int line = 0;
    std::string section;
    bool section_ok = true;     // false after a malformed header: its keys are dropped
    bool expect_entry = false;  // the current line must produce a handler call
    bool continuation = false;  // the current line is an indented continuation (inih's
                                // INI_ALLOW_MULTILINE), which iohealth does not accept
    bool after_key = false;     // a key was seen since the last header (inih's prev_name)
    bool bare_cr_reported = false;
    int handled_line = 0;
    IniDocument* doc = nullptr;
    std::vector<ConfigError>* errors = nullptr;

    void error(std::string message) {
        errors->push_back({std::string(file), line, {}, {}, std::move(message)});
    }

    // The line just parsed was "name = value"-shaped but inih found neither '=' nor ':'.
    void check_previous_line() {
        if (expect_entry && handled_line != line)
            error("expected 'key = value', '[section]' or a comment");
        expect_entry = false;
        continuation = false;
    }

    // inih's find_chars_or_comment(s, stop): the first of `stop`, or of an inline comment
    // (a ';' after whitespace), whichever comes first; npos if neither.
    static std::size_t find_chars_or_comment(std::string_view s, std::string_view stop) {
        bool was_space = false;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (stop.find(s[i]) != std::string_view::npos) return i;
            if (was_space && s[i] == ';') return i;
            was_space = is_space(s[i]);
        }
        return std::string_view::npos;
    }

    // A line too long for inih's buffer is fine if what inih would read of it fits: a
    // comment line reads as nothing, a trailing comment is dropped.
    static std::string_view without_comment(std::string_view text) {
        std::size_t first = 0;
        while (first < text.size() && is_space(text[first])) ++first;
        if (first == text.size() || text[first] == ';' || text[first] == '#') return {};
        text = text.substr(0, find_chars_or_comment(text, {}));
        while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
        return text;
    }

    void classify(std::string_view text) {
        std::size_t start = 0;
        if (line == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") start = 3;  // INI_ALLOW_BOM
        const bool indented = start < text.size() && is_space(text[start]);
        while (start < text.size() && is_space(text[start])) ++start;
        if (start == text.size() || text[start] == ';' || text[start] == '#') return;
        if (indented && after_key) {
            expect_entry = continuation = true;
            return;
        }
        if (text[start] == '[') {
            const std::string_view inner = text.substr(start + 1);
            const std::size_t end = find_chars_or_comment(inner, "]");
            if (end == std::string_view::npos || inner[end] != ']') {
                error("section header without ']'");
                section_ok = false;
                return;
            }
            std::string_view after = inner.substr(end + 1);
            while (!after.empty() && is_space(after.front())) after.remove_prefix(1);
            // inih ignores whatever follows ']': a key written there would be lost.
            if (!after.empty() && after.front() != ';' && after.front() != '#')
                error("text after the section header's ']'; write each key on a line of its own");
            section = std::string(inner.substr(0, end));
            section_ok = true;
            after_key = false;
            doc->sections.push_back({section, line});
            return;
        }
        expect_entry = true;
    }
};

char* read_line(char* buf, int size, void* stream) {
    auto& st = *static_cast<ReaderState*>(stream);
    st.check_previous_line();
    if (st.rest.empty()) return nullptr;
    const std::size_t nl = st.rest.find('\n');
    std::string_view text = st.rest.substr(0, nl);
    st.rest = nl == std::string_view::npos ? std::string_view{} : st.rest.substr(nl + 1);
    ++st.line;
    // Lines end in LF or CRLF. A CR anywhere else (a file with CR-only line endings reads as
    // one line, a value could hide a line break) is refused, once per file.
    if (nl != std::string_view::npos && !text.empty() && text.back() == '\r') text.remove_suffix(1);
    const bool bare_cr = text.find('\r') != std::string_view::npos;
    if (bare_cr && !st.bare_cr_reported)
        st.error(
            "carriage return without a line feed (CR-only or mixed line endings); "
            "lines must end in LF or CRLF");
    st.bare_cr_reported = st.bare_cr_reported || bare_cr;
    // Feed inih an empty line instead of one it would misread: it stops at a NUL, and it
    // splits a line longer than its buffer into two lines.
    const auto max_chars = static_cast<std::size_t>(size - 1);
    if (bare_cr) {
        text = {};
    } else if (text.find('\0') != std::string_view::npos) {
        st.error("line contains a NUL byte");
        text = {};
    } else if (text.size() > max_chars) {
        text = ReaderState::without_comment(text);
        if (text.size() > max_chars) {
            st.error(fmt::format("line is longer than {} characters", max_chars));
            text = {};
        }
    }
    st.classify(text);
    if (!text.empty()) std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    return buf;
}

int on_entry(void* user, const char* /*section*/, const char* name, const char* value) {
    auto& st = *static_cast<ReaderState*>(user);
    st.handled_line = st.line;
    if (!st.section_ok) return 1;
    if (st.continuation) {
        st.error("indented line continues the previous value; write each value on one line");
        return 1;
    }
    st.after_key = true;
    // inih's own section buffer truncates long names; ours does not.
    st.doc->entries.push_back({st.section, name, value, st.line});
    return 1;
}

}  // namespace

IniDocument read_ini(std::string_view text, std::string_view file,
                     std::vector<ConfigError>& errors) {
    IniDocument doc;
    ReaderState st;
    st.rest = text;
    st.file = file;
    st.doc = &doc;
    st.errors = &errors;
    const std::size_t errors_before = errors.size();
    const int first_error = ini_parse_stream(read_line, &st, on_entry, &st);
    // inih's verdict always counts, even if the classification above missed it.
    if (first_error > 0) {
        bool reported = false;
        for (std::size_t i = errors_before; i < errors.size(); ++i)
            reported = reported || errors[i].line == first_error;
        if (!reported) errors.push_back({std::string(file), first_error, {}, {}, "syntax error"});
    }
    return doc;
}

}  // namespace iohealth

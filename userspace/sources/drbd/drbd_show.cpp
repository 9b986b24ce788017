#include "sources/drbd/drbd_show.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace iohealth {
namespace {

// `drbdsetup show` prints a tree: statements of words ending in ';', or a header of words
// followed by a { ... } block. Strings are double-quoted, '#' starts a comment.
struct Node {
    std::vector<std::string> words;
    std::vector<Node> children;
    bool block = false;

    std::string_view key() const { return words.empty() ? std::string_view{} : words[0]; }
    // The statement `k ...;` among the children (a block `k { }` is another thing: `disk`
    // is both the backing disk and the disk options).
    const Node* leaf(std::string_view k) const { return child(k, false); }
    // The block `k ... { }` among the children.
    const Node* section(std::string_view k) const { return child(k, true); }
    // The first statement `k ...;` anywhere below this node, depth first.
    const Node* find(std::string_view k) const {
        for (const auto& c : children) {
            if (!c.block && c.key() == k) return &c;
            if (const Node* n = c.find(k)) return n;
        }
        return nullptr;
    }

  private:
    const Node* child(std::string_view k, bool want_block) const {
        for (const auto& c : children)
            if (c.key() == k && c.block == want_block) return &c;
        return nullptr;
    }
};

class Parser {
  public:
    explicit Parser(std::string_view text) : text_(text) {}

    Node parse_all(std::vector<std::string>& errors) {
        Node root;
        root.block = true;
        parse_block(root, errors, false);
        return root;
    }

  private:
    enum class Token { kWord, kOpen, kClose, kEnd, kSemicolon };

    Token next(std::string& word) {
        for (;;) {
            while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])))
                ++pos_;
            if (pos_ < text_.size() && text_[pos_] == '#') {
                while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
                continue;
            }
            break;
        }
        if (pos_ >= text_.size()) return Token::kEnd;
        const char c = text_[pos_];
        if (c == '{' || c == '}' || c == ';') {
            ++pos_;
            return c == '{' ? Token::kOpen : c == '}' ? Token::kClose : Token::kSemicolon;
        }
        word.clear();
        if (c == '"') {
            for (++pos_; pos_ < text_.size() && text_[pos_] != '"'; ++pos_) {
                if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
                word += text_[pos_];
            }
            ++pos_;  // the closing quote
            return Token::kWord;
        }
        while (pos_ < text_.size() && !std::isspace(static_cast<unsigned char>(text_[pos_])) &&
               std::string_view("{};#\"").find(text_[pos_]) == std::string_view::npos)
            word += text_[pos_++];
        return Token::kWord;
    }

    // Reads statements into `parent` until '}' (nested) or the end of the text (top level).
    void parse_block(Node& parent, std::vector<std::string>& errors, bool nested) {
        Node current;
        std::string word;
        for (;;) {
            switch (next(word)) {
                case Token::kWord:
                    current.words.push_back(word);
                    break;
                case Token::kSemicolon:
                    if (!current.words.empty()) parent.children.push_back(std::move(current));
                    current = Node{};
                    break;
                case Token::kOpen:
                    current.block = true;
                    parse_block(current, errors, true);
                    parent.children.push_back(std::move(current));
                    current = Node{};
                    break;
                case Token::kClose:
                    if (!nested) errors.push_back("unbalanced '}'");
                    return;
                case Token::kEnd:
                    if (nested) errors.push_back("unexpected end of text inside { }");
                    return;
            }
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// Reads `key VALUE;` (the second word) of `node` into `out`.
template <typename T>
void read_number(const Node* node, T& out, std::vector<std::string>& errors,
                 const std::string& where) {
    if (!node || node->words.size() < 2) return;
    const std::string& v = node->words[1];
    long n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < 0) {
        errors.push_back(fmt::format("{}: {} '{}' is not a number", where, node->words[0], v));
        return;
    }
    out = T(n);
}

// Reads a time setting DRBD gives in `unit`s (tenths of a second, seconds). One longer than
// kMaxDuration is refused: no DRBD timeout comes near a week, and the product could overflow.
void read_duration(const Node* node, Duration unit, Duration& out, std::vector<std::string>& errors,
                   const std::string& where) {
    long n = -1;
    read_number(node, n, errors, where);
    if (n < 0) return;
    if (n > kMaxDuration / unit) {
        errors.push_back(fmt::format("{}: {} '{}' is longer than {}", where, node->words[0],
                                     node->words[1], format_duration(kMaxDuration)));
        return;
    }
    out = n * unit;
}

DrbdNetTimeouts read_net(const Node* net, std::vector<std::string>& errors,
                         const std::string& where) {
    DrbdNetTimeouts t;
    if (!net) return t;
    constexpr Duration kTenth = std::chrono::milliseconds(100);
    read_duration(net->leaf("timeout"), kTenth, t.timeout, errors, where);
    read_number(net->leaf("ko-count"), t.ko_count, errors, where);
    read_duration(net->leaf("ping-int"), std::chrono::seconds(1), t.ping_int, errors, where);
    read_duration(net->leaf("ping-timeout"), kTenth, t.ping_timeout, errors, where);
    return t;
}

void read_text(const Node* node, std::string& out) {
    if (node && node->words.size() >= 2) out = node->words[1];
}

// "_remote_host ipv4 10.0.0.2:7789;" or "address ipv4 10.0.0.2:7789;": the last word.
std::string address_of(const Node* node) {
    return node && node->words.size() >= 2 ? node->words.back() : std::string{};
}

DrbdResourceConfig read_resource(const Node& res, std::vector<std::string>& errors) {
    DrbdResourceConfig c;
    c.name = res.words.size() >= 2 ? res.words[1] : std::string{};
    const std::string where = "resource " + c.name;

    bool drbd9 = false;
    for (const auto& conn : res.children) {
        if (conn.key() != "connection" || !conn.block) continue;
        drbd9 = true;
        DrbdPeerConfig p;
        read_number(conn.leaf("_peer_node_id"), p.peer_node_id, errors, where);
        if (const Node* path = conn.section("path"))
            p.address = address_of(path->leaf("_remote_host"));
        p.net = read_net(conn.section("net"), errors, where);
        c.peers.push_back(p);
    }
    if (!drbd9) {
        if (const Node* remote = res.section("_remote_host")) {
            DrbdPeerConfig p;
            p.address = address_of(remote->leaf("address"));
            p.net = read_net(res.section("net"), errors, where);
            c.peers.push_back(p);
        }
    }

    if (const Node* here = res.section("_this_host")) {
        for (const auto& vol : here->children) {
            if (vol.key() != "volume" || !vol.block) continue;
            DrbdVolumeConfig v;
            read_number(&vol, v.volume, errors, where);
            if (const Node* dev = vol.leaf("device")) {
                const auto minor = std::find(dev->words.begin(), dev->words.end(), "minor");
                if (minor != dev->words.end() && minor + 1 != dev->words.end()) {
                    Node value{{"minor", *(minor + 1)}, {}, false};
                    read_number(&value, v.minor, errors, where);
                }
            }
            read_text(vol.leaf("disk"), v.disk);
            c.volumes.push_back(v);
        }
    }

    if (const Node* options = res.section("options")) {
        read_text(options->leaf("quorum"), c.quorum);
        read_text(options->leaf("on-no-quorum"), c.on_no_quorum);
    }
    read_text(res.find("fencing"), c.fencing);
    read_text(res.find("on-io-error"), c.on_io_error);
    read_duration(res.find("disk-timeout"), std::chrono::milliseconds(100), c.disk_timeout, errors,
                  where);
    return c;
}

}  // namespace

std::vector<DrbdResourceConfig> parse_drbd_show(std::string_view text,
                                                std::vector<std::string>& errors) {
    const Node root = Parser(text).parse_all(errors);
    std::vector<DrbdResourceConfig> out;
    for (const auto& res : root.children)
        if (res.block && res.key() == "resource") out.push_back(read_resource(res, errors));
    return out;
}

}  // namespace iohealth

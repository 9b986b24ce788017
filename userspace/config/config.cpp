#include "config/config.h"

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <system_error>

#include "config/config_file.h"
#include "config/ini_reader.h"
#include "config/presets.h"
#include "config/settings.h"
#include "config/timings.h"
#include "config/validate.h"

namespace iohealth {
namespace {

constexpr std::string_view kPathPrefix = "path ";
constexpr std::array<std::string_view, 3> kKindKeys{"device", "mount", "drbd"};

struct PathDraft {
    std::string name;
    ValueOrigin header;  // where the section first appeared
    SettingMap settings;
    bool bad_target = false;  // device/mount/drbd had a bad value, already reported
};

// Reads files one after another into per-section setting maps (a later file replaces a key),
// then builds and validates the effective configuration.
class Loader {
  public:
    void add_text(std::string_view text, std::string_view file);
    void add_error(ConfigError e) { errors_.push_back(std::move(e)); }
    void name_main_file(std::string_view file) { main_file_ = file; }
    ConfigResult finish();

  private:
    PathDraft* path_draft(std::string_view section);
    SettingMap* section_settings(std::string_view section, SettingMap& policy);
    // `policy` receives the [policy] keys: policy_ for config files, a preset's own map.
    void read_into(std::string_view text, std::string_view file, ValueOrigin::Kind kind,
                   std::string_view preset, SettingMap& policy);
    const SettingMap& preset(std::string_view name);
    PathPolicy build_policy(const SettingMap& settings, Duration tick, OriginMap& origins);
    void build_path(const PathDraft& draft, DaemonConfig& config, Validator& validator,
                    const ValueOrigin& tick_origin);

    std::string main_file_;
    SettingMap daemon_;
    SettingMap libvirt_;
    SettingMap cloudstack_;
    SettingMap policy_;
    std::vector<PathDraft> paths_;
    std::map<std::string, SettingMap, std::less<>> presets_;
    std::vector<ConfigError> errors_;
    std::vector<std::string> warnings_;
};

PathDraft* Loader::path_draft(std::string_view section) {
    if (section.substr(0, kPathPrefix.size()) != kPathPrefix) return nullptr;
    const std::string_view name = section.substr(kPathPrefix.size());
    for (PathDraft& p : paths_)
        if (p.name == name) return &p;
    return nullptr;
}

SettingMap* Loader::section_settings(std::string_view section, SettingMap& policy) {
    if (section == "policy") return &policy;
    if (&policy != &policy_) return nullptr;  // a preset: only [policy]
    if (section == "daemon") return &daemon_;
    if (section == "libvirt") return &libvirt_;
    if (section == "cloudstack") return &cloudstack_;
    PathDraft* draft = path_draft(section);
    return draft ? &draft->settings : nullptr;
}

std::string_view scope_hint(unsigned scopes) {
    if (scopes == kInDaemon) return "[daemon]";
    if (scopes == kInLibvirt) return "[libvirt]";
    if (scopes == kInPath) return "[path NAME]";
    if (scopes == kInCloudstack) return "[cloudstack]";
    return "[policy] or [path NAME]";
}

unsigned scope_bit(std::string_view section) {
    if (section == "daemon") return kInDaemon;
    if (section == "policy") return kInPolicy;
    if (section == "libvirt") return kInLibvirt;
    if (section == "cloudstack") return kInCloudstack;
    return kInPath;
}

void Loader::read_into(std::string_view text, std::string_view file, ValueOrigin::Kind kind,
                       std::string_view preset, SettingMap& policy) {
    const bool reading_preset = &policy != &policy_;
    const IniDocument doc = read_ini(text, file, errors_);
    auto fail = [&](int line, std::string_view section, std::string_view key, std::string msg) {
        errors_.push_back(
            {std::string(file), line, std::string(section), std::string(key), std::move(msg)});
    };
    // Section headers first: a section is known (and a path exists) even with no keys.
    for (const IniSection& s : doc.sections) {
        if (s.name == "policy" || (!reading_preset && (s.name == "daemon" || s.name == "libvirt" ||
                                                       s.name == "cloudstack")))
            continue;
        if (reading_preset || s.name.rfind("path", 0) != 0) {
            fail(s.line, s.name, {},
                 reading_preset ? "a preset has only a [policy] section"
                                : "unknown section (expected [daemon], [libvirt], [cloudstack], "
                                  "[policy] or "
                                  "[path NAME])");
            continue;
        }
        if (s.name.rfind(kPathPrefix, 0) != 0) {
            fail(s.line, s.name, {}, "missing path name (write [path NAME])");
            continue;
        }
        const std::string name = s.name.substr(kPathPrefix.size());
        if (!valid_name(name)) {
            fail(s.line, s.name, {},
                 fmt::format("bad path name '{}' (allowed: letters, digits, '_', '.', '-')", name));
            continue;
        }
        const bool known = std::any_of(paths_.begin(), paths_.end(),
                                       [&](const PathDraft& p) { return p.name == name; });
        if (!known)
            paths_.push_back(
                {name, {ValueOrigin::Kind::kSet, {}, std::string(file), s.line, s.name}, {}});
    }
    std::map<std::pair<std::string, std::string>, int> seen;  // same key twice in this file
    for (const IniEntry& e : doc.entries) {
        if (e.section.empty()) {
            fail(e.line, {}, e.key, "key outside of any section");
            continue;
        }
        SettingMap* target = section_settings(e.section, policy);
        if (!target) continue;  // its section header was already reported
        std::string error;
        const auto spec = find_key(e.key, error);
        if (!spec) {
            fail(e.line, e.section, e.key, std::move(error));
            continue;
        }
        if (!(spec->scopes & scope_bit(e.section))) {
            fail(e.line, e.section, e.key,
                 fmt::format("not allowed here (it belongs in {})", scope_hint(spec->scopes)));
            continue;
        }
        auto value = parse_value(*spec, e.value, error);
        if (!value) {
            fail(e.line, e.section, e.key, std::move(error));
            if (std::find(kKindKeys.begin(), kKindKeys.end(), e.key) != kKindKeys.end())
                path_draft(e.section)->bad_target = true;
            continue;
        }
        // render_effective() writes every value back on one line; refuse what cannot be.
        const std::size_t rendered = e.key.size() + 3 + format_value(spec->kind, *value).size();
        if (rendered > kMaxLineChars) {
            fail(e.line, e.section, e.key,
                 fmt::format("too long: written back as 'key = value' it needs {} characters, "
                             "more than {}",
                             rendered, kMaxLineChars));
            continue;
        }
        const auto [it, first] = seen.try_emplace({e.section, e.key}, e.line);
        if (!first)
            warnings_.push_back(
                ConfigError{std::string(file), e.line, e.section, e.key,
                            fmt::format("overrides the value set at line {}", it->second)}
                    .to_string());
        it->second = e.line;
        ValueOrigin origin{kind, std::string(preset), {}, 0, {}};
        if (kind == ValueOrigin::Kind::kSet)
            origin = {kind, {}, std::string(file), e.line, e.section};
        (*target)[e.key] = Setting{std::move(*value), std::move(origin)};
    }
}

void Loader::add_text(std::string_view text, std::string_view file) {
    if (main_file_.empty()) main_file_ = file;
    read_into(text, file, ValueOrigin::Kind::kSet, {}, policy_);
}

// A preset is read like a config file with only a [policy] section, into its own map.
const SettingMap& Loader::preset(std::string_view name) {
    if (const auto it = presets_.find(name); it != presets_.end()) return it->second;
    SettingMap& out = presets_[std::string(name)];
    read_into(preset_text(name).value_or(""), fmt::format("preset {}", name),
              ValueOrigin::Kind::kPreset, name, out);
    return out;
}

template <typename T>
bool take(const SettingMap& settings, std::string_view key, T& field, OriginMap& origins) {
    const auto it = settings.find(key);
    if (it == settings.end()) return false;
    field = std::get<T>(it->second.value);
    origins[std::string(key)] = it->second.origin;
    return true;
}

PathPolicy Loader::build_policy(const SettingMap& settings, Duration tick, OriginMap& origins) {
    using Kind = ValueOrigin::Kind;
    PathPolicy p;
    // io_timeout first: every timing not set explicitly is derived from the effective one.
    Duration io_timeout = Timings{}.io_timeout;
    if (!take(settings, "io_timeout", io_timeout, origins)) origins["io_timeout"] = {};
    p.timings = derive_timings(io_timeout, tick);
    for (const auto& [key, member] : kDerivedTimings)
        if (!take(settings, key, p.timings.*member, origins))
            origins[std::string(key)] = {Kind::kDerived, {}, {}, 0, {}};
    auto take_or_default = [&](std::string_view key, auto& field) {
        if (!take(settings, key, field, origins)) origins[std::string(key)] = {};
    };
    take_or_default("dead_witnesses", p.witnesses);
    take_or_default("errors", p.errors);
    take_or_default("heartbeat", p.heartbeat);
    take_or_default("contended_enter_ticks", p.contended_enter_ticks);
    take_or_default("agent_unit", p.agent_unit);
    take_or_default("custom_command", p.custom_command);
    std::vector<Action> actions = default_ladder();
    take_or_default("ladder", actions);
    // Each step holds for hold.<action>; by default step_hold, except that a graceful reboot
    // gets its whole graceful_deadline before the next (hard) step.
    for (Action a : actions) {
        const std::string key = fmt::format("hold.{}", to_string(a));
        LadderStep step{a, {}};
        if (!take(settings, key, step.hold, origins)) {
            const bool graceful = a == Action::kGracefulReboot;
            step.hold = graceful ? p.timings.graceful_deadline : p.timings.step_hold;
            origins[key] = origins[graceful ? "graceful_deadline" : "step_hold"];
        }
        p.ladder.push_back(step);
    }
    // hold.<action> for an action outside the ladder: kept for the validator's warning.
    for (const auto& [key, setting] : settings)
        if (key.rfind("hold.", 0) == 0 && !origins.count(key)) origins[key] = setting.origin;
    return p;
}

SettingMap merge(std::initializer_list<const SettingMap*> layers) {
    SettingMap out;
    for (const SettingMap* layer : layers)
        for (const auto& [key, setting] : *layer) out[key] = setting;
    return out;
}

void Loader::build_path(const PathDraft& draft, DaemonConfig& config, Validator& validator,
                        const ValueOrigin& tick_origin) {
    const std::string section = fmt::format("path {}", draft.name);
    PathConfig path;
    path.name = draft.name;
    // Exactly one of device, mount, drbd.
    std::vector<std::string_view> kinds;
    for (std::string_view key : kKindKeys)
        if (draft.settings.count(key)) kinds.push_back(key);
    if (kinds.empty()) {
        if (draft.bad_target) return;
        errors_.push_back({draft.header.file,
                           draft.header.line,
                           section,
                           {},
                           "a path needs one of device, mount or drbd"});
        return;
    }
    for (std::size_t i = 1; i < kinds.size(); ++i) {
        const ValueOrigin& o = draft.settings.find(kinds[i])->second.origin;
        errors_.push_back({o.file, o.line, o.section, std::string(kinds[i]),
                           fmt::format("a path has exactly one of device, mount or drbd, and "
                                       "{} is set too",
                                       kinds[0])});
    }
    if (kinds.size() > 1) return;
    path.kind = *path_kind_from_string(kinds[0]);  // kKindKeys are the PathKind names
    OriginMap& origins = config.origins[section];
    const Setting& target = draft.settings.find(kinds[0])->second;
    path.target = std::get<std::string>(target.value);
    origins[std::string(kinds[0])] = target.origin;
    for (const PathConfig& other : config.paths) {
        if (other.kind != path.kind || other.target != path.target) continue;
        errors_.push_back(
            {target.origin.file, target.origin.line, target.origin.section, std::string(kinds[0]),
             fmt::format("{} is already watched by [path {}]", path.target, other.name)});
        return;
    }
    path.preset = std::string(default_preset(path.kind));
    if (!take(draft.settings, "preset", path.preset, origins)) origins["preset"] = {};
    const SettingMap settings = merge({&preset(path.preset), &policy_, &draft.settings});
    path.policy = build_policy(settings, config.tick, origins);
    validator.check_policy(section, path.kind, path.policy, origins, tick_origin, config.mode);
    config.paths.push_back(std::move(path));
}

ConfigResult Loader::finish() {
    DaemonConfig config;
    OriginMap& daemon_origins = config.origins["daemon"];
    take(daemon_, "mode", config.mode, daemon_origins);
    take(daemon_, "tick", config.tick, daemon_origins);
    take(daemon_, "record", config.record_path, daemon_origins);
    take(daemon_, "discover", config.discover_block_devices, daemon_origins);
    take(daemon_, "sysrq_trigger", config.sysrq_path, daemon_origins);
    take(daemon_, "admin_group", config.admin_group, daemon_origins);
    take(daemon_, "watchdog_device", config.watchdog_device, daemon_origins);
    take(libvirt_, "uri", config.libvirt_uri, config.origins["libvirt"]);
    take(cloudstack_, "agent_properties", config.cloudstack_agent_properties,
         config.origins["cloudstack"]);
    take(cloudstack_, "restart_agent_when_declined", config.cloudstack_restart_agent_when_declined,
         config.origins["cloudstack"]);
    const ValueOrigin tick_origin =
        daemon_origins.count("tick") ? daemon_origins["tick"] : ValueOrigin{};

    Validator validator(main_file_, errors_, warnings_);
    // [policy] is what discovered disks get: on top of the block preset.
    OriginMap& policy_origins = config.origins["policy"];
    config.defaults =
        build_policy(merge({&preset("block"), &policy_}), config.tick, policy_origins);
    validator.check_policy("policy", std::nullopt, config.defaults, policy_origins, tick_origin,
                           config.mode);
    for (const std::string_view name : {"drbd", "nfs"}) {
        OriginMap unused;  // --check-config shows [policy]; the presets are documented
        config.preset_defaults[std::string(name)] =
            build_policy(merge({&preset(name), &policy_}), config.tick, unused);
    }
    for (const PathDraft& draft : paths_) build_path(draft, config, validator, tick_origin);
    validator.check_agent_properties(config.cloudstack_agent_properties,
                                     config.origins["cloudstack"]);
    if (paths_.empty() && !config.discover_block_devices) {
        const ValueOrigin& o = daemon_origins["discover"];
        warnings_.push_back(ConfigError{o.file, o.line, "daemon", "discover",
                                        "no [path] sections and discover = no: nothing will "
                                        "be monitored"}
                                .to_string());
    }

    ConfigResult result;
    result.errors = std::move(errors_);
    result.warnings = std::move(warnings_);
    if (result.errors.empty()) result.config = std::move(config);
    return result;
}

}  // namespace

std::string ConfigError::to_string() const {
    std::string out = file;
    if (line > 0) out += fmt::format(":{}", line);
    out += ": ";
    if (!section.empty()) out += fmt::format("[{}] ", section);
    if (!key.empty()) out += fmt::format("{}: ", key);
    return out + message;
}

ConfigResult load_config_text(std::string_view text, std::string_view name) {
    Loader loader;
    loader.add_text(text, name);
    return loader.finish();
}

ConfigResult load_config(const std::filesystem::path& main_file,
                         std::optional<std::filesystem::path> dropin_dir) {
    namespace fs = std::filesystem;
    Loader loader;
    loader.name_main_file(main_file.string());
    auto read = [&](const fs::path& file) {
        const Expected<std::string> text = read_config_file(file);
        if (!text) {
            loader.add_error({file.string(), 0, {}, {}, text.error()});
            return;
        }
        loader.add_text(*text, file.string());
    };
    read(main_file);
    const fs::path dir = dropin_dir.value_or(fs::path(main_file.string() + ".d"));
    std::error_code ec;
    std::vector<fs::path> dropins;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".conf")  // read() refuses what is not a regular file
            dropins.push_back(it->path());
    if (ec && ec != std::errc::no_such_file_or_directory)
        loader.add_error({dir.string(),
                          0,
                          {},
                          {},
                          fmt::format("cannot read drop-in directory: {}", ec.message())});
    std::sort(dropins.begin(), dropins.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    for (const fs::path& file : dropins) read(file);
    return loader.finish();
}

}  // namespace iohealth

#include "maildir/uidlist.h"

#include "maildir/jsonpath.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>

namespace mm::maildir {

namespace {

bool parseUint32(std::string_view text, std::uint32_t &out)
{
    if (text.empty())
        return false;
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size() || v > 0xFFFFFFFFull)
        return false;
    out = static_cast<std::uint32_t>(v);
    return true;
}

std::string_view nextToken(std::string_view &rest)
{
    while (!rest.empty() && rest.front() == ' ')
        rest.remove_prefix(1);
    const std::size_t end = rest.find(' ');
    const std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return token;
}

bool isHex(std::string_view s)
{
    for (const char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    return true;
}

// Feeds lines one at a time, so a large uidlist is read without holding the file twice.
class LineParser
{
public:
    Status header(std::string_view line)
    {
        m_lineNo = 1;
        if (line.size() < 2 || line[0] < '0' || line[0] > '9' || line[1] != ' ')
            return fail(ErrorCode::InvalidData,
                        "dovecot-uidlist: invalid version number in header");
        m_out.version = line[0] - '0';
        std::string_view rest = line.substr(2);
        switch (m_out.version) {
        case 1:
        case 2: {
            // v1 (Courier-compatible) and v2: "<uidvalidity> <nextuid>"
            if (!parseUint32(nextToken(rest), m_out.uidValidity) ||
                !parseUint32(nextToken(rest), m_out.nextUid))
                return fail(ErrorCode::InvalidData, "dovecot-uidlist: corrupted version 1 header");
            break;
        }
        case 3:
            while (true) {
                const std::string_view field = nextToken(rest);
                if (field.empty())
                    break;
                const char key = field[0];
                const std::string_view value = field.substr(1);
                if (key == 'V') {
                    if (!parseUint32(value, m_out.uidValidity))
                        return fail(ErrorCode::InvalidData,
                                    "dovecot-uidlist: invalid uidvalidity: " + std::string(value));
                } else if (key == 'N') {
                    if (!parseUint32(value, m_out.nextUid))
                        return fail(ErrorCode::InvalidData,
                                    "dovecot-uidlist: invalid next uid: " + std::string(value));
                } else if (key == 'G') {
                    if (value.size() != 32 || !isHex(value))
                        return fail(ErrorCode::InvalidData,
                                    "dovecot-uidlist: invalid mailbox guid: " + std::string(value));
                    m_out.guid = std::string(value);
                } else if (key > ' ' && key < 0x7f) {
                    m_out.headerExtensions[key] = std::string(value);
                } else {
                    problem("header field with a non-ASCII key ignored");
                }
            }
            break;
        default:
            return fail(ErrorCode::Unsupported,
                        "dovecot-uidlist: unsupported version " + std::to_string(m_out.version));
        }
        if (m_out.uidValidity == 0 || m_out.nextUid == 0)
            return fail(ErrorCode::InvalidData,
                        "dovecot-uidlist: broken header (uidvalidity or next uid is 0)");
        return {};
    }

    void record(std::string_view line)
    {
        ++m_lineNo;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            return problem("empty line");

        std::size_t digits = 0;
        while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9')
            ++digits;
        UidlistRecord rec;
        if (digits == 0 || digits >= line.size() || line[digits] != ' ' ||
            !parseUint32(line.substr(0, digits), rec.uid) || rec.uid == 0 ||
            rec.uid == std::numeric_limits<std::uint32_t>::max())
            return problem("invalid uid");
        if (rec.uid <= m_lastUid)
            return problem("UIDs not ordered (" + std::to_string(rec.uid) +
                           " <= " + std::to_string(m_lastUid) + ")");

        std::string_view rest = line.substr(digits);
        while (!rest.empty() && rest.front() == ' ')
            rest.remove_prefix(1);

        if (m_out.version == 3) {
            // Extension fields up to the ':' that introduces the name.
            while (!rest.empty() && rest.front() != ':') {
                const std::size_t end = rest.find(' ');
                const std::string_view field = rest.substr(0, end);
                if (field[0] >= 'A' && field[0] <= 'Z')
                    rec.extensions[field[0]] = std::string(field.substr(1));
                else
                    problem("invalid extension field ignored: " + std::string(field));
                rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
                while (!rest.empty() && rest.front() == ' ')
                    rest.remove_prefix(1);
            }
            if (rest.empty())
                return problem("no file name");
            rest.remove_prefix(1); // the ':'
        } else if (m_out.version == 2) {
            nextToken(rest); // the flags field of the development format
            while (!rest.empty() && rest.front() == ' ')
                rest.remove_prefix(1);
        }
        if (rest.empty())
            return problem("no file name");
        if (rest.find('/') != std::string_view::npos)
            return problem("broken file name (contains '/')");

        rec.fileName = std::string(rest);
        rec.base = rec.fileName.substr(0, rec.fileName.find(':'));
        m_lastUid = rec.uid;

        // Dovecot keeps the later UID when one name appears twice (an expunged file moved back).
        const auto seen = m_byBase.find(rec.base);
        if (seen != m_byBase.end()) {
            problem("duplicate entry for " + rec.base + " (uid " +
                    std::to_string(m_out.records[seen->second].uid) + " -> " +
                    std::to_string(rec.uid) + "), the later one counts");
            m_out.records[seen->second].uid = 0; // tombstone, compacted at the end
        }
        m_byBase[rec.base] = m_out.records.size();
        m_out.records.push_back(std::move(rec));
    }

    void incompleteLastLine()
    {
        ++m_lineNo;
        problem("incomplete last line ignored (being appended?)");
    }

    Uidlist finish()
    {
        if (m_out.records.size() != m_byBase.size())
            std::erase_if(m_out.records, [](const UidlistRecord &r) { return r.uid == 0; });
        return std::move(m_out);
    }

private:
    void problem(std::string reason) { m_out.problems.push_back({m_lineNo, std::move(reason)}); }

    Uidlist m_out;
    std::size_t m_lineNo = 0;
    std::uint32_t m_lastUid = 0;
    std::unordered_map<std::string, std::size_t> m_byBase;
};

} // namespace

Result<Uidlist> Uidlist::parse(std::string_view text)
{
    if (text.empty())
        return fail(ErrorCode::InvalidData, "dovecot-uidlist: empty file");
    LineParser parser;
    std::size_t nl = text.find('\n');
    std::string_view head = text.substr(0, nl);
    if (!head.empty() && head.back() == '\r')
        head.remove_suffix(1);
    if (auto st = parser.header(head); !st)
        return fail(st.error());
    if (nl == std::string_view::npos)
        return parser.finish();
    std::size_t pos = nl + 1;
    while (pos < text.size()) {
        nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            parser.incompleteLastLine();
            break;
        }
        parser.record(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
    return parser.finish();
}

Result<Uidlist> Uidlist::read(const std::string &path)
{
    std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path.c_str(), "rbe"), &std::fclose);
    if (!file) {
        const int err = errno;
        const ErrorCode code = err == ENOENT   ? ErrorCode::NotFound
                               : err == EACCES ? ErrorCode::AccessDenied
                                               : ErrorCode::IoError;
        return fail(code, path + ": cannot open: " + std::strerror(err), path);
    }
    LineParser parser;
    char *buf = nullptr;
    std::size_t cap = 0;
    bool first = true;
    Status status;
    while (true) {
        const ssize_t n = ::getline(&buf, &cap, file.get());
        if (n < 0)
            break;
        std::string_view line(buf, static_cast<std::size_t>(n));
        const bool complete = !line.empty() && line.back() == '\n';
        if (complete)
            line.remove_suffix(1);
        if (first) {
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            status = parser.header(line);
            first = false;
            if (!status)
                break;
        } else if (complete) {
            parser.record(line);
        } else {
            parser.incompleteLastLine();
        }
    }
    const bool readError = std::ferror(file.get()) != 0;
    std::free(buf);
    if (readError)
        return fail(ErrorCode::IoError, path + ": read error", path);
    if (first)
        return fail(ErrorCode::InvalidData, path + ": dovecot-uidlist: empty file", path);
    if (!status) {
        Error e = status.error();
        e.message = path + ": " + e.message;
        e.path = path;
        return fail(std::move(e));
    }
    return parser.finish();
}

const UidlistRecord *Uidlist::findUid(std::uint32_t uid) const
{
    const auto it =
        std::lower_bound(records.begin(), records.end(), uid,
                         [](const UidlistRecord &r, std::uint32_t u) { return r.uid < u; });
    return it != records.end() && it->uid == uid ? &*it : nullptr;
}

namespace {

nlohmann::json extensionsToJson(const std::map<char, std::string> &ext)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[key, value] : ext)
        j[std::string(1, key)] = toValidUtf8(value);
    return j;
}

std::map<char, std::string> extensionsFromJson(const nlohmann::json &j)
{
    std::map<char, std::string> out;
    if (!j.is_object())
        return out;
    for (const auto &[key, value] : j.items())
        if (key.size() == 1 && value.is_string())
            out[key[0]] = value.get<std::string>();
    return out;
}

} // namespace

void to_json(nlohmann::json &j, const UidlistRecord &record)
{
    j = nlohmann::json::object();
    j["uid"] = record.uid;
    putPath(j, "base", record.base);
    if (record.fileName != record.base)
        putPath(j, "fileName", record.fileName);
    if (!record.extensions.empty())
        j["extensions"] = extensionsToJson(record.extensions);
}

void to_json(nlohmann::json &j, const UidlistProblem &problem)
{
    j = {{"line", problem.line}, {"reason", toValidUtf8(problem.reason)}};
}

void to_json(nlohmann::json &j, const Uidlist &uidlist)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = Uidlist::kSchemaVersion;
    j["version"] = uidlist.version;
    j["uidValidity"] = uidlist.uidValidity;
    j["nextUid"] = uidlist.nextUid;
    if (!uidlist.guid.empty())
        j["guid"] = uidlist.guid;
    if (!uidlist.headerExtensions.empty())
        j["headerExtensions"] = extensionsToJson(uidlist.headerExtensions);
    j["records"] = uidlist.records;
    j["problems"] = uidlist.problems;
}

void from_json(const nlohmann::json &j, UidlistRecord &record)
{
    record.uid = j.value("uid", std::uint32_t{0});
    record.base = readPath(j, "base").value_or(std::string());
    record.fileName =
        j.contains("fileName") ? readPath(j, "fileName").value_or(std::string()) : record.base;
    record.extensions = extensionsFromJson(j.value("extensions", nlohmann::json::object()));
}

void from_json(const nlohmann::json &j, Uidlist &uidlist)
{
    uidlist.version = j.value("version", 0);
    uidlist.uidValidity = j.value("uidValidity", std::uint32_t{0});
    uidlist.nextUid = j.value("nextUid", std::uint32_t{0});
    uidlist.guid = j.value("guid", std::string());
    uidlist.headerExtensions =
        extensionsFromJson(j.value("headerExtensions", nlohmann::json::object()));
    uidlist.records.clear();
    if (const auto it = j.find("records"); it != j.end() && it->is_array())
        for (const auto &r : *it)
            uidlist.records.push_back(r.get<UidlistRecord>());
    uidlist.problems.clear();
    if (const auto it = j.find("problems"); it != j.end() && it->is_array())
        for (const auto &p : *it)
            uidlist.problems.push_back(
                {p.value("line", std::size_t{0}), p.value("reason", std::string())});
}

} // namespace mm::maildir

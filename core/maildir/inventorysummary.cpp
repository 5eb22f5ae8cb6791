#include "maildir/inventorysummary.h"

#include "maildir/fsutil.h"
#include "maildir/memoformat.h"

#include <charconv>

namespace mm::maildir {

namespace {

constexpr std::string_view kMagic = "mailmesh-inventory-summary";
constexpr std::string_view kVersion = "2";
constexpr std::size_t kMaxSummaryBytes = std::size_t(256) << 20;

std::optional<FolderState> stateFromName(std::string_view name)
{
    for (const FolderState state :
         {FolderState::Classic, FolderState::CurOnly, FolderState::Broken})
        if (folderStateName(state) == name)
            return state;
    return std::nullopt;
}

void appendNumber(std::string &out, std::int64_t value)
{
    char buffer[24];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
    out += ' ';
}

void appendNumber(std::string &out, std::uint64_t value)
{
    char buffer[24];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    out.append(buffer, end);
    out += ' ';
}

void appendStamp(std::string &out, const DirStamp &s)
{
    appendNumber(out, s.inode);
    appendNumber(out, s.mtimeNs);
    appendNumber(out, s.ctimeNs);
    appendNumber(out, std::uint64_t(s.mode));
}

std::optional<DirStamp> readStamp(FieldReader &fields)
{
    const auto inode = fields.number();
    const auto mtime = fields.signedNumber();
    const auto ctime = fields.signedNumber();
    const auto mode = fields.number();
    if (!inode || !mtime || !ctime || !mode || *mode > 0xFFFFFFFFu)
        return std::nullopt;
    return DirStamp{*inode, *mtime, *ctime, std::uint32_t(*mode)};
}

std::optional<bool> readBool(FieldReader &fields)
{
    const auto n = fields.number();
    if (!n || *n > 1)
        return std::nullopt;
    return *n == 1;
}

// One "f" line after its tag; nullopt when anything in it is off.
std::optional<std::pair<std::string, FolderMemo>> parseFolder(FieldReader &fields)
{
    FolderMemo memo;
    const auto stateName = fields.next();
    const auto state = stateName ? stateFromName(*stateName) : std::nullopt;
    const auto hasTmp = readBool(fields), trusted = readBool(fields), opened = readBool(fields);
    const auto cur = readStamp(fields), newDir = readStamp(fields), tmp = readStamp(fields);
    const auto curMessages = fields.number(), newMessages = fields.number(),
               tmpFiles = fields.number(), dupeMessages = fields.number();
    const auto answer = fields.next();
    const auto folder = fields.next(), brokenReason = fields.next();
    if (!state || !hasTmp || !trusted || !opened || !cur || !newDir || !tmp || !curMessages ||
        !newMessages || !tmpFiles || !dupeMessages || !answer || !folder || !brokenReason ||
        !fields.atEnd())
        return std::nullopt;
    auto folderText = parseField(*folder);
    auto reasonText = parseField(*brokenReason);
    if (!folderText || !reasonText)
        return std::nullopt;
    if (*answer != "-") {
        std::uint64_t checksum = 0;
        const auto r =
            std::from_chars(answer->data(), answer->data() + answer->size(), checksum, 16);
        if (r.ec != std::errc() || r.ptr != answer->data() + answer->size())
            return std::nullopt;
        memo.hasAnswer = true;
        memo.answerChecksum = checksum;
    }
    memo.state = *state;
    memo.hasTmp = *hasTmp;
    memo.trusted = *trusted;
    memo.opened = *opened;
    memo.stamps = {*cur, *newDir, *tmp};
    memo.curMessages = *curMessages;
    memo.newMessages = *newMessages;
    memo.tmpFiles = *tmpFiles;
    memo.dupeMessages = *dupeMessages;
    memo.brokenReason = std::move(*reasonText);
    return std::pair{std::move(*folderText), std::move(memo)};
}

} // namespace

std::optional<std::map<std::string, FolderMemo>> InventorySummary::load(const std::string &memoDir,
                                                                        const std::string &root)
{
    const auto text = readBoundedFile(filePath(memoDir), kMaxSummaryBytes);
    if (!text)
        return std::nullopt;
    const auto checked = checkTrailer(*text);
    if (!checked)
        return std::nullopt;
    std::map<std::string, FolderMemo> folders;
    std::string_view rest = checked->body;
    std::uint64_t lines = 0;
    while (!rest.empty()) {
        const std::size_t eol = rest.find('\n');
        if (eol == std::string_view::npos)
            return std::nullopt;
        FieldReader fields(rest.substr(0, eol));
        rest.remove_prefix(eol + 1);
        const auto tag = fields.next();
        if (lines++ == 0) {
            const auto version = fields.next();
            const auto rootField = fields.next();
            const auto rootText = rootField ? parseField(*rootField) : std::nullopt;
            if (!tag || *tag != kMagic || !version || *version != kVersion || !rootText ||
                *rootText != root || !fields.atEnd())
                return std::nullopt;
            continue;
        }
        if (!tag || *tag != "f")
            return std::nullopt;
        auto folder = parseFolder(fields);
        if (!folder)
            return std::nullopt;
        folders.insert(std::move(*folder));
    }
    if (lines != checked->lines || lines == 0)
        return std::nullopt;
    return folders;
}

Status InventorySummary::save(const std::string &memoDir, const std::string &root,
                              const std::map<std::string, FolderMemo> &folders)
{
    std::string out;
    out.reserve(128 + folders.size() * 200);
    out += kMagic;
    out += ' ';
    out += kVersion;
    out += ' ';
    appendField(out, root);
    out += '\n';
    for (const auto &[relPath, memo] : folders) {
        out += "f ";
        out += folderStateName(memo.state);
        out += ' ';
        appendNumber(out, std::uint64_t(memo.hasTmp));
        appendNumber(out, std::uint64_t(memo.trusted));
        appendNumber(out, std::uint64_t(memo.opened));
        appendStamp(out, memo.stamps.cur);
        appendStamp(out, memo.stamps.newDir);
        appendStamp(out, memo.stamps.tmp);
        appendNumber(out, memo.curMessages);
        appendNumber(out, memo.newMessages);
        appendNumber(out, memo.tmpFiles);
        appendNumber(out, memo.dupeMessages);
        if (memo.hasAnswer) {
            char buffer[16];
            const auto end =
                std::to_chars(buffer, buffer + sizeof buffer, memo.answerChecksum, 16).ptr;
            out.append(buffer, end);
        } else {
            out += '-';
        }
        out += ' ';
        appendField(out, relPath);
        out += ' ';
        appendField(out, memo.brokenReason);
        out += '\n';
    }
    out += memoTrailer(out, folders.size() + 1);
    return replaceFileAtomically(filePath(memoDir), out);
}

} // namespace mm::maildir

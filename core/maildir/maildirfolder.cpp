#include "maildir/maildirfolder.h"

#include "maildir/jsonpath.h"

#include <algorithm>

namespace mm::maildir {

std::int64_t FolderStamps::newestNs() const
{
    std::int64_t newest = 0;
    for (const DirStamp *d : {&cur, &newDir, &tmp})
        newest = std::max({newest, d->mtimeNs, d->ctimeNs});
    return newest;
}

std::string_view folderStateName(FolderState state)
{
    switch (state) {
    case FolderState::Classic:
        return "classic";
    case FolderState::CurOnly:
        return "cur-only";
    case FolderState::Broken:
        return "broken";
    }
    return "broken";
}

std::string_view folderLayoutName(FolderLayout layout)
{
    switch (layout) {
    case FolderLayout::Inbox:
        return "inbox";
    case FolderLayout::MaildirPlusPlus:
        return "maildir++";
    case FolderLayout::Fs:
        return "fs";
    }
    return "inbox";
}

void to_json(nlohmann::json &json, const MaildirFolder &folder)
{
    json = nlohmann::json::object();
    putPath(json, "path", folder.relPath);
    putPath(json, "maildir", folder.maildirRelPath);
    putPath(json, "name", folder.name);
    json["layout"] = std::string(folderLayoutName(folder.layout));
    json["state"] = std::string(folderStateName(folder.state));
    if (folder.state == FolderState::Broken)
        json["brokenReason"] = folder.brokenReason;
    json["hasTmp"] = folder.hasTmp;
}

} // namespace mm::maildir

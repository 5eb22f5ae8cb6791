// Fuzz target: whatever arrives on the agent's stdin. The bytes are cut into frames by
// FrameSplitter (in chunks whose sizes the input chooses), each frame is parsed, and whatever
// the agent would send back is built and serialised; the path helpers must round-trip any
// bytes. Crashes, sanitizer reports, exceptions and failed round trips are findings.

#include "maildir/jsonpath.h"
#include "protocol/framesplitter.h"
#include "protocol/framewriter.h"
#include "protocol/incomingmessage.h"
#include "protocol/outgoingframes.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool condition)
{
    if (!condition)
        std::abort();
}

void answer(std::string_view frame)
{
    const auto message = mm::protocol::parseIncomingMessage(frame);
    nlohmann::json reply;
    if (!message) {
        // Problems quote the frame's id, and a path made of the raw frame bytes.
        mm::Error error = message.error().error;
        error.path = std::string(frame.substr(0, 256));
        reply = mm::protocol::problemFrame(message.error().id, error);
    } else if (message->type == mm::protocol::IncomingMessage::Type::Request) {
        reply = mm::protocol::resultFrame(message->id, message->command, message->params);
        check(message->params.is_object());
    } else {
        reply = mm::protocol::pongFrame(message->id);
    }
    const std::string line = mm::protocol::FrameWriter::serialise(reply);
    check(line.find('\n') == std::string::npos); // one frame, one line
    check(mm::maildir::isValidUtf8(line));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);

    // Paths: any bytes survive putPath -> dump -> parse -> readPath.
    nlohmann::json object;
    mm::maildir::putPath(object, "path", bytes.substr(0, 512));
    const auto back = mm::maildir::readPath(nlohmann::json::parse(object.dump()), "path");
    check(back && *back == bytes.substr(0, 512));
    (void)mm::maildir::base64Decode(bytes.substr(0, 512));

    // Frames: a small limit so the oversized path is exercised too; the first byte picks the
    // chunk size, so one input covers many ways of arriving through read().
    const std::size_t chunk = size == 0 ? 1 : (data[0] % 64) + 1;
    mm::protocol::FrameSplitter splitter(2048);
    const mm::protocol::FrameSplitter::Handler handler{
        [](std::string_view frame) {
            check(frame.size() <= 2048);
            check(frame.find('\n') == std::string_view::npos);
            answer(frame);
        },
        [](std::size_t skipped) { check(skipped > 2048); },
    };
    for (std::size_t offset = 0; offset < size; offset += chunk)
        splitter.feed(bytes.substr(offset, chunk), handler);
    splitter.finish(handler);
    return 0;
}

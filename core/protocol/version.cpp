#include "protocol/version.h"

namespace mm::protocol {

std::string_view mailmeshVersion()
{
    return MAILMESH_VERSION;
}

} // namespace mm::protocol

#pragma once

#include <QtGlobal>

namespace mm::sandbox {

// A TCP port on 127.0.0.1 that nothing listens on right now (0 when none could be found).
// The kernel picks it; the caller must bind it soon, as another process may take it.
quint16 findFreeLoopbackPort();

} // namespace mm::sandbox

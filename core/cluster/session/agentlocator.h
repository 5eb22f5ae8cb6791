#pragma once

#include <QString>

namespace mm::cluster {

// The mailmesh-agent binary to deploy on nodes: $MAILMESH_AGENT, else beside the running
// program, else the build tree's app/mailmesh-agent/, else the installed <prefix>/lib/mailmesh/.
// Empty when none exists.
QString locateAgentBinary();

} // namespace mm::cluster

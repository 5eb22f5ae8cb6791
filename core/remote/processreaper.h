#pragma once

class QProcess;

namespace mm::remote {

// Ends a local helper process (an ssh master, a tunnel) without waiting for it on the caller's
// thread: an ssh master asked to terminate closes its channels politely, which can take tens of
// milliseconds, and a GUI thread must not stall for that. The process is sent SIGTERM, adopted
// by a reaper that lives as long as the application, killed if it is still running after
// killAfterMs, and deleted once it has exited. Without a QCoreApplication, or from a thread
// other than the application's, it falls back to a bounded blocking wait.
void terminateInBackground(QProcess *process, int killAfterMs = 2000);

} // namespace mm::remote

#include "demotrafficthread.h"

namespace mm::app {

namespace {

// Long enough for Syncthing to carry the renames across (its watcher waits a second) and for a
// stock Dovecot to meet the second name at the next count.
constexpr int kPauseAfterRoundMs = 2500;

} // namespace

DemoTrafficThread::DemoTrafficThread(QJsonObject sandboxDescription, QObject *parent)
    : QThread(parent)
    , m_description(std::move(sandboxDescription))
{
    qRegisterMetaType<mm::sandbox::DemoTraffic::Figures>();
}

DemoTrafficThread::~DemoTrafficThread()
{
    requestInterruption();
    wait();
}

void DemoTrafficThread::run()
{
    Result<sandbox::DemoTraffic> traffic = sandbox::DemoTraffic::fromDescription(m_description);
    if (!traffic) {
        Q_EMIT problem(QString::fromStdString(traffic.error().describe()));
        return;
    }
    traffic->setStopRequested([this] { return isInterruptionRequested(); });
    const auto pause = [this](int milliseconds) {
        for (int waited = 0; waited < milliseconds && !isInterruptionRequested(); waited += 100)
            msleep(100);
    };
    while (!isInterruptionRequested()) {
        if (!m_switchedOn || m_held) {
            pause(200);
            continue;
        }
        m_busy = true;
        if (Status round = traffic->runRound(); !round)
            Q_EMIT problem(QString::fromStdString(round.error().describe()));
        pause(kPauseAfterRoundMs);
        // A hold means hands off the nodes: counting opens every inbox, which a stock Dovecot
        // answers with renames.
        if (!m_held)
            if (Status counted = traffic->countDuplicates(); !counted)
                Q_EMIT problem(QString::fromStdString(counted.error().describe()));
        m_busy = false;
        Q_EMIT figuresChanged(traffic->figures());
    }
}

} // namespace mm::app

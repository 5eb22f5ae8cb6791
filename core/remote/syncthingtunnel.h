#pragma once

#include "common/result.h"

#include <QObject>
#include <QPointer>
#include <QSslCertificate>

namespace mm::remote {

class SshSession;
class SyncthingClient;

// Connects a SyncthingClient to the Syncthing of one node: reads the node's config.xml over
// SSH (as the user Syncthing runs as) for the GUI address and API key, the node's https-cert.pem
// when the GUI uses TLS, and opens an SSH local forward to that loopback address. The API key
// only ever lives in memory. There is deliberately no way to reach the GUI directly.
class SyncthingTunnel : public QObject
{
    Q_OBJECT

public:
    struct GuiConfig
    {
        QString host; // as Syncthing listens; 0.0.0.0/:: are reached on the loopback
        quint16 port = 0;
        QByteArray apiKey;
        bool tls = false;
    };

    // syncthingHome: the node's Syncthing home (holding config.xml). runAs: empty for the
    // login user.
    SyncthingTunnel(SshSession *session, SyncthingClient *client, QString syncthingHome,
                    QString runAs = {}, QObject *parent = nullptr);
    ~SyncthingTunnel() override;

    void open();
    void close();
    quint16 localPort() const { return m_localPort; }

    static Result<GuiConfig> parseConfig(const QByteArray &configXml);

Q_SIGNALS:
    void opened();
    void failed(const mm::Error &error);

private:
    void readCertificate(const GuiConfig &config);
    void forward(const GuiConfig &config, const QSslCertificate &certificate);

    QPointer<SshSession> m_session;
    SyncthingClient *m_client;
    QString m_home;
    QString m_runAs;
    quint16 m_localPort = 0;
};

} // namespace mm::remote

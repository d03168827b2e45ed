package dev.tunnelwire.cli;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportOptions;

import java.util.List;
import java.util.Map;

/** The normalised configuration the launcher runs, whether it came from {@code -L}/{@code -F} or a config file. */
final class Specs {

    private Specs() {
    }

    /**
     * Server TLS material: files, or none (then the top-level certificate, or a self-signed one generated at start,
     * as gost does).
     *
     * @param caFile a CA file makes the listener require client certificates (gost's rule)
     * @param alpn   gost's {@code tls.options.alpn}; empty for the transport's default
     */
    record ServerTls(String certFile, String keyFile, String caFile, List<String> alpn) {
        static final ServerTls GENERATED = new ServerTls(null, null, null);

        ServerTls {
            alpn = alpn == null ? List.of() : List.copyOf(alpn);
        }

        ServerTls(String certFile, String keyFile, String caFile) {
            this(certFile, keyFile, caFile, List.of());
        }
    }

    /**
     * gost's top-level {@code tls}: the certificate of TLS listeners that name none, or how to generate one.
     *
     * @param certFile     certificate chain file, with {@code keyFile}, or {@code null}
     * @param keyFile      private key file, or {@code null}
     * @param caFile       CA file (gost then requires client certificates), or {@code null}
     * @param commonName   subject CN of the generated certificate, or {@code null} for the default
     * @param organization subject O of the generated certificate, or {@code null} for the default
     * @param validity     validity of the generated certificate, or {@code null} for the default (one year)
     */
    record GlobalTls(String certFile, String keyFile, String caFile, String commonName, String organization,
                     java.time.Duration validity) {
    }

    /**
     * Client TLS: gost clients do not verify unless {@code secure=true}.
     *
     * @param secure     verify the server certificate and name
     * @param serverName SNI and verification name, or {@code null} for the node host
     * @param caFile     trusted CA file, or {@code null}
     */
    record ClientTls(boolean secure, String serverName, String caFile, String certFile, String keyFile) {
    }

    /**
     * A listener or dialer configured with a peer's own transport objects (sing-box {@code transport}/{@code tls},
     * Xray {@code streamSettings}) instead of gost metadata: the options are already built.
     *
     * @param style               {@code sing-box} or {@code xray}
     * @param transport           our registry scheme
     * @param options             the transport's options
     * @param serverTls           listener TLS, or {@code null} for cleartext (always {@code null} on a dialer)
     * @param clientTls           dialer TLS, or {@code null} for cleartext (always {@code null} on a listener)
     * @param acceptProxyProtocol listener: require a PROXY protocol header (Xray {@code acceptProxyProtocol})
     */
    record Peer(String style, String transport, TransportOptions options, TlsServerOptions serverTls,
                TlsClientOptions clientTls, boolean acceptProxyProtocol) {

        /** For {@code --dry-run}: never prints key material (a JDK RSA key's toString shows its exponent). */
        @Override
        public String toString() {
            String server = serverTls == null ? "none" : serverTls.keyFile() != null
                    ? "files " + serverTls.certFile() + ", " + serverTls.keyFile() + ", alpn " + serverTls.alpn()
                    : "inline certificate " + serverTls.certChain().get(0).getSubjectX500Principal()
                    + ", alpn " + serverTls.alpn();
            String client = clientTls == null ? "none" : "serverName " + clientTls.serverName() + ", insecure "
                    + clientTls.insecure() + ", alpn " + clientTls.alpn() + ", caFile " + clientTls.caFile()
                    + ", trusted " + clientTls.trusted().size() + ", pinned " + clientTls.pinnedSha256()
                    + ", client certificate " + clientTls.certFile();
            return "Peer[style=" + style + ", transport=" + transport + ", options=" + options + ", serverTls="
                    + server + ", clientTls=" + client + ", acceptProxyProtocol=" + acceptProxyProtocol + "]";
        }
    }

    /**
     * One service: a listener of a transport serving a proxy handler.
     *
     * @param transport      our registry scheme of the listener
     * @param tls            server TLS, or {@code null} for cleartext
     * @param users          user to password; empty for no authentication
     * @param targets        forward targets ({@code host:port})
     * @param handlerParams  metadata for the handler
     * @param listenerParams metadata for the transport
     * @param chain          name of the chain the handler dials through, or {@code null} for direct
     * @param peer           the listener as a peer's transport object (then {@code transport} is its scheme,
     *                       {@code tls} is {@code null} and {@code listenerParams} empty), or {@code null}
     */
    record Service(String name, String host, int port, String handler, String transport, ServerTls tls,
                   Map<String, String> users, List<String> targets, Map<String, String> handlerParams,
                   Map<String, String> listenerParams, String chain, Peer peer) {

        Service withPeer(Peer p) {
            return new Service(name, host, port, handler, p.transport(), null, users, targets, handlerParams,
                    Map.of(), chain, p);
        }
    }

    /**
     * One chain node: the dialer's transport and the connector's protocol.
     *
     * @param peer the dialer as a peer's transport object (then {@code transport} is its scheme, {@code tls} is
     *             {@code null} and {@code dialerParams} empty), or {@code null}
     */
    record Node(String name, String host, int port, String connector, String transport, ClientTls tls, String user,
                String password, Map<String, String> connectorParams, Map<String, String> dialerParams, Peer peer) {

        Node withPeer(Peer p) {
            return new Node(name, host, port, connector, p.transport(), null, user, password, connectorParams,
                    Map.of(), p);
        }
    }

    record Chain(String name, List<Node> hops) {
    }

    /** @param tls gost's top-level {@code tls}, or {@code null} */
    record Config(List<Service> services, List<Chain> chains, GlobalTls tls) {

        Config(List<Service> services, List<Chain> chains) {
            this(services, chains, null);
        }
    }
}

package dev.tunnelwire.cli;

import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Handler;
import dev.tunnelwire.proxy.Protocols;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Hop;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Builds and runs the services and chains of a {@link Specs.Config}; {@link #close()} stops everything. */
final class Launcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Launcher.class);

    private final TransportRegistry registry;
    private final TunnelRuntime runtime = TunnelRuntime.create();
    private final List<Service> services = new ArrayList<>();
    private final Map<String, Chain> chains = new HashMap<>();
    private TlsServerOptions generated;
    private Specs.GlobalTls globalTls;

    Launcher(TransportRegistry registry) {
        this.registry = registry;
    }

    /** Starts every service; throws (after stopping what started) when one fails to bind. */
    void start(Specs.Config config) throws Exception {
        globalTls = config.tls();
        try {
            for (Specs.Chain c : config.chains()) {
                chains.put(c.name(), chain(c));
            }
            for (Specs.Service s : config.services()) {
                Service svc = service(s);
                services.add(svc);
                InetSocketAddress bound = svc.bind().get(10, TimeUnit.SECONDS);
                log.info("{}: {}+{} listening on {}{}{}", s.name(), s.handler(), s.transport(), bound,
                        s.tls() != null || s.peer() != null && s.peer().serverTls() != null ? " (TLS)" : "", s.chain() != null ? " via " + s.chain() : "");
                if (s.users().isEmpty() && isProxy(s.handler()) && !isLoopback(bound)) {
                    log.warn("{}: {} proxy without authentication listens on non-loopback address {}: anyone who "
                            + "can reach it can use it", s.name(), s.handler(), bound);
                }
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private Service service(Specs.Service s) {
        TransportProvider p = registry.provider(s.transport());
        Specs.Peer peer = s.peer();
        TlsServerOptions tls = peer != null ? peer.serverTls() : s.tls() == null ? null : serverTls(s);
        ListenerConfig lc = ListenerConfig.of(new InetSocketAddress(s.host().isEmpty() ? "0.0.0.0" : s.host(),
                s.port()), tls).withAcceptProxyProtocol(peer != null && peer.acceptProxyProtocol());
        TunnelListener listener = p.newListener(runtime, lc,
                peer != null ? peer.options() : p.parse(s.listenerParams()));
        Destination target = s.targets().isEmpty() ? null : Destination.parse(s.targets().get(0));
        if (s.targets().size() > 1) {
            throw new IllegalArgumentException(s.name() + ": several forward targets are not supported yet");
        }
        Handler handler = Protocols.handler(s.handler(), s.users(), target, s.handlerParams());
        Chain outbound;
        if (s.chain() == null) {
            outbound = Chain.direct(runtime);
        } else {
            outbound = chains.get(s.chain());
            if (outbound == null) {
                throw new IllegalArgumentException(s.name() + ": unknown chain '" + s.chain() + "'");
            }
        }
        return Service.of(s.name(), listener, handler, outbound, ServiceOptions.defaults());
    }

    private Chain chain(Specs.Chain c) {
        List<Hop> hops = new ArrayList<>();
        for (Specs.Node n : c.hops()) {
            TransportProvider p = registry.provider(n.transport());
            InetSocketAddress addr = InetSocketAddress.createUnresolved(n.host(), n.port());
            Specs.Peer peer = n.peer();
            DialerConfig dc = DialerConfig.of(addr, peer != null ? peer.clientTls()
                    : n.tls() == null ? null : clientTls(n));
            TunnelDialer dialer = p.newDialer(runtime, dc,
                    peer != null ? peer.options() : p.parse(n.dialerParams()));
            Connector connector = Protocols.connector(n.connector(), n.user(), n.password(), n.connectorParams());
            hops.add(new Hop(n.name(), Destination.of(n.host(), n.port()), dialer, connector));
        }
        return Chain.of(runtime, hops);
    }

    private TlsServerOptions serverTls(Specs.Service s) {
        TlsServerOptions o = serverCertificate(s);
        List<String> alpn = s.tls().alpn();
        return alpn.isEmpty() ? o : o.toBuilder().alpn(alpn).build();
    }

    /** The service's files, else the top-level tls files, else a certificate generated at start (gost's order). */
    private TlsServerOptions serverCertificate(Specs.Service s) {
        Specs.ServerTls t = s.tls();
        Specs.GlobalTls g = globalTls;
        boolean own = t.certFile() != null || t.keyFile() != null;
        if (t.caFile() != null || !own && g != null && g.caFile() != null) {
            throw new IllegalArgumentException(s.name() + ": client certificates (ca) are not supported yet");
        }
        if (own) {
            if (t.certFile() == null || t.keyFile() == null) {
                throw new IllegalArgumentException(s.name() + ": cert and key must be given together");
            }
            return TlsServerOptions.builder().pemFiles(Path.of(t.certFile()), Path.of(t.keyFile())).build();
        }
        if (g != null && g.certFile() != null) {
            log.info("{}: using the top-level tls certificate {}", s.name(), g.certFile());
            return TlsServerOptions.builder().pemFiles(Path.of(g.certFile()), Path.of(g.keyFile())).build();
        }
        if (generated == null) {
            generated = g == null ? selfSigned() : selfSigned(g.commonName(), g.organization(), g.validity());
        }
        log.info("{}: no cert/key given, using a self-signed certificate generated at start, as gost does",
                s.name());
        return generated;
    }

    private static TlsClientOptions clientTls(Specs.Node n) {
        Specs.ClientTls t = n.tls();
        TlsClientOptions.Builder b = TlsClientOptions.builder().insecure(!t.secure()).serverName(t.serverName());
        if (t.caFile() != null) {
            b.caFile(Path.of(t.caFile()));
        }
        if (t.certFile() != null || t.keyFile() != null) {
            b.clientCertificate(t.certFile() == null ? null : Path.of(t.certFile()),
                    t.keyFile() == null ? null : Path.of(t.keyFile()));
        }
        return b.build();
    }

    /** An ECDSA P-256 self-signed certificate for localhost/127.0.0.1/::1 (like gost's random gost.run one). */
    static TlsServerOptions selfSigned() {
        return selfSigned(null, null, null);
    }

    /**
     * The same with gost's top-level {@code commonName} (also a DNS name of the certificate), {@code organization}
     * and {@code validity}; {@code null} keeps the default ({@code tunnelwire}, one year).
     */
    static TlsServerOptions selfSigned(String commonName, String organization, java.time.Duration validity) {
        String cn = commonName == null || commonName.isBlank() ? "tunnelwire" : commonName;
        String org = organization == null || organization.isBlank() ? "tunnelwire" : organization;
        try {
            javax.security.auth.x500.X500Principal subject = new javax.security.auth.x500.X500Principal(
                    new javax.naming.ldap.LdapName(List.of(new javax.naming.ldap.Rdn("O", org),
                            new javax.naming.ldap.Rdn("CN", cn))).toString());
            java.time.Instant now = java.time.Instant.now();
            CertificateBuilder cb = new CertificateBuilder()
                    .subject(subject)
                    .notBefore(now.minusSeconds(60))
                    .notAfter(now.plus(validity == null ? java.time.Duration.ofDays(365) : validity))
                    .setIsCertificateAuthority(true);
            if (cn.matches("[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")) {
                cb.addSanDnsName(cn);
            }
            if (!cn.equals("localhost")) {
                cb.addSanDnsName("localhost");
            }
            X509Bundle b = cb
                    .addSanIpAddress("127.0.0.1")
                    .addSanIpAddress("::1")
                    .setKeyUsage(true, CertificateBuilder.KeyUsage.digitalSignature,
                            CertificateBuilder.KeyUsage.keyCertSign)
                    .addExtendedKeyUsageServerAuth()
                    .ecp256()
                    .buildSelfSigned();
            return TlsServerOptions.builder().keyAndChain(b.getKeyPair().getPrivate(), b.getCertificatePath())
                    .build();
        } catch (Exception e) {
            throw new IllegalStateException("cannot generate a self-signed certificate", e);
        }
    }

    private static boolean isProxy(String handler) {
        return switch (handler) {
            case "socks5", "socks", "http", "auto", "relay", "vless" -> true;
            default -> false;
        };
    }

    private static boolean isLoopback(InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        return ip != null && ip.isLoopbackAddress();
    }

    List<Service> services() {
        return services;
    }

    @Override
    public void close() {
        for (Service s : services) {
            try {
                s.close();
            } catch (RuntimeException e) {
                log.debug("closing {}", s.name(), e);
            }
        }
        for (Chain c : chains.values()) {
            c.close();
        }
        runtime.close();
    }
}

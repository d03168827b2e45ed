package dev.tunnelwire.internal;

import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsProvider;
import dev.tunnelwire.TlsServerOptions;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.FingerprintTrustManagerFactory;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds Netty {@link SslContext}s from the public TLS options: ALPN, provider choice, trust (CA file, in-memory
 * certificates, JDK default, pinned leaf fingerprints, or the explicit {@code insecure} switch) and server keys (PEM, keystore, in memory).
 * Hostname verification stays on for clients (Netty 4.2's default, HTTPS endpoint identification) unless
 * {@code insecure}.
 */
public final class TlsContexts {

    private TlsContexts() {
    }

    public static SslContext client(TlsClientOptions o) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider(o.provider()));
            if (o.insecure()) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            } else if (!o.pinnedSha256().isEmpty()) {
                // a pinned leaf replaces CA and hostname verification (Xray's pinnedPeerCertSha256)
                b.trustManager(FingerprintTrustManagerFactory.builder("SHA-256")
                        .fingerprints(o.pinnedSha256()).build()).endpointIdentificationAlgorithm(null);
            } else {
                List<X509Certificate> trusted = new ArrayList<>(o.trusted());
                if (o.caFile() != null) {
                    try (InputStream in = Files.newInputStream(o.caFile())) {
                        for (var c : java.security.cert.CertificateFactory.getInstance("X.509")
                                .generateCertificates(in)) {
                            trusted.add((X509Certificate) c);
                        }
                    }
                }
                if (!trusted.isEmpty()) {
                    b.trustManager(trusted.toArray(new X509Certificate[0]));
                }
                b.endpointIdentificationAlgorithm("HTTPS");
            }
            if (o.certFile() != null) {
                b.keyManager(o.certFile().toFile(), o.keyFile().toFile());
            }
            if (!o.alpn().isEmpty()) {
                b.applicationProtocolConfig(alpn(o.alpn()));
            }
            return b.build();
        } catch (Exception e) {
            throw new IllegalArgumentException("invalid client TLS options: " + e.getMessage(), e);
        }
    }

    public static SslContext server(TlsServerOptions o) {
        try {
            SslContextBuilder b;
            if (o.key() != null) {
                b = SslContextBuilder.forServer(o.key(), o.certChain().toArray(new X509Certificate[0]));
            } else if (o.keyFile() != null) {
                b = SslContextBuilder.forServer(o.certFile().toFile(), o.keyFile().toFile(), o.keyPassword());
            } else {
                char[] pw = o.keyStorePassword() == null ? new char[0] : o.keyStorePassword().toCharArray();
                KeyStore ks = KeyStore.getInstance(o.keyStoreFile().toString().endsWith(".jks") ? "JKS" : "PKCS12");
                try (InputStream in = Files.newInputStream(o.keyStoreFile())) {
                    ks.load(in, pw);
                }
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, pw);
                b = SslContextBuilder.forServer(kmf);
            }
            b.sslProvider(provider(o.provider()));
            if (!o.alpn().isEmpty()) {
                b.applicationProtocolConfig(alpn(o.alpn()));
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("invalid server TLS options: " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot load the server certificate: " + e.getMessage(), e);
        }
    }

    static SslProvider provider(TlsProvider p) {
        return switch (p) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalStateException("OpenSSL provider requested but unavailable",
                            OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case DEFAULT -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    private static ApplicationProtocolConfig alpn(List<String> protocols) {
        return new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, protocols);
    }
}

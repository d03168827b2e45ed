package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.TlsServerOptions;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * TLS for cases whose side under test speaks TLS (SCHEMA.md, options {@code listener.tls} / {@code dialer.tls}). The
 * engine wraps its plain loopback socket after connecting (server role: the engine is a TLS client that accepts any
 * certificate) or after accepting (client role: the engine is a TLS server with a self-signed certificate for
 * {@code localhost}, {@code 127.0.0.1} and {@code ::1}, which the client under test must be configured not to verify).
 * ALPN: {@code tls.alpn} is the list the engine offers (server role) or supports in preference order (client role);
 * {@code tls.selects} (server role) is the protocol the server must select. The wire log records the handshake; steps
 * then see the decrypted bytes.
 */
final class EngineTls {

    private static final char[] PASSWORD = "conformance".toCharArray();

    private static volatile X509Bundle bundle;

    private EngineTls() {
    }

    /** The TLS settings of the side under test, or {@code null} when the case is cleartext. */
    static JsonNode of(Fixture f) {
        JsonNode tls = f.options().path(f.role() == Fixture.Role.SERVER ? "listener" : "dialer").path("tls");
        return tls.isObject() ? tls : null;
    }

    /** The engine's self-signed certificate (generated once per JVM: ECDSA P-256). */
    static X509Bundle bundle() {
        X509Bundle b = bundle;
        if (b == null) {
            synchronized (EngineTls.class) {
                b = bundle;
                if (b == null) {
                    try {
                        b = new CertificateBuilder()
                                .subject("CN=tunnelwire-conformance")
                                .setIsCertificateAuthority(true)
                                .addSanDnsName("localhost")
                                .addSanIpAddress("127.0.0.1")
                                .addSanIpAddress("::1")
                                .setKeyUsage(true, CertificateBuilder.KeyUsage.digitalSignature,
                                        CertificateBuilder.KeyUsage.keyCertSign)
                                .addExtendedKeyUsageServerAuth()
                                .ecp256()
                                .buildSelfSigned();
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot generate the engine's certificate: " + e, e);
                    }
                    bundle = b;
                }
            }
        }
        return b;
    }

    /** TLS options of an in-process tunnelwire listener under test (the same self-signed certificate). */
    static TlsServerOptions implServer() {
        X509Bundle b = bundle();
        return TlsServerOptions.builder().keyAndChain(b.getKeyPair().getPrivate(), b.getCertificatePath()).build();
    }

    /** TLS options of an in-process tunnelwire dialer under test: no verification, the case's ALPN. */
    static TlsClientOptions implClient(JsonNode tls) {
        return TlsClientOptions.builder().insecure(true).alpn(alpn(tls)).build();
    }

    static List<String> alpn(JsonNode tls) {
        List<String> out = new ArrayList<>();
        tls.path("alpn").forEach(a -> out.add(a.asText()));
        return out;
    }

    /** Server role: the engine's TLS client handshake over {@code plain}; checks {@code tls.selects}. */
    static Socket client(Socket plain, JsonNode tls, int timeoutMs, WireLog log) throws IOException {
        SSLSocket s = (SSLSocket) trustAll().getSocketFactory().createSocket(plain,
                plain.getInetAddress().getHostAddress(), plain.getPort(), true);
        s.setUseClientMode(true);
        SSLParameters p = s.getSSLParameters();
        p.setApplicationProtocols(alpn(tls).toArray(String[]::new));
        s.setSSLParameters(p);
        handshake(s, timeoutMs, log, "engine (TLS client) offers ALPN " + alpn(tls));
        String want = tls.path("selects").asText("");
        if (!want.isEmpty() && !want.equals(s.getApplicationProtocol())) {
            s.close();
            throw new IOException("the server selected ALPN '" + s.getApplicationProtocol() + "', the case requires '"
                    + want + "'");
        }
        return s;
    }

    /**
     * Client role: the engine's TLS server handshake over an accepted {@code plain} socket; {@code null} when the
     * client closes the connection before sending a byte (a reachability probe, as gost's http2 dialer makes before
     * its real connection), which the engine notes and ignores.
     */
    static Socket server(Socket plain, JsonNode tls, int timeoutMs, WireLog log) throws IOException {
        int before = plain.getSoTimeout();
        plain.setSoTimeout(timeoutMs);
        int first;
        try {
            first = plain.getInputStream().read();
        } catch (java.net.SocketTimeoutException e) {
            plain.close();
            throw new IOException("the client sent no TLS ClientHello within " + timeoutMs + " ms");
        }
        plain.setSoTimeout(before);
        if (first < 0) {
            log.note("connection from " + plain.getRemoteSocketAddress() + " closed before sending a byte "
                    + "(a reachability probe): ignored");
            plain.close();
            return null;
        }
        SSLSocket s = (SSLSocket) serverContext().getSocketFactory().createSocket(plain,
                new java.io.ByteArrayInputStream(new byte[] {(byte) first}), true);
        s.setUseClientMode(false);
        List<String> supported = alpn(tls);
        s.setHandshakeApplicationProtocolSelector((sock, offered) -> {
            for (String a : supported) {
                if (offered.contains(a)) {
                    return a;
                }
            }
            return supported.isEmpty() ? "" : null;
        });
        handshake(s, timeoutMs, log, "engine (TLS server) supports ALPN " + supported);
        return s;
    }

    private static void handshake(SSLSocket s, int timeoutMs, WireLog log, String what) throws IOException {
        int before = s.getSoTimeout();
        s.setSoTimeout(timeoutMs);
        try {
            s.startHandshake();
        } catch (IOException e) {
            log.note(what + ": TLS handshake failed: " + e.getMessage());
            s.close();
            throw e;
        }
        s.setSoTimeout(before);
        log.note(what + ": TLS " + s.getSession().getProtocol() + " " + s.getSession().getCipherSuite()
                + ", ALPN '" + s.getApplicationProtocol() + "'");
    }

    private static SSLContext serverContext() throws IOException {
        try {
            X509Bundle b = bundle();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("engine", b.getKeyPair().getPrivate(), PASSWORD, b.getCertificatePath());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (Exception e) {
            throw new IOException("cannot set up the engine's TLS server", e);
        }
    }

    private static SSLContext trustAll() throws IOException {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    // the engine tests the protocol, not the certificate
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return ctx;
        } catch (Exception e) {
            throw new IOException("cannot set up the engine's TLS client", e);
        }
    }
}

package dev.tunnelwire.testkit;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;

import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * The test PKI: one CA and one server certificate issued by it for {@code localhost}, {@code 127.0.0.1} and
 * {@code ::1} (the Go peers require SANs). Built once per JVM with netty-pkitesting.
 */
public final class TestPki {

    private static final TestPki INSTANCE = build();

    private final X509Bundle ca;
    private final X509Bundle server;

    private TestPki(X509Bundle ca, X509Bundle server) {
        this.ca = ca;
        this.server = server;
    }

    public static TestPki get() {
        return INSTANCE;
    }

    private static TestPki build() {
        try {
            X509Bundle ca = new CertificateBuilder()
                    .subject("CN=tunnelwire test CA")
                    .setIsCertificateAuthority(true)
                    .setKeyUsage(true, CertificateBuilder.KeyUsage.keyCertSign, CertificateBuilder.KeyUsage.cRLSign)
                    .ecp256()
                    .buildSelfSigned();
            X509Bundle leaf = new CertificateBuilder()
                    .subject("CN=localhost")
                    .addSanDnsName("localhost")
                    .addSanIpAddress("127.0.0.1")
                    .addSanIpAddress("::1")
                    .setKeyUsage(true, CertificateBuilder.KeyUsage.digitalSignature,
                            CertificateBuilder.KeyUsage.keyEncipherment)
                    .addExtendedKeyUsageServerAuth()
                    .ecp256()
                    .buildIssuedBy(ca);
            return new TestPki(ca, leaf);
        } catch (Exception e) {
            throw new IllegalStateException("cannot build the test PKI", e);
        }
    }

    public X509Certificate caCertificate() {
        return ca.getCertificate();
    }

    public PrivateKey serverKey() {
        return server.getKeyPair().getPrivate();
    }

    /** The server certificate followed by the CA certificate. */
    public X509Certificate[] serverCertChain() {
        return server.getCertificatePath();
    }

    public TrustManagerFactory trustManagerFactory() {
        try {
            return ca.toTrustManagerFactory();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes {@code ca.pem}, {@code cert.pem} (server chain) and {@code key.pem} (PKCS#8) into {@code dir}, for the
     * Go peers and the CLI.
     */
    public void writePem(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM(), StandardCharsets.US_ASCII);
            Files.writeString(dir.resolve("cert.pem"), server.getCertificatePathPEM(), StandardCharsets.US_ASCII);
            Files.writeString(dir.resolve("key.pem"), server.getPrivateKeyPEM(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

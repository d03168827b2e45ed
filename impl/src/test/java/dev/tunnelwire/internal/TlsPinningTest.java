package dev.tunnelwire.internal;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.TlsClientOptions;
import dev.tunnelwire.testkit.TestPki;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link TlsClientOptions#pinnedSha256()}: a pinned leaf is accepted without CA or hostname verification (the test
 * PKI's CA is not trusted and the SNI name is not in the certificate), any other certificate is rejected.
 */
class TlsPinningTest {

    private static String leafPin() throws Exception {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(TestPki.get().serverCertChain()[0].getEncoded()));
    }

    @Test
    void pinsAreNormalisedAndValidated() throws Exception {
        TlsClientOptions o = TlsClientOptions.builder().pinnedSha256(List.of(leafPin())).build();
        assertEquals(List.of(leafPin().replace(":", "").toLowerCase()), o.pinnedSha256());
        assertThrows(IllegalArgumentException.class,
                () -> TlsClientOptions.builder().pinnedSha256(List.of("abcd")).build());
        assertThrows(IllegalArgumentException.class, () -> TlsClientOptions.builder().insecure(true)
                .pinnedSha256(List.of(leafPin())).build());
        assertEquals(List.of(), TlsClientOptions.builder().build().pinnedSha256());
    }

    @Test
    void pinnedLeafIsAcceptedWithoutCaOrHostname() throws Exception {
        SslContext client = TlsContexts.client(TlsClientOptions.builder().pinnedSha256(List.of(leafPin())).build());
        handshake(client.newEngine(ByteBufAllocator.DEFAULT, "not-in-the-certificate.example", 443));
    }

    @Test
    void otherCertificateIsRejected() {
        SslContext client = TlsContexts.client(TlsClientOptions.builder().serverName("localhost")
                .pinnedSha256(List.of("00".repeat(32))).build());
        assertThrows(SSLException.class, () -> handshake(client.newEngine(ByteBufAllocator.DEFAULT, "localhost", 443)));
    }

    /** Runs a TLS handshake in memory against a server with the test PKI's certificate. */
    private static void handshake(SSLEngine c) throws Exception {
        SSLEngine s = TlsContexts.server(ApiHarness.serverTls()).newEngine(ByteBufAllocator.DEFAULT);
        ByteBuffer empty = ByteBuffer.allocate(0);
        ByteBuffer c2s = ByteBuffer.allocate(1 << 17);
        ByteBuffer s2c = ByteBuffer.allocate(1 << 17);
        ByteBuffer app = ByteBuffer.allocate(1 << 17);
        c.beginHandshake();
        s.beginHandshake();
        for (int i = 0; i < 200 && !(done(c) && done(s)); i++) {
            c.wrap(empty, c2s);
            tasks(c);
            s.wrap(empty, s2c);
            tasks(s);
            c2s.flip();
            s.unwrap(c2s, app);
            c2s.compact();
            tasks(s);
            s2c.flip();
            c.unwrap(s2c, app);
            s2c.compact();
            tasks(c);
            app.clear();
        }
        assertEquals(true, done(c) && done(s), "handshake did not finish");
    }

    private static boolean done(SSLEngine e) {
        HandshakeStatus h = e.getHandshakeStatus();
        return h == HandshakeStatus.NOT_HANDSHAKING || h == HandshakeStatus.FINISHED;
    }

    private static void tasks(SSLEngine e) {
        Runnable r;
        while ((r = e.getDelegatedTask()) != null) {
            r.run();
        }
    }
}

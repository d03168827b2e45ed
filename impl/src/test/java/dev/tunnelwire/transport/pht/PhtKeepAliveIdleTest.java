package dev.tunnelwire.transport.pht;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pht keep-alive connection that goes quiet after a request is closed by the keep-alive idle limit (issue #17:
 * no idle connection is held for good); one that sends nothing at all is closed by the handshake timeout.
 */
class PhtKeepAliveIdleTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(1);
    private PhtListener listener;

    @AfterEach
    void tearDown() {
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    @Test
    void anIdleKeepAliveConnectionIsClosed() throws Exception {
        listener = new PhtListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)),
                PhtOptions.defaults(), 1500);
        InetSocketAddress addr = listener.bind((ch, info) -> ch.close()).sync().getNow();
        try (Socket s = new Socket(addr.getAddress(), addr.getPort())) {
            s.setSoTimeout(10_000);
            // a complete request that keeps the connection alive (HTTP/1.1), answered 404, then silence
            s.getOutputStream().write("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            StringBuilder got = new StringBuilder();
            long t0 = System.nanoTime();
            int c;
            while ((c = in.read()) >= 0) {
                got.append((char) c);
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            assertTrue(got.toString().startsWith("HTTP/1.1 404"), got.toString());
            assertTrue(secs > 1 && secs < 5, "the idle keep-alive connection was closed after " + secs + " s, not by the 1.5 s idle limit");
        }
    }
}

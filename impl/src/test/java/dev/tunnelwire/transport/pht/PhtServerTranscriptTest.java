package dev.tunnelwire.transport.pht;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The PHT server's answers, byte for byte where gost v3.2.6 fixes them (peer-gost.md section 5.2). */
class PhtServerTranscriptTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(1);
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    private final List<Channel> tunnels = new ArrayList<>();
    private final StringBuilder delivered = new StringBuilder();
    private PhtListener listener;

    @AfterEach
    void tearDown() {
        for (Channel t : tunnels) {
            t.close();
        }
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
        runtime.close();
    }

    private EmbeddedChannel connection(PhtOptions options) {
        if (listener == null) {
            listener = new PhtListener(runtime, ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), options);
        }
        EmbeddedChannel ch = new EmbeddedChannel();
        listener.serve(ch, (t, info) -> {
            tunnels.add(t);
            t.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf b = (ByteBuf) msg;
                    delivered.append(b.toString(StandardCharsets.ISO_8859_1));
                    b.release();
                }
            });
        });
        channels.add(ch);
        return ch;
    }

    private static String exchange(EmbeddedChannel ch, String request) {
        ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
        ch.runPendingTasks();
        return drain(ch);
    }

    private static String drain(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sb.toString();
    }

    private String authorize(EmbeddedChannel ch) {
        String r = exchange(ch, "GET /authorize HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: Go-http-client/1.1\r\n"
                + "Accept-Encoding: gzip\r\n\r\n");
        Matcher m = Pattern.compile("token=([0-9a-v]{20})$").matcher(r);
        assertTrue(m.find(), r);
        return m.group(1);
    }

    @Test
    void authorizeAnswersTokenAsPlainText() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String r = exchange(ch, "GET /authorize HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
        assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n"), r);
        assertTrue(r.contains("content-type: text/plain; charset=utf-8\r\n"), r);
        assertTrue(r.contains("content-length: 26\r\n"), r);
        assertTrue(r.matches("(?s).*\r\n\r\ntoken=[0-9a-v]{20}"), "body is exactly token=<xid>: " + r);
        assertEquals(1, tunnels.size(), "authorize creates the session's tunnel");
    }

    @Test
    void unknownPathIsGoNotFound() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String r = exchange(ch, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(r.startsWith("HTTP/1.1 404 Not Found\r\n"), r);
        assertTrue(r.endsWith("\r\n\r\n404 page not found\n"), r);
    }

    @Test
    void wrongMethodsAre400() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        assertTrue(exchange(ch, "POST /pull?token=" + token + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .startsWith("HTTP/1.1 400 Bad Request\r\n"));
        assertTrue(exchange(ch, "GET /push?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n")
                .startsWith("HTTP/1.1 400 Bad Request\r\n"));
    }

    @Test
    void implausibleTokenIs403() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        assertTrue(exchange(ch, "GET /pull?token=%21%21 HTTP/1.1\r\nHost: x\r\n\r\n")
                .startsWith("HTTP/1.1 403 Forbidden\r\n"));
        assertTrue(exchange(ch, "POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .startsWith("HTTP/1.1 403 Forbidden\r\n"));
    }

    @Test
    void pushDeliversTheDecodedLineAndAnswers200() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        String r = exchange(ch, "POST /push?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                + "User-Agent: Go-http-client/1.1\r\nContent-Length: 9\r\nAccept-Encoding: gzip\r\n\r\naGVsbG8=\n");
        assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n"), r);
        assertTrue(r.contains("content-length: 0\r\n"), r);
        assertEquals("hello", delivered.toString());
    }

    @Test
    void aPlausibleTokenTheServerNeverIssuedCreatesTheSessionLazily() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String r = exchange(ch, "POST /push?token=d1b9cq3b7d8r8h0ljfeg HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                + "aGk=\n");
        assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n"), r);
        assertEquals("hi", delivered.toString());
        assertEquals(1, tunnels.size());
    }

    @Test
    void pullStreamsOneBase64LinePerChunk() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        String head = exchange(ch, "GET /pull?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
        assertTrue(head.contains("transfer-encoding: chunked\r\n"), head);
        assertFalse(head.toLowerCase().contains("content-type"), "no Content-Type, like Go's first flush: " + head);
        tunnels.get(0).writeAndFlush(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        ch.runPendingTasks();
        assertEquals("9\r\naGVsbG8=\n\r\n", drain(ch));
    }

    @Test
    void idlePullEndsWithAHeartbeatLine() throws Exception {
        EmbeddedChannel ch = connection(PhtOptions.builder().pullIdle(Duration.ofMillis(100))
                .sessionIdleTimeout(Duration.ofSeconds(5)).build());
        String token = authorize(ch);
        exchange(ch, "GET /pull?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
        Thread.sleep(250);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
        assertEquals("1\r\n\n\r\n0\r\n\r\n", drain(ch), "a single \"\\n\" line, then the end of the response");
    }

    @Test
    void closingTheTunnelEndsThePullWithNoLine() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        exchange(ch, "GET /pull?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
        tunnels.get(0).close();
        ch.runPendingTasks();
        assertEquals("0\r\n\r\n", drain(ch), "zero lines = the tunnel closed");
        // A later pull for the closed session says the same; a push is 410 Gone.
        String again = exchange(ch, "GET /pull?token=" + token + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(again.startsWith("HTTP/1.1 200 OK\r\n") && again.endsWith("\r\n\r\n0\r\n\r\n"), again);
        assertTrue(exchange(ch, "POST /push?token=" + token + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                + "aGk=\n").startsWith("HTTP/1.1 410 Gone\r\n"));
    }

    @Test
    void emptyPushClosesTheTunnel() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        String r = exchange(ch, "POST /push?token=" + token + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n"), r);
        ch.runPendingTasks();
        assertFalse(tunnels.get(0).isOpen());
    }

    @Test
    void badBase64Is400AndDropsTheSession() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        String r = exchange(ch, "POST /push?token=" + token + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
                + "a*b!\n");
        assertTrue(r.startsWith("HTTP/1.1 400 Bad Request\r\n"), r);
        assertFalse(tunnels.get(0).isOpen());
    }

    @Test
    void emptyLinePushIsANoOp() {
        EmbeddedChannel ch = connection(PhtOptions.defaults());
        String token = authorize(ch);
        String r = exchange(ch, "POST /push?token=" + token + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n\n");
        assertTrue(r.startsWith("HTTP/1.1 200 OK\r\n"), r);
        assertTrue(tunnels.get(0).isOpen());
        assertEquals("", delivered.toString());
    }

    @Test
    void idleSessionsExpire() throws Exception {
        EmbeddedChannel ch = connection(PhtOptions.builder().pullIdle(Duration.ofMillis(50))
                .sessionIdleTimeout(Duration.ofMillis(200)).build());
        authorize(ch);
        Thread.sleep(500);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
        assertFalse(tunnels.get(0).isOpen(), "a v3.2.6 client never says goodbye; the server expires the session");
    }

    @Test
    void optionsGuardTheGostClientLineLimit() {
        PhtOptions.builder().maxChunk(PhtOptions.MAX_CHUNK_LIMIT).build();
        // base64 of 49 149 bytes is 65 532 characters + "\n" = within bufio.Scanner's 64 KiB.
        assertTrue(4 * ((PhtOptions.MAX_CHUNK_LIMIT + 2) / 3) + 1 <= PhtProtocol.MAX_LINE);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> PhtOptions.builder().maxChunk(PhtOptions.MAX_CHUNK_LIMIT + 1).build());
        assertEquals("/authorize", PhtOptions.builder().authorizePath("noslash").build().authorizePath(),
                "gost falls back to the default when a path does not start with /");
    }
}

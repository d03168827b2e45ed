package dev.tunnelwire.proxy.socks5;

import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.FakeOutbound;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static dev.tunnelwire.proxy.FakeOutbound.drainInbound;
import static dev.tunnelwire.proxy.FakeOutbound.drainOutbound;
import static dev.tunnelwire.proxy.FakeOutbound.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SOCKS5 replies (RFC 1928/1929, gost's success reply of peer-gost.md §9.4). */
class Socks5CodecTest {

    static final String CONNECT_V4 = "05 01 00 01 7f 00 00 01 23 28";

    private static String step(EmbeddedChannel in, String hexIn) {
        in.writeInbound(Unpooled.wrappedBuffer(hex(hexIn)));
        in.runPendingTasks();
        return ByteBufUtil.hexDump(drainOutbound(in));
    }

    @Test
    void noAuthConnectRepliesLikeGostAndKeepsPipelinedData() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new Socks5Handler(Socks5HandlerOptions.defaults()).init(in, FakeOutbound.context(out));
        assertEquals("0500", step(in, "05 02 00 80"));
        assertEquals("05000001000000000000", step(in, CONNECT_V4 + "41 42"));
        assertEquals(Destination.of("127.0.0.1", 9000), out.destination);
        assertEquals("AB", new String(drainOutbound(out.channel), StandardCharsets.US_ASCII));
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void passwordAuthAndDomainAndIpv6() {
        for (String[] c : new String[][] {
            {"05 01 00 03 0b 6578616d706c652e636f6d 01bb", "example.com:443"},
            {"05 01 00 04 00000000000000000000000000000001 0016", "[::1]:22"}}) {
            FakeOutbound out = new FakeOutbound();
            EmbeddedChannel in = new EmbeddedChannel();
            new Socks5Handler(new Socks5HandlerOptions(Authenticator.user("u", "p"))).init(in,
                    FakeOutbound.context(out));
            assertEquals("0502", step(in, "05 02 00 02"));
            assertEquals("0100", step(in, "01 01 75 01 70"));
            assertEquals("05000001000000000000", step(in, c[0]));
            assertEquals(Destination.parse(c[1]), out.destination);
            in.finishAndReleaseAll();
            out.channel.finishAndReleaseAll();
        }
    }

    @Test
    void badPasswordGetsFailureAndClose() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new Socks5Handler(new Socks5HandlerOptions(Authenticator.user("u", "p"))).init(in,
                FakeOutbound.context(out));
        assertEquals("0502", step(in, "05 01 02"));
        assertEquals("0101", step(in, "01 01 75 01 71"));
        assertFalse(in.isActive());
        assertEquals(0, out.connects);
        in.finishAndReleaseAll();
    }

    @Test
    void noAcceptableMethodGetsFF() {
        EmbeddedChannel in = new EmbeddedChannel();
        new Socks5Handler(new Socks5HandlerOptions(Authenticator.user("u", "p"))).init(in,
                FakeOutbound.context(new FakeOutbound()));
        assertEquals("05ff", step(in, "05 01 00"));
        assertFalse(in.isActive());
        in.finishAndReleaseAll();
    }

    @Test
    void udpAssociateAndBindAreNotSupported() {
        for (String cmd : new String[] {"05 03 00 01 00000000 0000", "05 02 00 01 00000000 0000"}) {
            EmbeddedChannel in = new EmbeddedChannel();
            new Socks5Handler(Socks5HandlerOptions.defaults()).init(in, FakeOutbound.context(new FakeOutbound()));
            assertEquals("0500", step(in, "05 01 00"));
            assertEquals("05070001000000000000", step(in, cmd));
            assertFalse(in.isActive());
            in.finishAndReleaseAll();
        }
    }

    @Test
    void connectFailuresMapToReplyCodes() {
        Object[][] cases = {
            {new java.net.ConnectException("Connection refused"), "05050001000000000000"},
            {new java.net.UnknownHostException("nowhere"), "05040001000000000000"},
            {new java.io.IOException("No route"), "05030001000000000000"},
        };
        for (Object[] c : cases) {
            FakeOutbound out = new FakeOutbound();
            out.failure = (Throwable) c[0];
            EmbeddedChannel in = new EmbeddedChannel();
            new Socks5Handler(Socks5HandlerOptions.defaults()).init(in, FakeOutbound.context(out));
            step(in, "05 01 00");
            assertEquals(c[1], step(in, CONNECT_V4));
            assertFalse(in.isActive());
            in.finishAndReleaseAll();
        }
    }

    @Test
    void connectorRunsTheHandshakeAndKeepsDataAfterTheReply() {
        var hs = new Socks5Connector(new Socks5ConnectorOptions("u", "p"))
                .handshake(Destination.of("example.com", 443), Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII),
                        ByteBufAllocator.DEFAULT);
        var first = hs.firstBytes();
        assertEquals("050102", ByteBufUtil.hexDump(first));
        first.release();
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        ch.writeInbound(Unpooled.wrappedBuffer(hex("05 02")));
        assertEquals("0101750170", ByteBufUtil.hexDump(drainOutbound(ch)));
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 00")));
        assertEquals("050100030b6578616d706c652e636f6d01bb", ByteBufUtil.hexDump(drainOutbound(ch)));
        assertFalse(ready.isDone());
        ch.writeInbound(Unpooled.wrappedBuffer(hex("05 00 00 01 00000000 0000 53 53 48")));
        assertTrue(ready.isSuccess());
        assertEquals("hi", new String(drainOutbound(ch), StandardCharsets.US_ASCII));
        assertEquals("SSH", new String(drainInbound(ch), StandardCharsets.US_ASCII));
        ch.finishAndReleaseAll();
    }

    @Test
    void connectorReportsAuthFailureAndRefusal() {
        var hs = new Socks5Connector(new Socks5ConnectorOptions("u", "x"))
                .handshake(Destination.of("127.0.0.1", 1), null, ByteBufAllocator.DEFAULT);
        hs.firstBytes().release();
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        ch.writeInbound(Unpooled.wrappedBuffer(hex("05 02")));
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 01")));
        assertInstanceOf(ProxyException.class, ready.cause());
        assertEquals(1, ((ProxyException) ready.cause()).code());
        ch.finishAndReleaseAll();

        var hs2 = new Socks5Connector(Socks5ConnectorOptions.defaults())
                .handshake(Destination.of("127.0.0.1", 1), null, ByteBufAllocator.DEFAULT);
        hs2.firstBytes().release();
        EmbeddedChannel ch2 = new EmbeddedChannel();
        Promise<Void> ready2 = ImmediateEventExecutor.INSTANCE.newPromise();
        hs2.install(ch2, ready2);
        ch2.writeInbound(Unpooled.wrappedBuffer(hex("05 00")));
        ch2.writeInbound(Unpooled.wrappedBuffer(hex("05 05 00 01 00000000 0000")));
        assertEquals(5, ((ProxyException) ready2.cause()).code());
        ch2.finishAndReleaseAll();
    }
}

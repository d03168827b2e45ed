package dev.tunnelwire.proxy.relay;

import dev.tunnelwire.proxy.Authenticator;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.FakeOutbound;
import dev.tunnelwire.proxy.ProxyException;
import io.netty.buffer.ByteBuf;
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
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The byte examples of peer-gost.md §9.2/§9.3. */
class RelayCodecTest {

    static final String CONNECT_NO_AUTH = "01 01 00 0A | 02 00 07 01 7F 00 00 01 23 28";
    static final String CONNECT_AUTH =
            "01 01 00 19 | 01 00 04 01 75 01 70 | 02 00 0F 03 0B 65 78 61 6D 70 6C 65 2E 63 6F 6D 01 BB";

    private static String hexOf(ByteBuf b) {
        try {
            return ByteBufUtil.hexDump(b);
        } finally {
            b.release();
        }
    }

    @Test
    void connectorWritesGostBytes() {
        ByteBuf a = new RelayConnector(RelayConnectorOptions.defaults())
                .handshake(Destination.of("127.0.0.1", 9000), null, ByteBufAllocator.DEFAULT).firstBytes();
        assertEquals(ByteBufUtil.hexDump(hex(CONNECT_NO_AUTH)), hexOf(a));
        ByteBuf b = new RelayConnector(RelayConnectorOptions.builder().user("u").password("p").build())
                .handshake(Destination.of("example.com", 443), Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII),
                        ByteBufAllocator.DEFAULT).firstBytes();
        assertEquals(ByteBufUtil.hexDump(hex(CONNECT_AUTH + "78")), hexOf(b), "request and first data together");
    }

    @Test
    void connectorWithNodelayHoldsDataUntilOk() {
        var hs = new RelayConnector(RelayConnectorOptions.builder().nodelay(true).build())
                .handshake(Destination.of("127.0.0.1", 9000), Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII),
                        ByteBufAllocator.DEFAULT);
        assertEquals(ByteBufUtil.hexDump(hex(CONNECT_NO_AUTH)), hexOf(hs.firstBytes()));
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        assertFalse(ready.isDone());
        assertArrayEquals(new byte[0], drainOutbound(ch));
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 00 00 00 41")));
        assertTrue(ready.isSuccess());
        assertEquals("x", new String(drainOutbound(ch), StandardCharsets.US_ASCII));
        assertEquals("A", new String(drainInbound(ch), StandardCharsets.US_ASCII));
        ch.finishAndReleaseAll();
    }

    @Test
    void connectorKeepsDataGluedToTheDelayedOk() {
        var hs = new RelayConnector(RelayConnectorOptions.defaults())
                .handshake(Destination.of("127.0.0.1", 9000), null, ByteBufAllocator.DEFAULT);
        hs.firstBytes().release();
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        assertTrue(ready.isSuccess(), "ready without waiting for the response");
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 00")));
        ch.writeInbound(Unpooled.wrappedBuffer(hex("00 00 53 53 48")));
        assertEquals("SSH", new String(drainInbound(ch), StandardCharsets.US_ASCII));
        ch.finishAndReleaseAll();
    }

    @Test
    void connectorFailsOnErrorStatus() {
        var hs = new RelayConnector(RelayConnectorOptions.builder().nodelay(true).build())
                .handshake(Destination.of("127.0.0.1", 9000), null, ByteBufAllocator.DEFAULT);
        hs.firstBytes().release();
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        hs.install(ch, ready);
        ch.writeInbound(Unpooled.wrappedBuffer(hex("01 02 00 00")));
        assertInstanceOf(ProxyException.class, ready.cause());
        assertEquals(2, ((ProxyException) ready.cause()).code());
        assertFalse(ch.isActive());
        ch.finishAndReleaseAll();
    }

    @Test
    void handlerConnectsAndDelaysOkUntilFirstDownstreamBytes() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new RelayHandler(RelayHandlerOptions.defaults()).init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(CONNECT_NO_AUTH + "68 69")));
        in.runPendingTasks();
        assertEquals(Destination.of("127.0.0.1", 9000), out.destination);
        assertEquals("hi", new String(out.firstPayload, StandardCharsets.US_ASCII));
        assertArrayEquals(new byte[0], drainOutbound(in));
        out.channel.writeInbound(Unpooled.copiedBuffer("yo", StandardCharsets.US_ASCII));
        assertEquals("01000000796f", ByteBufUtil.hexDump(drainOutbound(in)));
        drainOutbound(out.channel);
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void handlerWithNodelayAndAuthAnswersAtOnce() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new RelayHandler(RelayHandlerOptions.builder().nodelay(true).authenticator(Authenticator.user("u", "p"))
                .build()).init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(CONNECT_AUTH)));
        in.runPendingTasks();
        assertEquals(Destination.of("example.com", 443), out.destination);
        assertEquals("01000000", ByteBufUtil.hexDump(drainOutbound(in)));
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void badOrMissingCredentialsGetUnauthorized() {
        for (String req : new String[] {CONNECT_NO_AUTH,
                "01 01 00 19 | 01 00 04 01 75 01 71 | 02 00 0F 03 0B 65 78 61 6D 70 6C 65 2E 63 6F 6D 01 BB"}) {
            FakeOutbound out = new FakeOutbound();
            EmbeddedChannel in = new EmbeddedChannel();
            new RelayHandler(RelayHandlerOptions.builder().authenticator(Authenticator.user("u", "p")).build())
                    .init(in, FakeOutbound.context(out));
            in.writeInbound(Unpooled.wrappedBuffer(hex(req)));
            in.runPendingTasks();
            assertEquals("01020000", ByteBufUtil.hexDump(drainOutbound(in)));
            assertFalse(in.isActive());
            assertEquals(0, out.connects);
            in.finishAndReleaseAll();
        }
    }

    @Test
    void unreachableIsNetworkUnreachableAndUnsupportedCommandsAreRefused() {
        FakeOutbound out = new FakeOutbound();
        out.failure = FakeOutbound.REFUSED;
        EmbeddedChannel in = new EmbeddedChannel();
        new RelayHandler(RelayHandlerOptions.defaults()).init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(CONNECT_NO_AUTH)));
        in.runPendingTasks();
        assertEquals("01070000", ByteBufUtil.hexDump(drainOutbound(in)));
        assertFalse(in.isActive());
        in.finishAndReleaseAll();

        String[][] cases = {
            {"01 02 00 0A 02 00 07 01 7F 00 00 01 23 28", "01030000"},        // BIND: forbidden
            {"01 81 00 0F 04 00 02 00 01 02 00 07 01 7F 00 00 01 23 28", "01010000"}, // UDP: bad request
            {"01 01 00 00", "01010000"},                                      // no address
        };
        for (String[] c : cases) {
            FakeOutbound o = new FakeOutbound();
            EmbeddedChannel ch = new EmbeddedChannel();
            new RelayHandler(RelayHandlerOptions.defaults()).init(ch, FakeOutbound.context(o));
            ch.writeInbound(Unpooled.wrappedBuffer(hex(c[0])));
            ch.runPendingTasks();
            assertEquals(c[1], ByteBufUtil.hexDump(drainOutbound(ch)), c[0]);
            assertEquals(0, o.connects);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void forwardModeIgnoresAddr() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new RelayHandler(RelayHandlerOptions.builder().target(Destination.of("10.0.0.1", 22)).build())
                .init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(CONNECT_NO_AUTH)));
        in.runPendingTasks();
        assertEquals(Destination.of("10.0.0.1", 22), out.destination);
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }
}

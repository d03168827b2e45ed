package dev.tunnelwire.proxy.vless;

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
import java.util.UUID;

import static dev.tunnelwire.proxy.FakeOutbound.drainInbound;
import static dev.tunnelwire.proxy.FakeOutbound.drainOutbound;
import static dev.tunnelwire.proxy.FakeOutbound.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The byte examples of peer-singbox.md §6 and peer-xray.md §7.1, both directions. */
class VlessCodecTest {

    static final String ID = "b831381d-6324-4d53-ad4f-8cda48b30811";
    static final String IPV4_REQUEST = "00 b831381d63244d53ad4f8cda48b30811 00 01 0050 01 7f000001";
    static final String DOMAIN_REQUEST = "00 b831381d63244d53ad4f8cda48b30811 00 01 01bb 02 0b 6578616d706c652e636f6d";

    @Test
    void nonUuidIdsMapToUuidV5InTheNilNamespace() {
        // Xray's documented example; also what Python's uuid.uuid5(UUID(int=0), name) gives
        assertEquals(UUID.fromString("5783a3e7-e373-51cd-8642-c83782b807c5"), Vless.userId("我爱🍉老师1314"));
        assertEquals(UUID.fromString("230cd832-0b88-595f-b86c-7203b134b41b"), Vless.userId("tunnelwire"));
        assertEquals(UUID.fromString(ID), Vless.userId(ID));
    }

    @Test
    void connectorWritesTheSpecBytesWithThePayload() {
        Destination dst = Destination.of("127.0.0.1", 80);
        ByteBuf first = new VlessConnector(ID).handshake(dst, Unpooled.copiedBuffer("GET", StandardCharsets.US_ASCII),
                ByteBufAllocator.DEFAULT).firstBytes();
        try {
            assertEquals(ByteBufUtil.hexDump(hex(IPV4_REQUEST + "474554")), ByteBufUtil.hexDump(first));
        } finally {
            first.release();
        }
        ByteBuf domain = new VlessConnector(ID).handshake(Destination.of("example.com", 443), null,
                ByteBufAllocator.DEFAULT).firstBytes();
        try {
            assertEquals(ByteBufUtil.hexDump(hex(DOMAIN_REQUEST)), ByteBufUtil.hexDump(domain));
        } finally {
            domain.release();
        }
        // Xray's example: TCP to 127.0.0.1:9000, 26 bytes
        ByteBuf xray = new VlessConnector("27848739-7e62-4138-9fd3-098a63964b6b").handshake(
                Destination.of("127.0.0.1", 9000), null, ByteBufAllocator.DEFAULT).firstBytes();
        try {
            assertEquals("00278487397e6241389fd3098a63964b6b00012328017f000001", ByteBufUtil.hexDump(xray));
        } finally {
            xray.release();
        }
    }

    @Test
    void handlerReadsIpv4RequestAndPrependsResponseToFirstDownstreamBytes() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new VlessHandler(VlessHandlerOptions.of("other-user", ID)).init(in, FakeOutbound.context(out));
        byte[] req = hex(IPV4_REQUEST + "68656c6c6f");
        // split in two reads in the middle of the UUID
        in.writeInbound(Unpooled.wrappedBuffer(req, 0, 7));
        in.writeInbound(Unpooled.wrappedBuffer(req, 7, req.length - 7));
        in.runPendingTasks();
        assertEquals(Destination.of("127.0.0.1", 80), out.destination);
        assertEquals("hello", new String(out.firstPayload, StandardCharsets.US_ASCII));
        assertArrayEquals(new byte[0], drainOutbound(in), "no response before downstream data");
        out.channel.writeInbound(Unpooled.copiedBuffer("HTTP", StandardCharsets.US_ASCII));
        assertEquals("0000" + ByteBufUtil.hexDump("HTTP".getBytes()), ByteBufUtil.hexDump(drainOutbound(in)));
        out.channel.writeInbound(Unpooled.copiedBuffer("/1.1", StandardCharsets.US_ASCII));
        assertEquals("/1.1", new String(drainOutbound(in), StandardCharsets.US_ASCII));
        drainOutbound(out.channel);
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void handlerReadsDomainRequest() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new VlessHandler(VlessHandlerOptions.of(ID)).init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(DOMAIN_REQUEST)));
        in.runPendingTasks();
        assertEquals(Destination.of("example.com", 443), out.destination);
        assertNull(out.firstPayload);
        in.finishAndReleaseAll();
        out.channel.finishAndReleaseAll();
    }

    @Test
    void unknownUserIsClosedWithoutReply() {
        FakeOutbound out = new FakeOutbound();
        EmbeddedChannel in = new EmbeddedChannel();
        new VlessHandler(VlessHandlerOptions.of("someone-else")).init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(IPV4_REQUEST + "00")));
        in.runPendingTasks();
        assertFalse(in.isActive());
        assertEquals(0, out.connects);
        assertArrayEquals(new byte[0], drainOutbound(in));
        in.finishAndReleaseAll();
    }

    @Test
    void unreachableDestinationClosesWithoutReply() {
        FakeOutbound out = new FakeOutbound();
        out.failure = FakeOutbound.REFUSED;
        EmbeddedChannel in = new EmbeddedChannel();
        new VlessHandler(VlessHandlerOptions.of(ID)).init(in, FakeOutbound.context(out));
        in.writeInbound(Unpooled.wrappedBuffer(hex(IPV4_REQUEST + "0102")));
        in.runPendingTasks();
        assertFalse(in.isActive());
        assertArrayEquals(new byte[0], drainOutbound(in));
        in.finishAndReleaseAll();
    }

    @Test
    void connectorStripsResponseAndKeepsTheDataOfTheSameRead() {
        EmbeddedChannel ch = new EmbeddedChannel();
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        var hs = new VlessConnector(ID).handshake(Destination.of("127.0.0.1", 80), null, ByteBufAllocator.DEFAULT);
        hs.firstBytes().release();
        hs.install(ch, ready);
        assertTrue(ready.isSuccess());
        ch.writeInbound(Unpooled.wrappedBuffer(hex("00")));
        ch.writeInbound(Unpooled.wrappedBuffer(hex("00 41 42")));
        ch.writeInbound(Unpooled.wrappedBuffer(hex("43")));
        assertEquals("ABC", new String(drainInbound(ch), StandardCharsets.US_ASCII));
        ch.finishAndReleaseAll();
    }

    @Test
    void connectorRejectsBadResponseVersion() {
        EmbeddedChannel ch = new EmbeddedChannel();
        var hs = new VlessConnector(ID).handshake(Destination.of("127.0.0.1", 80), null, ByteBufAllocator.DEFAULT);
        hs.firstBytes().release();
        hs.install(ch, ImmediateEventExecutor.INSTANCE.newPromise());
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> {
            ch.writeInbound(Unpooled.wrappedBuffer(hex("01 00 41")));
            ch.checkException();
        });
        assertInstanceOf(ProxyException.class, e.getCause());
        assertFalse(ch.isActive());
        ch.finishAndReleaseAll();
    }
}

package dev.tunnelwire.transport.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gun message codec on EmbeddedChannel, with the byte examples of the peer specs. */
class GunFrameCodecTest {

    private EmbeddedChannel ch;

    @AfterEach
    void tearDown() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    private static ByteBuf hex(String s) {
        return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(s.replace(" ", "")));
    }

    private static String ascii(ByteBuf b) {
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
        }
    }

    private static String hexOf(ByteBuf b) {
        try {
            return ByteBufUtil.hexDump(b);
        } finally {
            b.release();
        }
    }

    private EmbeddedChannel encoder(int max) {
        ch = new EmbeddedChannel(new GunFrameEncoder(max));
        return ch;
    }

    private EmbeddedChannel decoder(GrpcProtocol.MessageKind kind) {
        ch = new EmbeddedChannel(new GunFrameDecoder(kind, 4 * 1024 * 1024));
        return ch;
    }

    @Test
    void encodesHunkHello() {
        encoder(32768).writeOutbound(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        assertEquals("00000000070a0568656c6c6f", hexOf(ch.readOutbound()));
        assertNull(ch.readOutbound());
    }

    @Test
    void encodes200And300ByteChunksWithTwoByteVarint() {
        byte[] p200 = new byte[200];
        byte[] p300 = new byte[300];
        for (int i = 0; i < 300; i++) {
            p300[i] = (byte) i;
        }
        encoder(32768).writeOutbound(Unpooled.wrappedBuffer(p200), Unpooled.wrappedBuffer(p300));
        String m200 = hexOf(ch.readOutbound());
        assertTrue(m200.startsWith("00000000cb0ac801"), m200);
        assertEquals((8 + 200) * 2, m200.length());
        String m300 = hexOf(ch.readOutbound());
        assertEquals("000000012f0aac02" + ByteBufUtil.hexDump(p300), m300);
    }

    @Test
    void encodesLargePayloadAsCompositeWithoutChangingBytes() {
        byte[] data = new byte[5000];
        new java.util.Random(1).nextBytes(data);
        encoder(32768).writeOutbound(Unpooled.wrappedBuffer(data));
        ByteBuf m = ch.readOutbound();
        byte[] expectedHeader = ByteBufUtil.decodeHexDump("000000138b0a8827");
        byte[] actual = ByteBufUtil.getBytes(m);
        m.release();
        assertArrayEquals(expectedHeader, java.util.Arrays.copyOf(actual, 8));
        assertArrayEquals(data, java.util.Arrays.copyOfRange(actual, 8, actual.length));
    }

    @Test
    void splitsWritesLargerThanTheMaximumIntoSeveralMessages() {
        byte[] data = new byte[70_000];
        new java.util.Random(2).nextBytes(data);
        encoder(32768);
        ChannelFuture f = ch.writeAndFlush(Unpooled.wrappedBuffer(data));
        assertTrue(f.isSuccess());
        List<ByteBuf> messages = new ArrayList<>();
        for (ByteBuf m; (m = ch.readOutbound()) != null; ) {
            messages.add(m);
        }
        assertEquals(3, messages.size());
        EmbeddedChannel dec = new EmbeddedChannel(new GunFrameDecoder(GrpcProtocol.MessageKind.HUNK, 1 << 20));
        ByteBuf joined = Unpooled.buffer();
        for (ByteBuf m : messages) {
            assertTrue(m.readableBytes() <= 32768 + 10);
            dec.writeInbound(m);
        }
        for (ByteBuf b; (b = dec.readInbound()) != null; ) {
            joined.writeBytes(b);
            b.release();
        }
        assertArrayEquals(data, ByteBufUtil.getBytes(joined));
        joined.release();
        dec.finishAndReleaseAll();
    }

    @Test
    void neverSendsAnEmptyMessage() {
        encoder(32768);
        ChannelFuture f = ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        assertTrue(f.isSuccess());
        assertNull(ch.readOutbound());
    }

    @Test
    void passesOtherMessagesThrough() {
        encoder(32768).writeOutbound("marker");
        assertEquals("marker", ch.readOutbound());
    }

    @Test
    void decodesHunkHello() {
        decoder(GrpcProtocol.MessageKind.HUNK).writeInbound(hex("00 00 00 00 07 0a 05 68 65 6c 6c 6f"));
        assertEquals("hello", ascii(ch.readInbound()));
        assertNull(ch.readInbound());
    }

    @Test
    void decodesMultiHunkEntries() {
        decoder(GrpcProtocol.MessageKind.MULTI_HUNK).writeInbound(hex("00 00 00 00 09 0a 02 61 62 0a 03 63 64 65"));
        assertEquals("ab", ascii(ch.readInbound()));
        assertEquals("cde", ascii(ch.readInbound()));
        assertNull(ch.readInbound());
    }

    @Test
    void decodes300ByteChunk() {
        ByteBuf msg = Unpooled.buffer();
        msg.writeBytes(ByteBufUtil.decodeHexDump("000000012f0aac02"));
        for (int i = 0; i < 300; i++) {
            msg.writeByte(i);
        }
        decoder(GrpcProtocol.MessageKind.HUNK).writeInbound(msg);
        ByteBuf out = ch.readInbound();
        assertEquals(300, out.readableBytes());
        assertEquals((byte) 299, out.getByte(299));
        out.release();
    }

    @Test
    void decodesAMessageSplitAcrossFramesByteByByte() {
        decoder(GrpcProtocol.MessageKind.HUNK);
        byte[] bytes = ByteBufUtil.decodeHexDump("00000000070a0568656c6c6f");
        for (byte b : bytes) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertEquals("hello", ascii(ch.readInbound()));
        assertNull(ch.readInbound());
    }

    @Test
    void decodesSeveralMessagesInOneFrameAndKeepsTheRest() {
        decoder(GrpcProtocol.MessageKind.MULTI_HUNK);
        ch.writeInbound(hex("00000000070a0568656c6c6f 00000000090a02616 20a03636465 000000"));
        assertEquals("hello", ascii(ch.readInbound()));
        assertEquals("ab", ascii(ch.readInbound()));
        assertEquals("cde", ascii(ch.readInbound()));
        assertNull(ch.readInbound());
        ch.writeInbound(hex("00 03 0a 01 7a"));
        assertEquals("z", ascii(ch.readInbound()));
    }

    @Test
    void skipsEmptyMessagesAndEmptyEntries() {
        decoder(GrpcProtocol.MessageKind.MULTI_HUNK);
        ch.writeInbound(hex("0000000000 00000000020a00 00000000060a000a02 6869"));
        assertEquals("hi", ascii(ch.readInbound()));
        assertNull(ch.readInbound());
    }

    @Test
    void rejectsTheCompressedFlag() {
        decoder(GrpcProtocol.MessageKind.HUNK);
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(hex("01 00 00 00 07 0a 05 68 65 6c 6c 6f")));
        assertInstanceOf(GunFormatException.class, e);
        assertTrue(e.getMessage().contains("compressed"), e.getMessage());
        GunAbort abort = ch.readOutbound();
        assertEquals(GrpcProtocol.STATUS_INTERNAL, abort.grpcStatus());
        // Everything after the violation is discarded.
        ch.writeInbound(hex("00000000070a0568656c6c6f"));
        assertNull(ch.readInbound());
    }

    @Test
    void rejectsUnknownFields() {
        decoder(GrpcProtocol.MessageKind.HUNK);
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(hex("00 00 00 00 03 12 01 61")));
        assertTrue(e.getMessage().contains("unknown protobuf field 2"), e.getMessage());
    }

    @Test
    void rejectsARepeatedFieldInAHunk() {
        decoder(GrpcProtocol.MessageKind.HUNK);
        assertThrows(GunFormatException.class,
                () -> ch.writeInbound(hex("00 00 00 00 09 0a 02 61 62 0a 03 63 64 65")));
        ByteBuf first = ch.readInbound();
        if (first != null) {
            first.release();
        }
    }

    @Test
    void rejectsAMessageOverTheMaximum() {
        ch = new EmbeddedChannel(new GunFrameDecoder(GrpcProtocol.MessageKind.HUNK, 1024));
        GunFormatException e = assertThrows(GunFormatException.class, () -> ch.writeInbound(hex("00 00 00 04 01")));
        assertTrue(e.getMessage().contains("exceeds the maximum of 1024"), e.getMessage());
    }

    @Test
    void rejectsAFieldLengthRunningPastTheMessage() {
        decoder(GrpcProtocol.MessageKind.HUNK);
        assertThrows(GunFormatException.class, () -> ch.writeInbound(hex("00 00 00 00 03 0a 05 68")));
    }

    @Test
    void rejectsAStreamEndingInsideAMessage() {
        decoder(GrpcProtocol.MessageKind.HUNK);
        ch.writeInbound(hex("00 00 00 00 07 0a 05 68"));
        assertNull(ch.readInbound());
        assertThrows(GunFormatException.class, () -> ch.finish());
        ch.releaseOutbound();
        ch = null;
    }
}

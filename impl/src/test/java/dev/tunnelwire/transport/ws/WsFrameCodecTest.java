package dev.tunnelwire.transport.ws;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameMaskGenerator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bulk-masking frame codec ({@link WsFrameEncoder}, {@link WsFrameDecoder}, {@link WsMasking}) against Netty's
 * own: the encoder writes exactly Netty's bytes for the same keys, the decoder yields exactly the payloads, however
 * the input is split, and Netty's checks still apply.
 */
class WsFrameCodecTest {

    private static final int[] SIZES = {0, 1, 3, 7, 8, 9, 125, 126, 127, 1000, 65535, 65536, 65537, 200_003};

    /** A mask generator replaying a fixed sequence, so that two encoders can be given the same keys. */
    private static WebSocketFrameMaskGenerator keys(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return r::nextInt;
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static byte[] drain(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            all.writeBytes(b);
            b.release();
        }
        byte[] bytes = ByteBufUtil.getBytes(all);
        all.release();
        return bytes;
    }

    private static List<Function<ByteBuf, WebSocketFrame>> kinds() {
        return List.of(BinaryWebSocketFrame::new, TextWebSocketFrame::new,
                b -> new BinaryWebSocketFrame(false, 0, b), b -> new ContinuationWebSocketFrame(false, 0, b),
                b -> new ContinuationWebSocketFrame(true, 0, b), b -> new BinaryWebSocketFrame(true, 3, b));
    }

    @Test
    void encoderWritesNettysBytesForTheSameKeys() {
        for (Function<ByteBuf, WebSocketFrame> kind : kinds()) {
            for (int size : SIZES) {
                byte[] payload = random(size, size);
                EmbeddedChannel ours = new EmbeddedChannel(new WsFrameEncoder(keys(size)));
                EmbeddedChannel netty = new EmbeddedChannel(new WebSocket13FrameEncoder(keys(size)));
                assertTrue(ours.writeOutbound(kind.apply(Unpooled.directBuffer().writeBytes(payload))));
                assertTrue(netty.writeOutbound(kind.apply(Unpooled.wrappedBuffer(payload.clone()))));
                assertArrayEquals(drain(netty), drain(ours), "size " + size);
                assertFalse(ours.finish());
                assertFalse(netty.finish());
            }
        }
    }

    @Test
    void encoderMasksHeapCompositeAndSlicedPayloadsWithoutChangingThem() {
        byte[] payload = random(70_001, 1);
        ByteBuf shared = Unpooled.directBuffer().writeBytes(payload);
        CompositeByteBuf composite = Unpooled.compositeBuffer();
        composite.addComponent(true, Unpooled.wrappedBuffer(payload, 0, 5000));
        composite.addComponent(true, Unpooled.directBuffer().writeBytes(payload, 5000, payload.length - 5000));
        List<ByteBuf> inputs = List.of(Unpooled.wrappedBuffer(payload.clone()), composite,
                shared.retainedSlice(), shared.retainedDuplicate().asReadOnly());
        for (ByteBuf in : inputs) {
            EmbeddedChannel ours = new EmbeddedChannel(new WsFrameEncoder(keys(9)));
            EmbeddedChannel netty = new EmbeddedChannel(new WebSocket13FrameEncoder(keys(9)));
            assertTrue(ours.writeOutbound(new BinaryWebSocketFrame(in)));
            assertTrue(netty.writeOutbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload.clone()))));
            assertArrayEquals(drain(netty), drain(ours));
            ours.finish();
            netty.finish();
        }
        assertArrayEquals(payload, ByteBufUtil.getBytes(shared), "the source is not masked in place");
        shared.release();
    }

    @Test
    void encoderLeavesControlFramesToNetty() {
        EmbeddedChannel ours = new EmbeddedChannel(new WsFrameEncoder(keys(5)));
        EmbeddedChannel netty = new EmbeddedChannel(new WebSocket13FrameEncoder(keys(5)));
        for (EmbeddedChannel ch : List.of(ours, netty)) {
            ch.writeOutbound(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})),
                    new CloseWebSocketFrame(1000, "bye"));
        }
        assertArrayEquals(drain(netty), drain(ours));
        ours.finish();
        netty.finish();
    }

    /** Masked frames of every size, as a client sends them, in one stream. */
    private static byte[] clientStream(List<byte[]> payloads, long seed) {
        EmbeddedChannel enc = new EmbeddedChannel(new WebSocket13FrameEncoder(keys(seed)));
        for (byte[] p : payloads) {
            enc.writeOutbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(p)));
        }
        byte[] wire = drain(enc);
        enc.finish();
        return wire;
    }

    private static EmbeddedChannel serverDecoder(int maxPayload) {
        return new EmbeddedChannel(new WsFrameDecoder(WsProtocol.decoderConfig(
                WsOptions.builder().maxFramePayload(maxPayload).build(), true)));
    }

    private static List<byte[]> payloadsRead(EmbeddedChannel ch) {
        List<byte[]> got = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            WebSocketFrame f = (WebSocketFrame) o;
            got.add(ByteBufUtil.getBytes(f.content()));
            f.release();
        }
        return got;
    }

    @Test
    void decoderUnmasksWhateverTheSplit() {
        List<byte[]> all = new ArrayList<>();
        List<byte[]> small = new ArrayList<>();
        for (int size : SIZES) {
            byte[] p = random(size, size * 7L);
            all.add(p);
            if (size <= 1000) {
                small.add(p);
            }
        }
        byte[] smallWire = clientStream(small, 3);
        byte[] allWire = clientStream(all, 4);
        SplittableRandom r = new SplittableRandom(11);
        for (int chunkMax : new int[] {1, 2, 5, 13, 100, 4096, 70_000, Integer.MAX_VALUE}) {
            // byte by byte through PARANOID leak detection is slow: the small frames only for the smallest chunks
            List<byte[]> payloads = chunkMax < 100 ? small : all;
            byte[] wire = chunkMax < 100 ? smallWire : allWire;
            EmbeddedChannel dec = serverDecoder(0);
            List<byte[]> got = new ArrayList<>();
            for (int off = 0; off < wire.length; ) {
                int n = Math.min(wire.length - off, 1 + r.nextInt(Math.min(chunkMax, wire.length)));
                ByteBuf in = (off & 1) == 0 ? Unpooled.directBuffer(n).writeBytes(wire, off, n)
                        : Unpooled.copiedBuffer(wire, off, n);
                if (r.nextInt(4) == 0) {
                    in = in.asReadOnly();
                }
                dec.writeInbound(in);
                got.addAll(payloadsRead(dec));
                off += n;
            }
            assertEquals(payloads.size(), got.size(), "chunks up to " + chunkMax);
            for (int i = 0; i < payloads.size(); i++) {
                assertArrayEquals(payloads.get(i), got.get(i), "frame " + i + ", chunks up to " + chunkMax);
            }
            assertFalse(dec.finish());
        }
    }

    @Test
    void decoderKeepsNettysChecks() {
        // An unmasked frame to a server: close 1002.
        assertClose(new byte[] {(byte) 0x82, 3, 1, 2, 3}, 0, 1002);
        // A frame over the limit: close 1009.
        assertClose(clientStream(List.of(random(101, 1)), 1), 100, 1009);
        // Nonzero RSV bits without an extension: close 1002.
        byte[] wire = clientStream(List.of(random(10, 1)), 1);
        wire[0] |= 0x40;
        assertClose(wire, 0, 1002);
    }

    private static void assertClose(byte[] wire, int maxPayload, int code) {
        EmbeddedChannel dec = serverDecoder(maxPayload);
        assertThrows(CorruptedWebSocketFrameException.class, () -> dec.writeInbound(Unpooled.wrappedBuffer(wire)));
        CloseWebSocketFrame close = dec.readOutbound();
        try {
            assertEquals(code, close.statusCode());
        } finally {
            close.release();
        }
        assertFalse(dec.isActive());
        dec.finishAndReleaseAll();
    }

    @Test
    void maskingMatchesTheByteWiseDefinitionAtEveryPhase() {
        byte[] data = random(1037, 5);
        int key = 0xA1B2C3D4;
        byte[] keyBytes = {(byte) 0xA1, (byte) 0xB2, (byte) 0xC3, (byte) 0xD4};
        for (int phase = 0; phase < 4; phase++) {
            byte[] expected = new byte[data.length - 10];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = (byte) (data[10 + i] ^ keyBytes[(phase + i) & 3]);
            }
            CompositeByteBuf composite = Unpooled.compositeBuffer()
                    .addComponent(true, Unpooled.wrappedBuffer(data.clone(), 0, 500))
                    .addComponent(true, Unpooled.wrappedBuffer(data.clone(), 500, data.length - 500));
            for (ByteBuf buf : List.of(Unpooled.wrappedBuffer(data.clone()),
                    Unpooled.directBuffer().writeBytes(data), composite)) {
                WsMasking.mask(buf, 10, expected.length, key, phase);
                assertArrayEquals(expected, ByteBufUtil.getBytes(buf, 10, expected.length), buf.toString());
                assertArrayEquals(java.util.Arrays.copyOf(data, 10), ByteBufUtil.getBytes(buf, 0, 10));
                buf.release();
            }
        }
        ByteBuf ro = Unpooled.wrappedBuffer(data).asReadOnly();
        assertThrows(IllegalArgumentException.class, () -> WsMasking.mask(ro, 0, 8, key, 0));
        ro.release();
    }
}

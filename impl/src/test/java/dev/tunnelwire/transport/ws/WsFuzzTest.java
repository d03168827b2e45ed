package dev.tunnelwire.transport.ws;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.fuzz.Fuzz;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzz targets of the ws transport's parsers.
 *
 * <ul>
 *   <li>{@code frameDecoder}: {@link WsFrameDecoder} (bulk unmasking ahead of Netty's decoder) against Netty's own
 *       {@link WebSocket13FrameDecoder} with the same configuration and the same reads: the frames (type, flags,
 *       payload), the close frame sent on a violation and the exception must be the same. Input: byte 0 options
 *       (bit 0 server side, bit 1 a 125-byte payload limit, bit 2 read-only reads), byte 1 the split.</li>
 *   <li>{@code masking}: {@link WsMasking#mask} against byte-by-byte XOR on heap, direct and composite buffers.</li>
 *   <li>{@code handshake}: the whole listener ({@link WsListener#serve}: HTTP decoder, {@link
 *       WsServerHandshakeHandler}, then the frame codec and {@link WsStreamAdapter}) fed a request and frames;
 *       option byte selects the early-data mode and a required host. Only WebSocket decoding errors may reach the
 *       tunnel's handler; nothing may reach the end of the pipeline.</li>
 * </ul>
 */
class WsFuzzTest {

    @FuzzTest(maxDuration = "5m")
    void frameDecoder(byte[] input) {
        int opt = Fuzz.option(input);
        byte[] rest = Fuzz.payload(input);
        int split = Fuzz.split(Fuzz.option(rest), Math.max(0, rest.length - 1));
        byte[] data = Fuzz.payload(rest);
        boolean server = (opt & 1) != 0;
        WsOptions o = (opt & 2) != 0 ? WsOptions.builder().maxFramePayload(125).build() : WsOptions.defaults();
        WebSocketDecoderConfig cfg = WsProtocol.decoderConfig(o, server);
        EmbeddedChannel ours = new EmbeddedChannel(new WsFrameDecoder(cfg));
        EmbeddedChannel netty = new EmbeddedChannel(new WebSocket13FrameDecoder(cfg));
        List<String> a = run(ours, data, split, (opt & 4) != 0);
        List<String> b = run(netty, data, split, false);
        if (!a.equals(b)) {
            throw new AssertionError("WsFrameDecoder differs from Netty's decoder on " + ByteBufUtil.hexDump(data)
                    + " split " + split + ":\n ours:  " + a + "\n netty: " + b);
        }
        Fuzz.noLeaks();
    }

    /** Everything the decoder produced, as comparable strings; releases it all. */
    private static List<String> run(EmbeddedChannel ch, byte[] data, int split, boolean readOnly) {
        List<String> events = new ArrayList<>();
        int s = Math.min(split, data.length);
        for (int[] r : new int[][] {{0, s}, {s, data.length - s}}) {
            if (r[1] == 0 || !ch.isOpen()) {
                continue;
            }
            ByteBuf buf = ch.alloc().buffer(r[1]).writeBytes(data, r[0], r[1]);
            if (readOnly) {
                buf = buf.asReadOnly();
            }
            try {
                ch.writeInbound(buf);
            } catch (CorruptedWebSocketFrameException | TooLongFrameException e) {
                events.add("exception " + e.getClass().getSimpleName() + ": " + e.getMessage());
            } catch (Throwable t) {
                throw new AssertionError("unexpected exception: " + t, t);
            }
            collect(ch, events);
        }
        ch.close();
        collect(ch, events);
        ch.finishAndReleaseAll();
        return events;
    }

    private static void collect(EmbeddedChannel ch, List<String> events) {
        for (Object m; (m = ch.readInbound()) != null; ) {
            events.add(describe("in", m));
        }
        for (Object m; (m = ch.readOutbound()) != null; ) {
            events.add(describe("out", m));
        }
    }

    private static String describe(String dir, Object m) {
        try {
            if (m instanceof CloseWebSocketFrame c) {
                return dir + " close " + c.statusCode() + " " + c.reasonText();
            }
            if (m instanceof WebSocketFrame f) {
                return dir + " " + f.getClass().getSimpleName() + " fin=" + f.isFinalFragment() + " rsv=" + f.rsv()
                        + " " + ByteBufUtil.hexDump(f.content());
            }
            return dir + " " + m;
        } finally {
            ReferenceCountUtil.release(m);
        }
    }

    @FuzzTest(maxDuration = "5m")
    void masking(byte[] input) {
        if (input.length < 6) {
            return;
        }
        int key = (input[0] & 0xFF) << 24 | (input[1] & 0xFF) << 16 | (input[2] & 0xFF) << 8 | input[3] & 0xFF;
        int phase = input[4] & 3;
        int kind = (input[4] >> 2) & 3;
        byte[] data = Arrays.copyOfRange(input, 5, input.length);
        int off = Math.min(input[5] & 7, data.length);
        int len = data.length - off;
        byte[] expected = data.clone();
        for (int i = 0; i < len; i++) {
            expected[off + i] ^= (byte) (key >>> (24 - 8 * ((phase + i) & 3)));
        }
        ByteBuf buf = switch (kind) {
            case 0 -> Unpooled.buffer(data.length).writeBytes(data);
            case 1 -> ByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
            case 2 -> {
                CompositeByteBuf c = Unpooled.compositeBuffer();
                int h = data.length / 2;
                c.addComponent(true, Unpooled.buffer(h).writeBytes(data, 0, h));
                c.addComponent(true, Unpooled.directBuffer(data.length - h).writeBytes(data, h, data.length - h));
                yield c;
            }
            default -> Unpooled.wrappedBuffer(new byte[3], data).slice(3, data.length);
        };
        try {
            WsMasking.mask(buf, off, len, key, phase);
            byte[] got = ByteBufUtil.getBytes(buf, 0, data.length);
            if (!Arrays.equals(expected, got)) {
                throw new AssertionError("masking differs (kind " + kind + ", key " + Integer.toHexString(key)
                        + ", phase " + phase + ", off " + off + "): " + ByteBufUtil.hexDump(got) + " vs "
                        + ByteBufUtil.hexDump(expected));
            }
        } finally {
            buf.release();
        }
        Fuzz.noLeaks();
    }

    static final WsOptions[] HANDSHAKE_OPTIONS = {
            WsOptions.builder().path("/ws").build(),
            WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.PATH, 2048).build(),
            WsOptions.builder().path("/ws").earlyData(WsOptions.EarlyData.HEADER, 2048).build(),
            WsOptions.builder().path("/ws?ed=2048").earlyData(WsOptions.EarlyData.XRAY, 2048)
                    .host("example.com").trustXForwardedFor(true).maxFramePayload(125).build(),
    };

    @FuzzTest(maxDuration = "5m")
    void handshake(byte[] input) {
        Fuzz.watchingLog(input, () -> runHandshake(input));
        Fuzz.noLeaks();
    }

    private static void runHandshake(byte[] input) {
        int opt = Fuzz.option(input);
        byte[] rest = Fuzz.payload(input);
        int split = Fuzz.option(rest);
        byte[] data = Fuzz.payload(rest);
        WsOptions options = HANDSHAKE_OPTIONS[opt & 3];
        EmbeddedChannel ch = new EmbeddedChannel();
        List<Throwable> unexpected = new ArrayList<>();
        new WsListener(TunnelRuntime.shared(), ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), options)
                .serve(ch, (t, info) -> t.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        if (!(cause instanceof CorruptedWebSocketFrameException)) {
                            unexpected.add(cause);
                        }
                        ctx.close();
                    }
                }));
        try {
            Fuzz.feed(ch, data, Fuzz.split(split, data.length), Fuzz.NOTHING);
            Fuzz.advance(ch, 30, Fuzz.NOTHING);
        } finally {
            Fuzz.finish(ch, Fuzz.NOTHING);
        }
        if (!unexpected.isEmpty()) {
            throw new AssertionError("unexpected exception in the tunnel: " + unexpected.get(0), unexpected.get(0));
        }
    }
}

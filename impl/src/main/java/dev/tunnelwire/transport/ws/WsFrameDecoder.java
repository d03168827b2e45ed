package dev.tunnelwire.transport.ws;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;

import java.util.List;

/**
 * Netty's {@link WebSocket13FrameDecoder} with bulk unmasking (see {@link WsMasking} for why): before each decoding
 * step, the bytes that have arrived in the cumulation buffer are unmasked in place, as far as they have arrived, and
 * each frame's masking key is set to zero once the frame's header is complete, which Netty's decoder treats as
 * "nothing to unmask". The frames stay masked frames (the mask bit is untouched), so every check and limit is still
 * Netty's: mask expected or not, RSV bits, opcodes, control frame rules, the payload limit, and the close it sends on
 * a violation.
 *
 * <p>This pass only follows frame boundaries: it reads every byte once, collects each header (2 to 14 bytes) and
 * takes the payload length and the key from it; it never rejects anything (after a violation Netty discards the rest
 * of the input, and what this pass did to it no longer matters). Netty reads a key only once its four bytes have all
 * arrived, and this pass runs first on every read, so the key Netty reads is always already zero.
 *
 * <p>Buffers: the cumulation is changed in place, so an incoming buffer that cannot be (read-only) is copied into
 * one that can before it joins the cumulation, and released.
 */
final class WsFrameDecoder extends WebSocket13FrameDecoder {

    /** Bytes from the cumulation's reader index on that this pass has already handled. */
    private int ahead;
    /** The header of the current frame, while it is being collected. */
    private final byte[] head = new byte[14];
    private int headLen;
    /** Payload bytes of the current frame not yet handled. */
    private long payloadLeft;
    /** The current frame's key, 0 when unmasked. */
    private int key;
    /** Offset of the next payload byte within the current frame, modulo 4. */
    private int phase;

    WsFrameDecoder(WebSocketDecoderConfig config) {
        super(config);
        setCumulator((alloc, cumulation, in) -> {
            ByteBuf next = in;
            if (in.isReadOnly()) {
                next = alloc.buffer(in.readableBytes()).writeBytes(in);
                in.release();
            }
            return MERGE_CUMULATOR.cumulate(alloc, cumulation, next);
        });
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        unmaskAhead(in);
        int before = in.readerIndex();
        super.decode(ctx, in, out);
        ahead = Math.max(0, ahead - (in.readerIndex() - before));
    }

    private void unmaskAhead(ByteBuf in) {
        int end = in.writerIndex();
        int pos = in.readerIndex() + ahead;
        while (pos < end) {
            if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - pos);
                if (key != 0) {
                    WsMasking.mask(in, pos, n, key, phase);
                }
                phase = (phase + n) & 3;
                payloadLeft -= n;
                pos += n;
                continue;
            }
            head[headLen++] = in.getByte(pos++);
            if (headLen < 2) {
                continue;
            }
            boolean masked = (head[1] & 0x80) != 0;
            int len1 = head[1] & 0x7F;
            int need = 2 + (len1 == 126 ? 2 : len1 == 127 ? 8 : 0) + (masked ? 4 : 0);
            if (headLen < need) {
                continue;
            }
            long length = len1 < 126 ? len1 : len1 == 126 ? (head[2] & 0xFF) << 8 | head[3] & 0xFF : bigEndianLong();
            key = masked ? (head[need - 4] & 0xFF) << 24 | (head[need - 3] & 0xFF) << 16
                    | (head[need - 2] & 0xFF) << 8 | head[need - 1] & 0xFF : 0;
            if (key != 0) {
                in.setInt(pos - 4, 0);
            }
            headLen = 0;
            phase = 0;
            payloadLeft = Math.max(0, length); // Netty rejects a negative length
        }
        ahead = pos - in.readerIndex();
    }

    private long bigEndianLong() {
        long v = 0;
        for (int i = 2; i < 10; i++) {
            v = v << 8 | head[i] & 0xFF;
        }
        return v;
    }
}

package dev.tunnelwire.transport.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.PromiseCombiner;

/**
 * Frames tunnel bytes as gun messages: each outbound {@link ByteBuf} becomes one message ({@code 00}, length, then
 * protobuf field 1 holding the bytes), or several when it is longer than the maximum payload. The result is valid as
 * Hunk, MultiHunk (one entry) and GOST Chunk alike.
 *
 * <ul>
 *   <li>Never empty: an empty buffer is released and its write succeeds without sending anything (sing-box's lite
 *       reader would misparse an empty message).</li>
 *   <li>Never compressed, never larger than {@code maxPayload} of tunnel bytes.</li>
 *   <li>No copies of large payloads: the message is a composite of a small header and a slice of the written buffer;
 *       payloads up to {@value #COPY_THRESHOLD} bytes are copied next to the header instead (cheaper than a
 *       composite).</li>
 * </ul>
 * Other outbound messages pass unchanged. <b>Reference counting:</b> takes ownership of every written buffer; each
 * message it emits is owned by the next handler.
 */
final class GunFrameEncoder extends ChannelOutboundHandlerAdapter {

    static final int COPY_THRESHOLD = 1024;
    /** Prefix (5) + tag (1) + varint of a length below 2^28 (at most 4). */
    private static final int MAX_HEADER = 10;

    private final int maxPayload;

    GunFrameEncoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf buf)) {
            ctx.write(msg, promise);
            return;
        }
        int length = buf.readableBytes();
        if (length == 0) {
            buf.release();
            promise.trySuccess();
            return;
        }
        if (length <= maxPayload) {
            ctx.write(frame(ctx, buf, length), promise);
            return;
        }
        try {
            if (promise.isVoid()) {
                while (buf.isReadable()) {
                    int n = Math.min(maxPayload, buf.readableBytes());
                    ctx.write(frame(ctx, buf.readRetainedSlice(n), n), promise);
                }
            } else {
                PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
                while (buf.isReadable()) {
                    int n = Math.min(maxPayload, buf.readableBytes());
                    combiner.add(ctx.write(frame(ctx, buf.readRetainedSlice(n), n)));
                }
                combiner.finish(promise);
            }
        } finally {
            buf.release();
        }
    }

    /** One message around {@code payload} ({@code length} readable bytes); takes ownership of {@code payload}. */
    static ByteBuf frame(ChannelHandlerContext ctx, ByteBuf payload, int length) {
        int body = 1 + varintSize(length) + length;
        if (length <= COPY_THRESHOLD) {
            ByteBuf out = ctx.alloc().directBuffer(MAX_HEADER + length);
            try {
                writeHeader(out, body, length);
                out.writeBytes(payload, payload.readerIndex(), length);
            } finally {
                payload.release();
            }
            return out;
        }
        ByteBuf header = ctx.alloc().directBuffer(MAX_HEADER);
        writeHeader(header, body, length);
        CompositeByteBuf out = ctx.alloc().compositeDirectBuffer(2);
        out.addComponents(true, header, payload);
        return out;
    }

    private static void writeHeader(ByteBuf out, int body, int length) {
        out.writeByte(0);
        out.writeInt(body);
        out.writeByte(GrpcProtocol.DATA_TAG);
        writeVarint(out, length);
    }

    static int varintSize(int v) {
        int n = 1;
        while ((v & ~0x7F) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    static void writeVarint(ByteBuf out, int v) {
        while ((v & ~0x7F) != 0) {
            out.writeByte((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }
}

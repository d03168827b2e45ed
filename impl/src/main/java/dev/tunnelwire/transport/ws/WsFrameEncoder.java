package dev.tunnelwire.transport.ws;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.RandomWebSocketFrameMaskGenerator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameMaskGenerator;

import java.util.List;

/**
 * The client's frame encoder: Netty's {@link WebSocket13FrameEncoder} with masking, except that data frames (binary,
 * text, continuation) are masked in bulk by {@link WsMasking}: the header, then the payload copied once into the same
 * buffer and masked there. The bytes on the wire are exactly what Netty's encoder writes (same header encoding, a
 * fresh key per frame from the same generator); control frames are Netty's.
 *
 * <p>Buffers: the frame is released by {@link io.netty.handler.codec.MessageToMessageEncoder} after encoding; the
 * encoded buffer is new and passed on.
 */
final class WsFrameEncoder extends WebSocket13FrameEncoder {

    private final WebSocketFrameMaskGenerator masks;

    WsFrameEncoder() {
        this(RandomWebSocketFrameMaskGenerator.INSTANCE);
    }

    WsFrameEncoder(WebSocketFrameMaskGenerator masks) {
        super(masks);
        this.masks = masks;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) throws Exception {
        int opcode;
        if (frame instanceof BinaryWebSocketFrame) {
            opcode = 2;
        } else if (frame instanceof ContinuationWebSocketFrame) {
            opcode = 0;
        } else if (frame instanceof TextWebSocketFrame) {
            opcode = 1;
        } else {
            super.encode(ctx, frame, out);
            return;
        }
        ByteBuf data = frame.content();
        int length = data.readableBytes();
        int header = 2 + (length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8) + 4;
        ByteBuf buf = ctx.alloc().buffer(header + length);
        try {
            buf.writeByte((frame.isFinalFragment() ? 0x80 : 0) | (frame.rsv() & 0x07) << 4 | opcode);
            if (length <= 125) {
                buf.writeByte(0x80 | length);
            } else if (length <= 0xFFFF) {
                buf.writeByte(0x80 | 126).writeShort(length);
            } else {
                buf.writeByte(0x80 | 127).writeLong(length);
            }
            int key = masks.nextMask();
            buf.writeInt(key);
            int at = buf.writerIndex();
            buf.writeBytes(data, data.readerIndex(), length);
            WsMasking.mask(buf, at, length, key, 0);
            out.add(buf);
            buf = null;
        } finally {
            if (buf != null) {
                buf.release();
            }
        }
    }
}

package dev.tunnelwire.transport.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Turns the bytes of a gRPC request or response body (the DATA frames of a stream, in order) back into tunnel bytes.
 *
 * <p>State machine: {@code PREFIX} (5 bytes: flag, big-endian length) → {@code MESSAGE} (the whole protobuf body,
 * which may span any number of DATA frames; several messages may share one frame) → {@code PREFIX} ...; a protocol
 * violation moves to {@code CORRUPT}, which discards everything after it.
 *
 * <p>Accepted: field 1 ({@code 0A}, varint length, bytes) once per message for Hunk/Chunk, any number of times for
 * MultiHunk; empty entries and empty messages are skipped. Rejected with a {@link GunFormatException}: the compressed
 * flag (never negotiated), any other flag, a message longer than {@code maxMessage}, any other protobuf field or wire
 * type, a repeated field in a Hunk/Chunk, a length running past the message, and a message cut off by the end of the
 * stream. On rejection the decoder writes a {@link GunAbort} (so that {@link GunStreamAdapter} ends the call with
 * {@code grpc-status 13} or resets it) and then fires the exception.
 *
 * <p><b>Reference counting:</b> each emitted payload is a retained slice of the received bytes (no copy), owned by
 * the next handler.
 */
final class GunFrameDecoder extends ByteToMessageDecoder {

    private enum State { PREFIX, MESSAGE, CORRUPT }

    private final GrpcProtocol.MessageKind kind;
    private final int maxMessage;
    private State state = State.PREFIX;
    private int messageLength;

    GunFrameDecoder(GrpcProtocol.MessageKind kind, int maxMessage) {
        this.kind = kind;
        this.maxMessage = maxMessage;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case PREFIX:
                if (in.readableBytes() < GrpcProtocol.PREFIX_LENGTH) {
                    return;
                }
                int flag = in.getUnsignedByte(in.readerIndex());
                if (flag != 0) {
                    throw violation(ctx, in, flag == 1
                            ? "compressed gun message (flag 1): compression is never negotiated on gun tunnels"
                            : "invalid gRPC message flag " + flag);
                }
                long length = in.getUnsignedInt(in.readerIndex() + 1);
                if (length > maxMessage) {
                    throw violation(ctx, in, "gun message of " + length + " bytes exceeds the maximum of "
                            + maxMessage);
                }
                in.skipBytes(GrpcProtocol.PREFIX_LENGTH);
                messageLength = (int) length;
                state = State.MESSAGE;
                // fall through
            case MESSAGE:
                if (in.readableBytes() < messageLength) {
                    return;
                }
                int end = in.readerIndex() + messageLength;
                int entries = 0;
                while (in.readerIndex() < end) {
                    long tag = readVarint(ctx, in, end);
                    if (tag != GrpcProtocol.DATA_TAG) {
                        throw violation(ctx, in, "unknown protobuf field " + (tag >>> 3) + " (wire type " + (tag & 7)
                                + ") in gun message; only field 1 (bytes data) is defined");
                    }
                    long n = readVarint(ctx, in, end);
                    // unsigned, as protobuf reads it: a 10-byte varint with bit 63 set is no negative length
                    if (n < 0 || n > end - in.readerIndex()) {
                        throw violation(ctx, in, "gun data field of " + n + " bytes runs past its message");
                    }
                    if (++entries > 1 && kind == GrpcProtocol.MessageKind.HUNK) {
                        throw violation(ctx, in, "repeated data field in a Hunk/Chunk message");
                    }
                    if (n > 0) {
                        out.add(in.readRetainedSlice((int) n));
                    }
                }
                state = State.PREFIX;
                return;
            case CORRUPT:
            default:
                in.skipBytes(in.readableBytes());
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        if (state != State.CORRUPT && (state == State.MESSAGE || in.isReadable())) {
            throw violation(ctx, in, "stream ended inside a gun message");
        }
    }

    private long readVarint(ChannelHandlerContext ctx, ByteBuf in, int end) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (in.readerIndex() >= end) {
                throw violation(ctx, in, "truncated varint in gun message");
            }
            byte b = in.readByte();
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw violation(ctx, in, "varint longer than 10 bytes in gun message");
    }

    private GunFormatException violation(ChannelHandlerContext ctx, ByteBuf in, String message) {
        state = State.CORRUPT;
        in.skipBytes(in.readableBytes());
        ctx.writeAndFlush(new GunAbort(GrpcProtocol.STATUS_INTERNAL, message));
        return new GunFormatException(message);
    }
}

package dev.tunnelwire.transport.grpc;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tunnelwire.fuzz.Fuzz;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fuzz target: {@link GunFrameDecoder} (gRPC length prefix + protobuf Hunk/MultiHunk) over the DATA bytes of a
 * stream, as {@link GunServerHandshakeHandler} installs it. Option byte: bit 0 MultiHunk, the whole byte the split.
 * Oracle: a straightforward reference decoder (protobuf's rules as grpc-go applies them); the emitted bytes and the
 * accept/reject outcome must match it. Only {@link GunFormatException} may escape; a rejection writes a
 * {@link GunAbort}.
 */
class GunFrameDecoderFuzzTest {

    static final int MAX_MESSAGE = 4096;

    @FuzzTest(maxDuration = "5m")
    void decode(byte[] input) {
        int opt = Fuzz.option(input);
        byte[] data = Fuzz.payload(input);
        GrpcProtocol.MessageKind kind = (opt & 1) != 0 ? GrpcProtocol.MessageKind.MULTI_HUNK
                : GrpcProtocol.MessageKind.HUNK;
        EmbeddedChannel ch = new EmbeddedChannel(new GunFrameDecoder(kind, MAX_MESSAGE));
        AtomicBoolean rejected = new AtomicBoolean();
        java.util.function.Predicate<Throwable> allowed = t -> {
            if (Fuzz.causedBy(GunFormatException.class).test(t)) {
                rejected.set(true);
                return true;
            }
            return false;
        };
        Fuzz.feed(ch, data, Fuzz.split(opt, data.length), allowed);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (Object m; (m = ch.readInbound()) != null; ) {
            ByteBuf b = (ByteBuf) m;
            got.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
        boolean aborted = false;
        for (Object m; (m = ch.readOutbound()) != null; ) {
            aborted |= m instanceof GunAbort;
            io.netty.util.ReferenceCountUtil.release(m);
        }
        try {
            // END_STREAM: GunStreamAdapter fires an input shutdown, then the call ends
            ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
            ch.checkException();
        } catch (Throwable t) {
            if (!allowed.test(t)) {
                throw new AssertionError("unexpected exception: " + t, t);
            }
        }
        for (Object m; (m = ch.readInbound()) != null; ) {
            ByteBuf b = (ByteBuf) m;
            got.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
        for (Object m; (m = ch.readOutbound()) != null; ) {
            aborted |= m instanceof GunAbort;
            io.netty.util.ReferenceCountUtil.release(m);
        }
        Fuzz.finish(ch, allowed);

        Reference ref = Reference.decode(data, kind == GrpcProtocol.MessageKind.MULTI_HUNK);
        if (ref.rejected != rejected.get()) {
            throw new AssertionError("reference " + (ref.rejected ? "rejects" : "accepts") + " but decoder "
                    + (rejected.get() ? "rejected" : "accepted") + ": " + ByteBufUtil.hexDump(data));
        }
        if (rejected.get() && !aborted) {
            throw new AssertionError("rejected without a GunAbort");
        }
        byte[] out = got.toByteArray();
        if (!Arrays.equals(ref.prefixUpToError, 0, Math.min(ref.prefixUpToError.length, out.length),
                out, 0, Math.min(ref.prefixUpToError.length, out.length))
                || !ref.rejected && !Arrays.equals(ref.prefixUpToError, out)) {
            throw new AssertionError("decoded bytes differ from the reference: " + ByteBufUtil.hexDump(out) + " vs "
                    + ByteBufUtil.hexDump(ref.prefixUpToError));
        }
        Fuzz.noLeaks();
    }

    /** The reference: whole messages, grpc-go's protowire rules (a length beyond the message is truncation). */
    record Reference(boolean rejected, byte[] prefixUpToError) {
        static Reference decode(byte[] d, boolean multi) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int p = 0;
            while (p < d.length) {
                if (d.length - p < 5) {
                    return new Reference(true, out.toByteArray());
                }
                if (d[p] != 0) {
                    return new Reference(true, out.toByteArray());
                }
                long len = ((d[p + 1] & 0xFFL) << 24) | ((d[p + 2] & 0xFF) << 16) | ((d[p + 3] & 0xFF) << 8)
                        | (d[p + 4] & 0xFF);
                if (len > MAX_MESSAGE) {
                    return new Reference(true, out.toByteArray());
                }
                p += 5;
                if (d.length - p < len) {
                    return new Reference(true, out.toByteArray());
                }
                int end = p + (int) len;
                int entries = 0;
                while (p < end) {
                    long[] tag = varint(d, p, end);
                    if (tag == null || tag[0] != 0x0A) {
                        return new Reference(true, out.toByteArray());
                    }
                    p = (int) tag[1];
                    long[] n = varint(d, p, end);
                    if (n == null) {
                        return new Reference(true, out.toByteArray());
                    }
                    p = (int) n[1];
                    // protowire.ConsumeBytes: the length is unsigned and must fit in what is left
                    if (Long.compareUnsigned(n[0], end - p) > 0) {
                        return new Reference(true, out.toByteArray());
                    }
                    if (++entries > 1 && !multi) {
                        return new Reference(true, out.toByteArray());
                    }
                    out.write(d, p, (int) n[0]);
                    p += (int) n[0];
                }
            }
            return new Reference(false, out.toByteArray());
        }

        private static long[] varint(byte[] d, int p, int end) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (p >= end) {
                    return null;
                }
                byte b = d[p++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return new long[] {v, p};
                }
            }
            return null;
        }
    }
}

package dev.tunnelwire.transport.ws;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * RFC 6455 §5.3 masking in bulk: XORs a region of a buffer in place with a masking key, eight bytes at a time
 * through one {@link ByteBuffer} view of the region.
 *
 * <p>Why not Netty's loops: {@code WebSocket08FrameEncoder} and {@code WebSocket08FrameDecoder} mask with one
 * {@code getLong}/{@code setLong} (or {@code writeLong}) call on the {@link ByteBuf} per eight bytes, and every such
 * call checks the reference count and the bounds; on Netty 4.2 those checks make masking the most expensive thing a
 * WebSocket connection does (about 90% of the CPU time of a bulk transfer, see docs/transports/performance.md), and
 * under PARANOID leak detection each access also records a stack trace. Here the buffer is checked once per region.
 */
final class WsMasking {

    private WsMasking() {
    }

    /**
     * XORs {@code length} bytes of {@code buf} at {@code index} (indexes not changed) with the masking key
     * {@code key} (its four bytes in network order, as on the wire), starting at byte {@code phase} (0-3) of the
     * key: the region's first byte is the payload byte at an offset {@code ≡ phase (mod 4)}. A writable heap buffer
     * with an array, or a single-region direct buffer, is changed through one {@link ByteBuffer} view sharing its
     * memory; any other buffer through per-long accessors (correct, slow). A read-only buffer is an
     * {@link IllegalArgumentException}.
     */
    static void mask(ByteBuf buf, int index, int length, int key, int phase) {
        if (length <= 0 || key == 0) {
            return;
        }
        int k = Integer.rotateLeft(key, 8 * (phase & 3));
        long k8 = (k & 0xFFFFFFFFL) << 32 | k & 0xFFFFFFFFL;
        ByteBuffer nio;
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("read-only buffer");
        } else if (buf.hasArray()) {
            nio = ByteBuffer.wrap(buf.array(), buf.arrayOffset() + index, length).slice();
        } else if (buf.isDirect() && buf.nioBufferCount() == 1) {
            nio = buf.nioBuffer(index, length);
        } else {
            maskSlow(buf, index, length, k, k8);
            return;
        }
        // The machine's byte order saves a byte swap per access; the key is laid out in memory order to match.
        nio.order(ByteOrder.nativeOrder());
        long m8 = ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? k8 : Long.reverseBytes(k8);
        int base = nio.position();
        int i = 0;
        for (int lim = length - 7; i < lim; i += 8) {
            nio.putLong(base + i, nio.getLong(base + i) ^ m8);
        }
        for (; i < length; i++) {
            nio.put(base + i, (byte) (nio.get(base + i) ^ k >>> 24 - 8 * (i & 3)));
        }
    }

    private static void maskSlow(ByteBuf buf, int index, int length, int k, long k8) {
        int i = 0;
        for (int lim = length - 7; i < lim; i += 8) {
            buf.setLong(index + i, buf.getLong(index + i) ^ k8);
        }
        for (; i < length; i++) {
            buf.setByte(index + i, buf.getByte(index + i) ^ k >>> 24 - 8 * (i & 3));
        }
    }
}

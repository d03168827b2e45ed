package dev.tunnelwire.testkit;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** SHA-256 and random payload helpers for the data-integrity tests. */
public final class Digests {

    private Digests() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Hashes the readable bytes of {@code buf} without changing its indexes and without copying. */
    public static void update(MessageDigest md, ByteBuf buf) {
        if (buf.nioBufferCount() == 1) {
            md.update(buf.nioBuffer());
        } else {
            for (ByteBuffer b : buf.nioBuffers()) {
                md.update(b);
            }
        }
    }

    public static byte[] sha256(byte[] data) {
        return sha256().digest(data);
    }

    /** Deterministic pseudo-random bytes (fast; not for cryptography). */
    public static byte[] randomBytes(int size, long seed) {
        byte[] out = new byte[size];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < size; i += 8) {
            long v = r.nextLong();
            for (int j = 0; j < 8 && i + j < size; j++) {
                out[i + j] = (byte) (v >>> (j * 8));
            }
        }
        return out;
    }

    /** A byte count and its SHA-256. */
    public record Result(long count, byte[] sha256) {
        public boolean matches(byte[] expectedSha256, long expectedCount) {
            return count == expectedCount && Arrays.equals(sha256, expectedSha256);
        }

        @Override
        public String toString() {
            return count + " bytes, sha256 " + HexFormat.of().formatHex(sha256);
        }
    }
}

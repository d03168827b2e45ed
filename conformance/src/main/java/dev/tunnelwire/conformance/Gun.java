package dev.tunnelwire.conformance;

import java.io.ByteArrayOutputStream;

/**
 * The gun message format shared by sing-box, Xray and gost gRPC tunnels: a gRPC length-prefixed message
 * ({@code 00} + uint32 BE length) around a protobuf {@code Hunk { bytes data = 1; }} ({@code 0A <varint n> <n bytes>}).
 */
public final class Gun {

    private Gun() {
    }

    /** {@code 0A varint(n) data}: one protobuf field 1 of wire type 2. */
    public static byte[] hunk(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 6);
        out.write(0x0A);
        long n = data.length;
        while (n >= 0x80) {
            out.write((int) (n & 0x7F) | 0x80);
            n >>>= 7;
        }
        out.write((int) n);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** The 5-byte gRPC message prefix (uncompressed) plus {@code message}. */
    public static byte[] frame(byte[] message) {
        byte[] out = new byte[5 + message.length];
        int n = message.length;
        out[1] = (byte) (n >>> 24);
        out[2] = (byte) (n >>> 16);
        out[3] = (byte) (n >>> 8);
        out[4] = (byte) n;
        System.arraycopy(message, 0, out, 5, n);
        return out;
    }

    /**
     * Concatenates every field-1 entry of a protobuf message (a Hunk has one, a MultiHunk several).
     *
     * @throws IllegalArgumentException on any other field or a truncated entry
     */
    public static byte[] payload(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length);
        int i = 0;
        while (i < message.length) {
            if ((message[i] & 0xFF) != 0x0A) {
                throw new IllegalArgumentException("unexpected protobuf tag 0x"
                        + Integer.toHexString(message[i] & 0xFF) + " at " + i);
            }
            i++;
            long n = 0;
            int shift = 0;
            while (true) {
                if (i >= message.length) {
                    throw new IllegalArgumentException("truncated varint");
                }
                int b = message[i++] & 0xFF;
                n |= (long) (b & 0x7F) << shift;
                if (b < 0x80) {
                    break;
                }
                shift += 7;
            }
            if (i + n > message.length) {
                throw new IllegalArgumentException("entry of " + n + " bytes overruns the message");
            }
            out.write(message, i, (int) n);
            i += (int) n;
        }
        return out.toByteArray();
    }
}

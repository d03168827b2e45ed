package dev.tunnelwire.transport.grpc;

import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A hand-written protobuf marshaller for {@code Hunk}/{@code Chunk} ({@code bytes data = 1}) and {@code MultiHunk}
 * ({@code repeated bytes data = 1}), independent of the implementation under test: a message is the list of its
 * {@code data} entries. {@code parse} skips unknown fields of every wire type, as protobuf does; {@code stream}
 * omits empty entries of a Hunk (proto3 default).
 */
final class GunMarshaller implements MethodDescriptor.Marshaller<List<byte[]>> {

    static final GunMarshaller INSTANCE = new GunMarshaller();

    @Override
    public InputStream stream(List<byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] e : entries) {
            if (entries.size() == 1 && e.length == 0) {
                continue;
            }
            out.write(0x0A);
            writeVarint(out, e.length);
            out.write(e, 0, e.length);
        }
        return new ByteArrayInputStream(out.toByteArray());
    }

    @Override
    public List<byte[]> parse(InputStream in) {
        try {
            byte[] all = in.readAllBytes();
            List<byte[]> entries = new ArrayList<>();
            int[] pos = {0};
            while (pos[0] < all.length) {
                long tag = readVarint(all, pos);
                int wire = (int) (tag & 7);
                switch (wire) {
                    case 0 -> readVarint(all, pos);
                    case 1 -> pos[0] += 8;
                    case 5 -> pos[0] += 4;
                    case 2 -> {
                        int len = (int) readVarint(all, pos);
                        if (tag >>> 3 == 1) {
                            byte[] e = new byte[len];
                            System.arraycopy(all, pos[0], e, 0, len);
                            entries.add(e);
                        }
                        pos[0] += len;
                    }
                    default -> throw new IllegalArgumentException("wire type " + wire);
                }
            }
            return entries;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static MethodDescriptor<List<byte[]>, List<byte[]>> method(String service, String method) {
        return MethodDescriptor.<List<byte[]>, List<byte[]>>newBuilder()
                .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
                .setRequestMarshaller(INSTANCE)
                .setResponseMarshaller(INSTANCE)
                .build();
    }

    private static void writeVarint(ByteArrayOutputStream out, int v) {
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
    }

    private static long readVarint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b[pos[0]++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
        }
    }
}

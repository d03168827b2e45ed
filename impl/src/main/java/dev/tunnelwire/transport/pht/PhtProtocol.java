package dev.tunnelwire.transport.pht;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

import java.security.SecureRandom;

/**
 * PHT wire constants and line coding (gost {@code x/internal/util/pht}, v0.8.1).
 *
 * <pre>
 * authorize: GET /authorize            -> 200 text/plain "token=&lt;20 chars [0-9a-v]&gt;"
 * pull:      GET /pull?token=T         -> 200 chunked: ( base64std(chunk) "\n" )*  then "\n" (idle) or nothing (EOF)
 * push:      POST /push?token=T  body = base64std(chunk) "\n"   -> 200, Content-Length: 0
 *            empty body (no "\n")     -> close
 * </pre>
 */
final class PhtProtocol {

    static final String TOKEN_PREFIX = "token=";
    static final String TOKEN_PARAM = "token";
    /** gost clients read lines with a 64 KiB bufio.Scanner. */
    static final int MAX_LINE = 64 * 1024;
    static final String NOT_FOUND_BODY = "404 page not found\n";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final char[] XID_ALPHABET = "0123456789abcdefghijklmnopqrstuv".toCharArray();

    private PhtProtocol() {
    }

    /** A fresh 20-character token in xid's alphabet (base32hex, lower case), like gost's {@code xid.New()}. */
    static String newToken() {
        char[] c = new char[20];
        for (int i = 0; i < c.length; i++) {
            c[i] = XID_ALPHABET[RANDOM.nextInt(XID_ALPHABET.length)];
        }
        return new String(c);
    }

    /** Tokens we accept from clients that made them themselves (gost nightly): 1 to 64 URL-safe characters. */
    static boolean isPlausibleToken(String t) {
        return t != null && !t.isEmpty() && t.length() <= 64 && t.chars().allMatch(
                ch -> ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '-'
                        || ch == '_');
    }

    /**
     * {@code base64std(data) + "\n"}; does not consume or release {@code data}. Uses one bulk read of {@code data}
     * and the JDK's (intrinsified) encoder rather than per-byte buffer access.
     */
    static ByteBuf encodeLine(ByteBufAllocator alloc, ByteBuf data) {
        byte[] raw = ByteBufUtil.getBytes(data, data.readerIndex(), data.readableBytes(), false);
        byte[] b64 = ENCODER.encode(raw);
        ByteBuf out = alloc.buffer(b64.length + 1);
        return out.writeBytes(b64).writeByte('\n');
    }

    /**
     * Decodes one line (without its newline; a trailing {@code \r} is ignored) as standard base64, padding optional.
     *
     * @throws IllegalArgumentException when the line is not base64
     */
    static ByteBuf decodeLine(ByteBufAllocator alloc, ByteBuf line) {
        int len = line.readableBytes();
        if (len > 0 && line.getByte(line.readerIndex() + len - 1) == '\r') {
            len--;
        }
        byte[] b64 = ByteBufUtil.getBytes(line, line.readerIndex(), len, false);
        byte[] raw;
        try {
            raw = DECODER.decode(b64);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid base64 in PHT line: " + e.getMessage(), e);
        }
        return alloc.buffer(raw.length).writeBytes(raw);
    }

    private static final java.util.Base64.Encoder ENCODER = java.util.Base64.getEncoder();
    private static final java.util.Base64.Decoder DECODER = java.util.Base64.getDecoder();
}

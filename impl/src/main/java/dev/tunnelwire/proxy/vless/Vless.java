package dev.tunnelwire.proxy.vless;

import dev.tunnelwire.proxy.Destination;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * VLESS (version 0, no flow) wire format, as sing-box 1.13 and Xray 26 speak it:
 * <pre>
 * request : 00 | UUID(16) | addons-len(1)=00 | cmd(1)=01 TCP | port(2, BE) | atyp(1) | addr | payload...
 *           atyp 01 IPv4 (4 bytes), 02 domain (1-byte length + name), 03 IPv6 (16 bytes)
 * response: 00 | addons-len(1) | addons, in practice 00 00, before the first downstream bytes
 * </pre>
 */
public final class Vless {

    static final int VERSION = 0;
    static final int CMD_TCP = 1;
    static final int CMD_UDP = 2;
    static final int CMD_MUX = 3;
    static final int ATYP_IPV4 = 1;
    static final int ATYP_DOMAIN = 2;
    static final int ATYP_IPV6 = 3;

    private Vless() {
    }

    /**
     * The user id for {@code id}: the UUID itself when {@code id} is one, otherwise UUIDv5 of {@code id} in the nil
     * namespace (SHA-1 over 16 zero bytes followed by the UTF-8 name), as sing-box and Xray map non-UUID ids.
     */
    public static UUID userId(String id) {
        try {
            if (id.length() == 36) {
                return UUID.fromString(id);
            }
        } catch (IllegalArgumentException e) {
            // not a UUID: fall through
        }
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(new byte[16]);
            byte[] h = sha1.digest(id.getBytes(StandardCharsets.UTF_8));
            h[6] = (byte) ((h[6] & 0x0f) | 0x50);
            h[8] = (byte) ((h[8] & 0x3f) | 0x80);
            ByteBuffer bb = ByteBuffer.wrap(h, 0, 16);
            return new UUID(bb.getLong(), bb.getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] bytes(UUID id) {
        return ByteBuffer.allocate(16).putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits())
                .array();
    }

    /** The TCP request header for {@code dst}. */
    static ByteBuf request(ByteBufAllocator alloc, UUID user, Destination dst) {
        ByteBuf b = alloc.buffer(22 + 1 + 255);
        b.writeByte(VERSION).writeBytes(bytes(user)).writeByte(0).writeByte(CMD_TCP).writeShort(dst.port());
        byte[] ip = dst.ipBytes();
        if (ip != null) {
            b.writeByte(ip.length == 4 ? ATYP_IPV4 : ATYP_IPV6).writeBytes(ip);
        } else {
            byte[] host = dst.host().getBytes(StandardCharsets.UTF_8);
            b.writeByte(ATYP_DOMAIN).writeByte(host.length).writeBytes(host);
        }
        return b;
    }
}

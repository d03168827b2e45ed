package dev.tunnelwire.proxy.relay;

import dev.tunnelwire.proxy.Destination;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * GOST relay protocol v1 (go-gost/relay v0.5.0), all integers big-endian:
 * <pre>
 * Request : VER(1)=01 | CMD(1) | FEALEN(2) | FEATURES
 * Response: VER(1)=01 | STATUS(1) | FEALEN(2) | FEATURES
 * Feature : TYPE(1) | LEN(2) | DATA(LEN)
 *   01 UserAuth  ULEN(1) USER PLEN(1) PASS
 *   02 Addr      ATYP(1: 01 IPv4, 03 domain, 04 IPv6) ADDR PORT(2)
 *   04 Network   u16 (0 tcp, 1 udp)
 * </pre>
 */
final class RelayProtocol {

    static final int VERSION = 0x01;
    static final int HEADER_LENGTH = 4;

    static final int CMD_CONNECT = 0x01;
    static final int CMD_BIND = 0x02;
    static final int CMD_ASSOCIATE = 0x03;
    static final int FLAG_UDP = 0x80;

    static final int FEATURE_USER_AUTH = 0x01;
    static final int FEATURE_ADDR = 0x02;
    static final int FEATURE_TUNNEL = 0x03;
    static final int FEATURE_NETWORK = 0x04;

    static final int ATYP_IPV4 = 0x01;
    static final int ATYP_DOMAIN = 0x03;
    static final int ATYP_IPV6 = 0x04;

    static final int NETWORK_TCP = 0;

    static final int STATUS_OK = 0x00;
    static final int STATUS_BAD_REQUEST = 0x01;
    static final int STATUS_UNAUTHORIZED = 0x02;
    static final int STATUS_FORBIDDEN = 0x03;
    static final int STATUS_TIMEOUT = 0x04;
    static final int STATUS_SERVICE_UNAVAILABLE = 0x05;
    static final int STATUS_HOST_UNREACHABLE = 0x06;
    static final int STATUS_NETWORK_UNREACHABLE = 0x07;
    static final int STATUS_INTERNAL_SERVER_ERROR = 0x08;

    private RelayProtocol() {
    }

    static String statusText(int status) {
        return switch (status) {
            case STATUS_OK -> "OK";
            case STATUS_BAD_REQUEST -> "bad request";
            case STATUS_UNAUTHORIZED -> "unauthorized";
            case STATUS_FORBIDDEN -> "forbidden";
            case STATUS_TIMEOUT -> "timeout";
            case STATUS_SERVICE_UNAVAILABLE -> "service unavailable";
            case STATUS_HOST_UNREACHABLE -> "host unreachable";
            case STATUS_NETWORK_UNREACHABLE -> "network unreachable";
            case STATUS_INTERNAL_SERVER_ERROR -> "internal server error";
            default -> "status " + status;
        };
    }

    /** A response without features. */
    static ByteBuf response(ByteBufAllocator alloc, int status) {
        return alloc.buffer(HEADER_LENGTH).writeByte(VERSION).writeByte(status).writeShort(0);
    }

    /** A CONNECT request: features UserAuth (when {@code user != null}) then Addr, in gost's order. */
    static ByteBuf connectRequest(ByteBufAllocator alloc, Destination dst, String user, String password) {
        ByteBuf b = alloc.buffer(64);
        b.writeByte(VERSION).writeByte(CMD_CONNECT).writeShort(0);
        if (user != null) {
            byte[] u = user.getBytes(StandardCharsets.UTF_8);
            byte[] p = password == null ? new byte[0] : password.getBytes(StandardCharsets.UTF_8);
            if (u.length > 255 || p.length > 255) {
                b.release();
                throw new IllegalArgumentException("relay user name and password are limited to 255 bytes");
            }
            b.writeByte(FEATURE_USER_AUTH).writeShort(2 + u.length + p.length)
                    .writeByte(u.length).writeBytes(u).writeByte(p.length).writeBytes(p);
        }
        b.writeByte(FEATURE_ADDR);
        int lenIndex = b.writerIndex();
        b.writeShort(0);
        byte[] ip = dst.ipBytes();
        if (ip != null) {
            b.writeByte(ip.length == 4 ? ATYP_IPV4 : ATYP_IPV6).writeBytes(ip);
        } else {
            byte[] host = dst.host().getBytes(StandardCharsets.UTF_8);
            b.writeByte(ATYP_DOMAIN).writeByte(host.length).writeBytes(host);
        }
        b.writeShort(dst.port());
        b.setShort(lenIndex, b.writerIndex() - lenIndex - 2);
        b.setShort(2, b.writerIndex() - HEADER_LENGTH);
        return b;
    }
}

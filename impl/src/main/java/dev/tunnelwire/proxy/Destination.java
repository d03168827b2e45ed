package dev.tunnelwire.proxy;

import io.netty.util.NetUtil;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Where a proxied connection goes: a host (domain name or IP literal, IPv6 without brackets) and a TCP port.
 *
 * <p>Protocols encode a destination as an IP address when {@link #host()} is an IP literal and as a domain name
 * otherwise (at most 255 bytes).
 *
 * @param host domain name or IP literal, never empty
 * @param port 0-65535 (0 only where a protocol allows it)
 */
public record Destination(String host, int port) {

    public Destination {
        Objects.requireNonNull(host, "host");
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("empty host");
        }
        if (!isIpLiteral(host) && host.getBytes(StandardCharsets.UTF_8).length > 255) {
            throw new IllegalArgumentException("domain name longer than 255 bytes");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    public static Destination of(String host, int port) {
        return new Destination(host, port);
    }

    /** {@code host:port}, {@code [v6]:port}; {@link IllegalArgumentException} when malformed. */
    public static Destination parse(String authority) {
        int colon = authority.lastIndexOf(':');
        if (colon <= 0 || colon == authority.length() - 1) {
            throw new IllegalArgumentException("expected host:port, got '" + authority + "'");
        }
        String host = authority.substring(0, colon);
        if (host.indexOf(':') >= 0 && !(host.startsWith("[") && host.endsWith("]"))) {
            throw new IllegalArgumentException("IPv6 address must be bracketed: '" + authority + "'");
        }
        try {
            return new Destination(host, Integer.parseInt(authority.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + authority + "'");
        }
    }

    /** The destination of an address (its literal IP when resolved, else its host name). */
    public static Destination of(InetSocketAddress address) {
        String host = address.isUnresolved() || address.getAddress() == null ? address.getHostString()
                : NetUtil.toAddressString(address.getAddress());
        return new Destination(host, address.getPort());
    }

    public static boolean isIpLiteral(String host) {
        return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
    }

    /** Whether {@link #host()} is an IPv4 or IPv6 literal. */
    public boolean isIp() {
        return isIpLiteral(host);
    }

    /** The 4 or 16 address bytes when {@link #isIp()}, else {@code null}. */
    public byte[] ipBytes() {
        return NetUtil.createByteArrayFromIpAddressString(host);
    }

    /** An address for connecting: resolved from the literal when {@link #isIp()}, unresolved otherwise. */
    public InetSocketAddress toSocketAddress() {
        byte[] ip = ipBytes();
        if (ip != null) {
            try {
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return InetSocketAddress.createUnresolved(host, port);
    }

    /** {@code host:port}, IPv6 in brackets. */
    public String authority() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return authority();
    }
}

package dev.tunnelwire.internal;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.net.SocketAddress;

/** Per-connection facts shared by transports. */
public final class Connections {

    /** The client address learned from a PROXY protocol header or a trusted X-Forwarded-For. */
    public static final AttributeKey<SocketAddress> CLIENT_ADDRESS =
            AttributeKey.valueOf("dev.tunnelwire.clientAddress");

    private Connections() {
    }

    /**
     * The client's address for {@code ch}: the PROXY/X-Forwarded-For address recorded on the channel or one of its
     * parents (HTTP/2 streams), else the TCP peer address.
     */
    public static SocketAddress clientAddress(Channel ch) {
        for (Channel c = ch; c != null; c = c.parent()) {
            SocketAddress a = c.attr(CLIENT_ADDRESS).get();
            if (a != null) {
                return a;
            }
        }
        return root(ch).remoteAddress();
    }

    /** The outermost channel (the TCP connection) under {@code ch}. */
    public static Channel root(Channel ch) {
        Channel c = ch;
        while (c.parent() != null && !(c.parent() instanceof io.netty.channel.ServerChannel)) {
            c = c.parent();
        }
        return c;
    }
}

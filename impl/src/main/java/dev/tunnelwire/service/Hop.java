package dev.tunnelwire.service;

import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.proxy.Connector;
import dev.tunnelwire.proxy.Destination;

import java.util.Objects;

/**
 * One hop of a {@link Chain}: a transport dialer and the proxy protocol spoken inside its tunnels.
 *
 * @param name      for logs
 * @param address   the server the dialer connects to; the previous hop's connector asks its proxy for this address
 * @param dialer    the transport (owned by the hop: {@link Chain#close()} closes it)
 * @param connector the proxy protocol client
 */
public record Hop(String name, Destination address, TunnelDialer dialer, Connector connector) {

    public Hop {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(dialer, "dialer");
        Objects.requireNonNull(connector, "connector");
    }
}

package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.interop.Cell.Direction;
import dev.tunnelwire.interop.CellDef.Entry;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static dev.tunnelwire.interop.Cell.Direction.INBOUND;
import static dev.tunnelwire.interop.Cell.Direction.OUTBOUND;
import static dev.tunnelwire.interop.Role.CA;
import static dev.tunnelwire.interop.Role.CERT;
import static dev.tunnelwire.interop.Role.F;
import static dev.tunnelwire.interop.Role.KEY;
import static dev.tunnelwire.interop.Role.local;
import static dev.tunnelwire.interop.Role.pki;

/**
 * The table of cells. Adding a transport is a few lines here: one call per peer and direction with the peer's
 * transport settings (gost metadata, Xray {@code streamSettings}, sing-box {@code transport}) and our side's
 * gost-style parameters.
 */
final class Matrix {

    /**
     * Xray v26.7.28: a {@code tunnel} inbound over raw TCP with {@code security: tls} answers in plaintext. The
     * handshake completes and the uplink is decrypted, but the downlink is spliced around TLS: dokodemo marks every
     * inbound splice-capable ({@code proxy/dokodemo/dokodemo.go:140 inbound.CanSpliceCopy = 1}), freedom's response
     * path checks only its own outbound conn ({@code proxy/freedom/freedom.go:433-440}), and
     * {@code proxy.CopyRawConnIfExist} unwraps the inbound {@code *tls.Conn} to the raw socket
     * ({@code proxy/proxy.go:691 UnwrapRawConn}). The transcript of this cell shows the TLS handshake, then the echo
     * arriving as plaintext. Related report of plaintext mixed into TLS with dokodemo + freedom:
     * https://github.com/XTLS/Xray-core/issues/3529.
     */
    static final String XRAY_TUNNEL_TLS_SPLICE = "Xray tunnel (dokodemo) inbound over raw TCP+TLS sends the downlink "
            + "in plaintext: dokodemo.go:140 sets CanSpliceCopy=1 whatever the security, and freedom's splice "
            + "(freedom.go:433-440, proxy.go:691 UnwrapRawConn strips *tls.Conn) writes the target's bytes to the raw "
            + "socket; related: https://github.com/XTLS/Xray-core/issues/3529";

    /**
     * Xray v26.7.28 HTTPUpgrade server: the request head is parsed through a {@code bufio.Reader}
     * ({@code transport/internet/httpupgrade/hub.go:51-53}) but the raw {@code conn} is handed on
     * ({@code hub.go:96}), so bytes pipelined behind the head ({@code ?ed=}) that arrived in the same read are
     * discarded. Over TLS each record is read separately and our dialer sends the payload in a record of its own, so
     * only cleartext loses it (intermittently: whenever head and payload are coalesced). peer-xray.md §2.5.
     */
    static final String XRAY_HU_ED_PLAIN_LOSS = "Xray HTTPUpgrade server drops early data pipelined behind the "
            + "request head on cleartext: hub.go:51-53 parses through a bufio.Reader, hub.go:96 hands on the raw conn, "
            + "so buffered payload bytes are lost (peer-xray.md §2.5); the first ping never reaches the target";

    private Matrix() {
    }

    static List<CellDef> cells() {
        List<CellDef> l = new ArrayList<>();
        for (boolean tls : new boolean[] {false, true}) {
            // gost forward handler: the transport's byte stream goes to a fixed target (peer-gost.md §10)
            gostForward(l, "tcp", tls, tls ? "tls" : "tcp", Map.of(), OurSide.raw("tcp", Map.of()));
            gostForward(l, "pht", tls, tls ? "phts" : "pht", Map.of(), OurSide.raw("pht", Map.of()));

            // Xray tunnel (dokodemo) inbound / freedom outbound with streamSettings: raw bytes over the transport
            // (peer-xray.md §7.2, §8.4)
            CellDef xrayRawOut = xrayTunnelServer("tcp", "tunnel", tls, s -> s.put("network", "raw"),
                    OurSide.raw("tcp", Map.of()));
            l.add(tls ? xrayRawOut.knownBug(XRAY_TUNNEL_TLS_SPLICE) : xrayRawOut);
            l.add(xrayTunnelClient("tcp", "tunnel", tls, s -> s.put("network", "raw"), OurSide.raw("tcp", Map.of())));
            xrayTunnel(l, "httpupgrade", "tunnel", tls, hu("/hu"), OurSide.raw("httpupgrade", Map.of("path", "/hu")),
                    hu("/hu"), OurSide.raw("httpupgrade", Map.of("path", "/hu")));
            // Xray's HTTPUpgrade ?ed=2048: the first payload pipelined right behind the request head
            CellDef huEdOut = xrayTunnelServer("httpupgrade", "tunnel-ed2048", tls, hu("/hu"),
                    OurSide.raw("httpupgrade", Map.of("path", "/hu?ed=2048")));
            l.add(tls ? huEdOut : huEdOut.knownBug(XRAY_HU_ED_PLAIN_LOSS));
            l.add(xrayTunnelClient("httpupgrade", "tunnel-ed2048", tls, hu("/hu?ed=2048"),
                    OurSide.raw("httpupgrade", Map.of("path", "/hu"))));
        }
        return l;
    }

    static Consumer<ObjectNode> ws(String path) {
        return s -> s.put("network", "ws").putObject("wsSettings").put("path", path);
    }

    static Consumer<ObjectNode> hu(String path) {
        return s -> s.put("network", "httpupgrade").putObject("httpupgradeSettings").put("path", path);
    }

    /** Both directions of a gost forward cell. */
    static void gostForward(List<CellDef> l, String transport, boolean tls, String type, Map<String, ?> md,
                            OurSide ours) {
        l.add(gostServer(transport, "forward", tls, type, md, ours));
        l.add(gostClient(transport, "forward", tls, type, md, ours));
    }

    /** Both directions of an Xray raw tunnel cell. */
    static void xrayTunnel(List<CellDef> l, String transport, String variant, boolean tls,
                           Consumer<ObjectNode> serverStream, OurSide oursOut,
                           Consumer<ObjectNode> clientStream, OurSide oursIn) {
        l.add(xrayTunnelServer(transport, variant, tls, serverStream, oursOut));
        l.add(xrayTunnelClient(transport, variant, tls, clientStream, oursIn));
    }

    // ---------------------------------------------------------------- gost

    /**
     * Outbound: our dialer → gost service {@code <type>} with the forward handler → echo target.
     * ({@code gost -L "<type>://127.0.0.1:P/ECHO?<md>"}.)
     */
    static CellDef gostServer(String transport, String variant, boolean tls, String type, Map<String, ?> md,
                              OurSide ours) {
        Cell cell = new Cell("gost", transport, variant, OUTBOUND, tls);
        return new CellDef(cell, "gost-server", (role, p) -> {
            ObjectNode svc = ((Role.Gost) role).services.addObject()
                    .put("name", cell.tag()).put("addr", local(p.peer()));
            svc.putObject("handler").put("type", "forward");
            ObjectNode listener = svc.putObject("listener").put("type", type);
            listener.set("metadata", Role.JSON.valueToTree(md));
            if (tls) {
                listener.putObject("tls").put("certFile", pki(CERT)).put("keyFile", pki(KEY));
            }
            svc.putObject("forwarder").putArray("nodes").addObject()
                    .put("name", "echo").put("addr", local(p.echo().getPort()));
        }, ours, null, null, null);
    }

    /**
     * Inbound: gost tcp service (entry) → chain with the forward connector over dialer {@code <type>} → our listener
     * → echo target. ({@code gost -L tcp://127.0.0.1:E/ECHO -F "forward+<type>://127.0.0.1:OURS?<md>"}; the client
     * verifies our certificate against the test CA.)
     */
    static CellDef gostClient(String transport, String variant, boolean tls, String type, Map<String, ?> md,
                              OurSide ours) {
        Cell cell = new Cell("gost", transport, variant, INBOUND, tls);
        return new CellDef(cell, "gost-client", (role, p) -> {
            Role.Gost g = (Role.Gost) role;
            String chain = "chain-" + cell.tag();
            ObjectNode svc = g.services.addObject().put("name", cell.tag()).put("addr", local(p.peer()));
            svc.putObject("handler").put("type", "tcp").put("chain", chain);
            svc.putObject("listener").put("type", "tcp");
            svc.putObject("forwarder").putArray("nodes").addObject()
                    .put("name", "echo").put("addr", local(p.echo().getPort()));
            ObjectNode node = g.chains.addObject().put("name", chain).putArray("hops").addObject()
                    .put("name", "hop-" + cell.tag()).putArray("nodes").addObject()
                    .put("name", "node-" + cell.tag()).put("addr", local(p.ours()));
            node.putObject("connector").put("type", "forward");
            ObjectNode dialer = node.putObject("dialer").put("type", type);
            dialer.set("metadata", Role.JSON.valueToTree(md));
            if (tls) {
                // verified against the test CA for the node's host, 127.0.0.1 (an IP SAN of the test certificate); a
                // serverName other than the dialed host breaks gost's grpc dialer (grpc-go: "ClientConn's authority
                // from transport creds ... and dial option ... don't match")
                dialer.putObject("tls").put("secure", true).put("caFile", pki(CA));
            }
        }, ours, Entry.TCP, null, null);
    }

    // ---------------------------------------------------------------- Xray

    /**
     * Outbound: our dialer → Xray {@code tunnel} inbound with the given streamSettings → echo target (raw bytes, no
     * proxy protocol).
     */
    static CellDef xrayTunnelServer(String transport, String variant, boolean tls, Consumer<ObjectNode> stream,
                                    OurSide ours) {
        Cell cell = new Cell("xray", transport, variant, OUTBOUND, tls);
        return new CellDef(cell, "xray-server", (role, p) -> {
            ObjectNode in = ((Role.Xray) role).inbounds.addObject()
                    .put("tag", cell.tag()).put("listen", "127.0.0.1").put("port", p.peer()).put("protocol", "tunnel");
            in.putObject("settings").put("address", "127.0.0.1").put("port", p.echo().getPort())
                    .put("network", "tcp");
            in.set("streamSettings", xrayStream(stream, tls, true));
        }, ours, null, null, null);
    }

    /**
     * Inbound: Xray {@code tunnel} inbound (entry) → {@code freedom} outbound redirected to our listener with the given
     * streamSettings (freedom dials through the configured transport, so the transport carries the raw bytes) → our
     * listener → echo target.
     */
    static CellDef xrayTunnelClient(String transport, String variant, boolean tls, Consumer<ObjectNode> stream,
                                    OurSide ours) {
        Cell cell = new Cell("xray", transport, variant, INBOUND, tls);
        return new CellDef(cell, "xray-client", (role, p) -> {
            Role.Xray x = (Role.Xray) role;
            String in = "in-" + cell.tag();
            String out = "out-" + cell.tag();
            x.inbounds.addObject().put("tag", in).put("listen", "127.0.0.1").put("port", p.peer())
                    .put("protocol", "tunnel").putObject("settings").put("address", "127.0.0.1")
                    .put("port", p.echo().getPort()).put("network", "tcp");
            ObjectNode o = x.outbounds.addObject().put("tag", out).put("protocol", "freedom");
            o.putObject("settings").put("redirect", local(p.ours()));
            o.set("streamSettings", xrayStream(stream, tls, false));
            x.rules.addObject().put("type", "field").put("outboundTag", out).putArray("inboundTag").add(in);
        }, ours, Entry.TCP, null, null);
    }

    /**
     * Xray streamSettings: the transport part from {@code stream}, plus TLS with the test PKI (server: the
     * certificate; client: {@code serverName localhost} verified against the test CA, Go TLS stack by default uTLS).
     */
    static ObjectNode xrayStream(Consumer<ObjectNode> stream, boolean tls, boolean server) {
        ObjectNode s = F.objectNode();
        stream.accept(s);
        s.put("security", tls ? "tls" : "none");
        if (tls) {
            ObjectNode t = s.putObject("tlsSettings");
            if (server) {
                t.putArray("certificates").addObject().put("certificateFile", pki(CERT)).put("keyFile", pki(KEY));
            } else {
                t.put("serverName", "localhost");
                t.putArray("certificates").addObject().put("usage", "verify").put("certificateFile", pki(CA));
            }
        }
        return s;
    }

    static Direction[] both() {
        return Direction.values();
    }
}

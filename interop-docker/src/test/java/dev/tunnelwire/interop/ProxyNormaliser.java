package dev.tunnelwire.interop;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tunnelwire.conformance.Http1;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static dev.tunnelwire.interop.Role.F;

/**
 * Normalises the proxy protocols on raw TCP (SOCKS5, HTTP CONNECT, relay, VLESS): exchanges of bytes with the
 * application's address as placeholders, HTTP CONNECT heads parsed, a SOCKS5 bound address not compared.
 */
final class ProxyNormaliser extends FixtureNormaliser {

    ProxyNormaliser(RecordedPair pair, Recording rec) {
        super(pair, rec);
    }

    // ---------------------------------------------------------------- proxy protocols

    /** One exchange: consecutive reads of one direction. */
    private record Turn(boolean up, byte[] bytes) {
    }

    @Override
    void fill(ObjectNode server, ObjectNode client) {
        List<Turn> turns = new ArrayList<>();
        for (Transcript.Entry e : rec.entries()) {
            if (e.data() == null) {
                continue;
            }
            boolean u = e.dir() == Transcript.Dir.TO_SERVER;
            if (!turns.isEmpty() && turns.get(turns.size() - 1).up() == u) {
                Turn t = turns.remove(turns.size() - 1);
                turns.add(new Turn(u, concat(t.bytes(), e.data())));
            } else {
                turns.add(new Turn(u, e.data()));
            }
        }
        if (!endsWith(up, Recording.UP) || !endsWith(down, Recording.DOWN)) {
            throw new IllegalStateException("the capture does not end with the application's exchange");
        }
        int lastUp = -1;
        int lastDown = -1;
        for (int i = 0; i < turns.size(); i++) {
            if (turns.get(i).up()) {
                lastUp = i;
            } else {
                lastDown = i;
            }
        }
        if (lastDown < lastUp) {
            throw new IllegalStateException("the server's answer came before the client's payload");
        }
        boolean socks = pair.transport().equals("socks5");

        // ---- server role: destination = the engine's application
        ArrayNode s = steps(server);
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (t.up()) {
                int head = httpHead(t.bytes());
                if (head > 0) {
                    s.add(sendHttp(t.bytes(), head, true));
                    if (head < t.bytes().length) {
                        s.addObject().put("op", "send").set("bytes",
                                appPlaceholders(Arrays.copyOfRange(t.bytes(), head, t.bytes().length)));
                    }
                } else {
                    s.addObject().put("op", "send").set("bytes", appPlaceholders(t.bytes()));
                }
                if (i == lastUp) {
                    s.addObject().put("op", "expect_deliver").put("data", "hello");
                }
            } else {
                if (i == lastDown) {
                    s.addObject().put("op", "app_write").put("data", "world");
                }
                int head = httpHead(t.bytes());
                if (head > 0) {
                    Http1.Message m = Http1.parseHead(Arrays.copyOf(t.bytes(), head - 4));
                    ObjectNode e = s.addObject().put("op", "expect");
                    e.putObject("http").put("status", m.status()).put("bodyIsStream", true);
                    e.put("note", "The " + pair.serverPeer() + " server answered " + m.startLine() + " (its other "
                            + "headers, e.g. Proxy-Agent, name the implementation and are not compared).");
                    if (head < t.bytes().length) {
                        s.addObject().put("op", "expect").set("bytes",
                                appPlaceholders(Arrays.copyOfRange(t.bytes(), head, t.bytes().length)));
                    }
                    continue;
                }
                ObjectNode e = s.addObject().put("op", "expect");
                if (socks && isSocksReply(t.bytes())) {
                    String hex = HexFormat.of().formatHex(t.bytes(), 0, 4) + " ???????? ????"
                            + HexFormat.of().formatHex(t.bytes(), 10, t.bytes().length);
                    e.put("hexPattern", hex.strip());
                    e.put("note", "SOCKS5 success reply; the bound address (the server's source address) is not "
                            + "compared.");
                } else {
                    e.set("bytes", appPlaceholders(t.bytes()));
                }
            }
        }
        tidy(server);

        // ---- client role: the application asks for a fixed destination
        ArrayNode c = steps(client);
        Turn helloTurn = turns.get(lastUp);
        boolean glued = helloTurn.bytes().length > Recording.UP.length;
        ObjectNode open = c.addObject().put("op", "app_open").put("destination", FIXED_HOST + ":" + FIXED_PORT);
        if (glued) {
            open.put("data", "hello");
            open.put("note", "Recorded: the " + pair.clientPeer() + " client sent its request together with the "
                    + "first payload.");
        }
        for (int i = 0; i < turns.size(); i++) {
            Turn t = turns.get(i);
            if (t.up()) {
                if (i == lastUp && !glued) {
                    c.addObject().put("op", "expect_open");
                    c.addObject().put("op", "app_write").put("data", "hello");
                }
                byte[] b = fixedAddress(t.bytes());
                int head = httpHead(b);
                if (head > 0) {
                    Http1.Message m = Http1.parseHead(Arrays.copyOf(b, head - 4));
                    ObjectNode e = c.addObject().put("op", "expect");
                    ObjectNode h = e.putObject("http").put("method", m.method()).put("target", m.target());
                    ObjectNode hh = h.putObject("headers");
                    for (String[] kv : m.headers()) {
                        if (kv[0].equalsIgnoreCase("Host") || kv[0].equalsIgnoreCase("Proxy-Authorization")) {
                            hh.put(kv[0], kv[1]);
                        }
                    }
                    h.put("bodyIsStream", true);
                    e.put("note", "The " + pair.clientPeer() + " client's request: " + m.startLine() + " with "
                            + String.join(", ", names(hh)) + " (User-Agent and the like are not compared).");
                    if (head < b.length) {
                        c.addObject().put("op", "expect").set("bytes", data(Arrays.copyOfRange(b, head, b.length)));
                    }
                } else if (socks && i == 0 && b.length > 3 && b[0] == 5 && b.length == 2 + b[1]
                        && turns.size() > 1 && turns.get(1).bytes().length == 2) {
                    // a SOCKS5 greeting: the methods offered are a set; offering only the one the server chose
                    // is as good
                    ArrayNode alts = c.addObject().put("op", "expect").put("note", "The " + pair.clientPeer()
                            + " client offered these methods; offering only the method the server chose (0x"
                            + String.format("%02x", turns.get(1).bytes()[1]) + ") is equivalent.")
                            .putArray("bytesOneOf");
                    alts.add(data(b));
                    alts.add(data(new byte[] {5, 1, turns.get(1).bytes()[1]}));
                } else {
                    c.addObject().put("op", "expect").set("bytes", data(b));
                }
            } else {
                byte[] b = t.bytes();
                if (socks && isSocksReply(b)) {
                    vars(client).putObject("bound").put("encode", "hex").putObject("of").put("random", 2);
                    String hex = HexFormat.of().formatHex(b, 0, 8) + "${bound}"
                            + HexFormat.of().formatHex(b, 10, b.length);
                    c.addObject().put("op", "send").put("note", "The recorded reply; its bound port was the "
                            + "server's ephemeral source port, here a random one.").putObject("bytes")
                            .put("hex", hex);
                } else if (httpHead(b) > 0) {
                    int head = httpHead(b);
                    c.add(sendHttp(b, head, false));
                    if (head < b.length) {
                        c.addObject().put("op", "send").set("bytes", data(Arrays.copyOfRange(b, head, b.length)));
                    }
                } else {
                    c.addObject().put("op", "send").set("bytes", data(b));
                }
                if (i == lastDown) {
                    c.addObject().put("op", "expect_deliver").put("data", "world");
                }
            }
        }
        tidy(client);
    }

    /** The end of an HTTP/1 head at the start of {@code b} (HTTP CONNECT), or -1. */
    private int httpHead(byte[] b) {
        if (!pair.transport().equals("http_connect")) {
            return -1;
        }
        return headEnd(b, 0);
    }

    /** A {@code send http} step with the recorded head: header order and spelling kept, Date left out. */
    private ObjectNode sendHttp(byte[] b, int head, boolean placeholders) {
        Http1.Message m = Http1.parseHead(Arrays.copyOf(b, head - 4));
        String app = "127.0.0.1:" + rec.appPort();
        ObjectNode o = F.objectNode().put("op", "send");
        ObjectNode h = o.putObject("http");
        if (m.method() != null) {
            h.put("method", m.method()).put("target", m.target().replace(app, placeholders ? "${app.authority}"
                    : FIXED_HOST + ":" + FIXED_PORT));
        } else {
            h.put("status", m.status()).put("reason", m.reason());
        }
        h.put("version", m.version());
        ArrayNode l = h.putArray("headers");
        for (String[] kv : m.headers()) {
            if (!kv[0].equalsIgnoreCase("Date")) {
                l.addArray().add(kv[0]).add(PeerVaryingValues.headerValue(kv[0], kv[1].replace(app,
                        placeholders ? "${app.authority}" : FIXED_HOST + ":" + FIXED_PORT)));
            }
        }
        o.put("note", "The recorded " + (m.method() != null ? pair.clientPeer() + " client's request"
                : pair.serverPeer() + " server's response") + ", header order and spelling kept.");
        return o;
    }

    private static boolean isSocksReply(byte[] b) {
        return b.length >= 10 && b[0] == 5 && b[1] == 0 && b[2] == 0 && b[3] == 1;
    }
}

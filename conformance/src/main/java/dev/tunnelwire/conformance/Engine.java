package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;

/**
 * Replays one fixture against a {@link Target}: the engine plays the fake peer over a real loopback socket (a client
 * connecting to the server under test, or a server the client under test dials) and drives and observes the
 * implementation's application side. Step semantics: {@code fixtures/SCHEMA.md}.
 *
 * <p>Thread-safe: each {@link #run} call uses its own state.
 */
public final class Engine {

    /** Upper bound for one HTTP/1 head read from the implementation. */
    static final int MAX_HEAD = 64 * 1024;

    /** Runs {@code fixture} against {@code target}. */
    public CaseResult run(Fixture fixture, Target target) {
        WireLog log = new WireLog();
        long start = System.nanoTime();
        String skip = target.unsupported(fixture);
        if (skip != null) {
            return new CaseResult(fixture.id(), fixture, target.name(), CaseResult.Status.SKIPPED, -1, null, null,
                    null, skip, 0, log.entries());
        }
        Run run = new Run(fixture, target, log);
        try {
            run.execute();
            return result(fixture, target, log, start, CaseResult.Status.PASS, -1, null, null, null, null);
        } catch (StepFailed e) {
            return result(fixture, target, log, start, CaseResult.Status.FAIL, run.stepIndex, e.requirement,
                    e.expected, e.actual, e.getMessage());
        } catch (FixtureError e) {
            return result(fixture, target, log, start, CaseResult.Status.ERROR, run.stepIndex, null, null, null,
                    "fixture error: " + e.getMessage());
        } catch (Exception e) {
            log.note("engine exception: " + e);
            return result(fixture, target, log, start, CaseResult.Status.ERROR, run.stepIndex, null, null, null,
                    e.toString());
        } finally {
            run.close();
        }
    }

    private static CaseResult result(Fixture f, Target t, WireLog log, long start, CaseResult.Status s, int step,
                                     String req, String exp, String act, String msg) {
        return new CaseResult(f.id(), f, t.name(), s, step, req, exp, act, msg,
                (System.nanoTime() - start) / 1_000_000, log.entries());
    }

    /** A step's requirement was not met. */
    static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;
        final String requirement;
        final String expected;
        final String actual;

        StepFailed(String requirement, String expected, String actual) {
            super("Expected: " + expected + " / Actual: " + actual);
            this.requirement = requirement;
            this.expected = expected;
            this.actual = actual;
        }
    }

    /** The state of one case. */
    private static final class Run {
        final Fixture f;
        final Target target;
        final WireLog log;
        final Values values = new Values();
        final boolean serverRole;
        Target.Server server;
        Target.Client client;
        ServerSocket fakeServer;
        final Map<String, PeerSocket> conns = new java.util.LinkedHashMap<>();
        final Map<String, java.io.ByteArrayOutputStream> chunkBodies = new java.util.HashMap<>();
        PeerSocket peer;
        int unnamed;
        AppEndpoint app;
        H2 h2;
        int clientStream;
        int stepIndex = -1;
        JsonNode step;

        Run(Fixture f, Target target, WireLog log) {
            this.f = f;
            this.target = target;
            this.log = log;
            this.serverRole = f.role() == Fixture.Role.SERVER;
        }

        void execute() throws Exception {
            log.note("case " + f.id() + " (" + f.role().name().toLowerCase() + " under test) against "
                    + target.name());
            if (serverRole) {
                server = target.startServer(f, log);
                app = server.app();
                define("server", server.address());
                if (server.appAddress() != null) {
                    define("app", server.appAddress());
                }
                Socket s = new Socket();
                s.connect(server.address(), f.timeoutMs());
                peer = new PeerSocket(secure(s), log);
                conns.put("main", peer);
                log.note("engine connected from " + s.getLocalSocketAddress() + " to " + server.address());
            } else {
                fakeServer = bindFakeServer(target.fakeServerAddress(f));
                InetSocketAddress addr = (InetSocketAddress) fakeServer.getLocalSocketAddress();
                define("server", addr);
                client = target.startClient(f, addr, log);
                app = client.app();
                log.note("engine's fake server listens on " + addr);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = f.vars().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                values.put(e.getKey(), values.bytes(e.getValue()));
            }
            for (int i = 0; i < f.steps().size(); i++) {
                stepIndex = i;
                step = f.steps().get(i);
                execute(step);
            }
            stepIndex = -1;
        }

        static ServerSocket bindFakeServer(InetSocketAddress fixed) throws IOException {
            if (fixed == null) {
                return new ServerSocket(0, 8, InetAddress.getByName("127.0.0.1"));
            }
            ServerSocket ss = new ServerSocket();
            ss.setReuseAddress(true);
            long deadline = System.nanoTime() + 3_000_000_000L;
            while (true) {
                try {
                    ss.bind(fixed, 8);
                    return ss;
                } catch (java.net.BindException e) {
                    if (System.nanoTime() > deadline) {
                        ss.close();
                        throw e;
                    }
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        ss.close();
                        throw e;
                    }
                }
            }
        }

        /**
         * Wraps a connected or accepted socket in TLS when the side under test speaks TLS ({@link EngineTls});
         * {@code null} for an accepted probe connection that closed before its first byte.
         */
        Socket secure(Socket plain) throws IOException {
            JsonNode tls = EngineTls.of(f);
            if (tls == null) {
                return plain;
            }
            return serverRole ? EngineTls.client(plain, tls, f.timeoutMs(), log)
                    : EngineTls.server(plain, tls, f.timeoutMs(), log);
        }

        void define(String prefix, InetSocketAddress a) {
            String host = a.getAddress().getHostAddress();
            values.put(prefix + ".host", host);
            values.put(prefix + ".port", String.valueOf(a.getPort()));
            values.put(prefix + ".authority", (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort());
            values.put(prefix + ".port.hex", String.format("%04x", a.getPort()));
            values.put(prefix + ".ip.hex", HexFormat.of().formatHex(a.getAddress().getAddress()));
        }

        int timeout() {
            return step.has("withinMs") ? step.get("withinMs").asInt()
                    : step.has("timeoutMs") ? step.get("timeoutMs").asInt() : f.timeoutMs();
        }

        long deadline() {
            return System.nanoTime() + timeout() * 1_000_000L;
        }

        StepFailed fail(String expected, String actual) {
            String req = step.has("note") ? step.get("note").asText() : f.title();
            return new StepFailed(req, expected, actual);
        }

        /** The connection the current step names ({@code conn}, default {@code main}); opened or accepted on first use. */
        PeerSocket peer() throws Exception {
            String name = step == null ? "main" : step.path("conn").asText("main");
            PeerSocket p = conns.get(name);
            if (p == null) {
                if (serverRole) {
                    Socket s = new Socket();
                    s.connect(server.address(), f.timeoutMs());
                    p = new PeerSocket(secure(s), log);
                    log.note("engine opened connection '" + name + "' from " + s.getLocalSocketAddress());
                } else {
                    long deadline = deadline();
                    try {
                        Socket s;
                        Socket secured;
                        do { // a TLS client's probe connections (closed before a byte) are skipped
                            fakeServer.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                            s = fakeServer.accept();
                            secured = secure(s);
                        } while (secured == null);
                        p = new PeerSocket(secured, log);
                        log.note("engine accepted connection '" + name + "' from " + s.getRemoteSocketAddress());
                    } catch (SocketTimeoutException e) {
                        throw fail("the client under test connects within " + timeout() + " ms", "no connection");
                    }
                }
                conns.put(name, p);
            }
            peer = p;
            return p;
        }

        /**
         * Client role: waits for an HTTP/1 request matching {@code exp} on any connection (accepting new ones), and
         * names that connection {@code bindAs}. For transports whose requests race over several connections (PHT).
         */
        void expectHttpOnAnyConnection(JsonNode s) throws Exception {
            JsonNode exp = s.get("http");
            long deadline = deadline();
            byte[] crlf2 = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            while (true) {
                for (Map.Entry<String, PeerSocket> e : new java.util.ArrayList<>(conns.entrySet())) {
                    PeerSocket p = e.getValue();
                    int i = p.indexOf(crlf2);
                    if (i < 0) {
                        continue;
                    }
                    Http1.Message m = Http1.parseHead(p.peek(i + 4));
                    com.fasterxml.jackson.databind.node.ObjectNode headOnly = exp.deepCopy();
                    headOnly.remove(java.util.List.of("body", "bodyMatch"));
                    if (Http1.match(headOnly, m, values) == null) {
                        peer = p;
                        Http1.Message full = readHttp(p, deadline, exp);
                        String problem = Http1.match(exp, full, values);
                        if (problem != null) {
                            throw fail(exp.toString(), problem + " in " + full.describe());
                        }
                        String bind = s.path("bindAs").asText(e.getKey());
                        conns.remove(e.getKey());
                        conns.put(bind, p);
                        log.note("request " + m.startLine() + " arrived on connection '" + bind + "'");
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    StringBuilder sb = new StringBuilder();
                    conns.forEach((k, p) -> sb.append(" [").append(k).append(": ")
                            .append(PeerSocket.printable(p.peek(200))).append(']'));
                    throw fail("an HTTP request " + exp + " on any connection", "none within " + timeout() + " ms;"
                            + sb);
                }
                if (!serverRole) {
                    fakeServer.setSoTimeout(20);
                    try {
                        Socket sock = fakeServer.accept();
                        Socket secured = secure(sock);
                        if (secured == null) {
                            continue; // a probe connection
                        }
                        String name = "#" + (++unnamed);
                        conns.put(name, new PeerSocket(secured, log));
                        log.note("engine accepted connection '" + name + "' from " + sock.getRemoteSocketAddress());
                    } catch (SocketTimeoutException ignored) {
                        // none pending
                    }
                }
                for (PeerSocket p : conns.values()) {
                    p.readSome(System.nanoTime() + 20_000_000L);
                }
            }
        }

        /**
         * The stream a gun/HTTP/2 step means when it names none: 1 in the server role (the engine opens it); in the
         * client role, the stream of the first request HEADERS the client under test sent (its id is the client's
         * choice).
         */
        int defaultStream() {
            return serverRole || clientStream == 0 ? 1 : clientStream;
        }

        H2 h2() {
            if (h2 == null) {
                h2 = new H2();
            }
            return h2;
        }

        String state() {
            if (peer == null) {
                return "";
            }
            String s = peer.buffered() > 0 ? " (received so far: " + PeerSocket.printable(peer.peek(512)) + ")" : "";
            return s + (peer.end() == PeerSocket.End.OPEN ? "" : " [connection " + peer.end() + "]");
        }

        void execute(JsonNode s) throws Exception {
            String op = s.get("op").asText();
            switch (op) {
                case "send" -> send(s);
                case "expect" -> expect(s);
                case "expect_reject" -> expectReject(s);
                case "expect_close" -> expectClose(s);
                case "expect_silence" -> expectSilence(s);
                case "expect_tunnel", "expect_open" -> expectTunnel();
                case "expect_open_fails" -> expectOpenFails();
                case "expect_no_tunnel" -> expectNoTunnel(s);
                case "expect_deliver" -> expectDeliver(s);
                case "expect_app_eof" -> {
                    if (!app.awaitEof(timeout())) {
                        throw fail("the application sees the end of the tunnel's input within " + timeout() + " ms",
                                "input still open");
                    }
                    if (s.path("nothingDelivered").asBoolean(false) && app.pending().length > 0) {
                        throw fail("no (more) data before the end", "delivered " + hexAndText(app.pending()));
                    }
                }
                case "expect_app_closed" -> {
                    if (!app.awaitClosed(timeout())) {
                        throw fail("the tunnel is closed within " + timeout() + " ms", "still open");
                    }
                }
                case "app_open" -> {
                    if (s.has("destination")) {
                        app.destination(values.interpolate(s.get("destination").asText()));
                    }
                    log.app("opens a tunnel" + (s.has("destination") ? " to " + app.destination() : ""));
                    app.open(values.bytes(s.get("data")));
                }
                case "app_write" -> app.write(values.bytes(s.get("data")));
                case "app_shutdown_output" -> app.shutdownOutput();
                case "app_close" -> {
                    log.app("closes the tunnel");
                    app.close();
                }
                case "accept" -> peer();
                case "shutdown_output" -> peer().shutdownOutput();
                case "close" -> {
                    log.note("engine closes the connection");
                    peer().close();
                }
                case "reset" -> peer().reset();
                case "sleep" -> Thread.sleep(s.path("ms").asLong(100));
                default -> throw new FixtureError("unknown op " + op);
            }
        }

        // ---------------------------------------------------------------- send

        void send(JsonNode s) throws Exception {
            byte[] b;
            if (s.has("bytes")) {
                b = values.bytes(s.get("bytes"));
            } else if (s.has("http")) {
                b = Http1.build(s.get("http"), values);
            } else if (s.has("ws")) {
                b = WsFrame.encode(s.get("ws"), values, serverRole);
                Object[] d = WsFrame.decode(b);
                log.frame(true, d == null ? "malformed WebSocket frame" : ((WsFrame) d[0]).describe());
            } else if (s.has("h2")) {
                JsonNode frame = s.get("h2");
                String type = frame.path("type").asText();
                if (!frame.has("stream") && (type.equals("DATA") || type.equals("HEADERS") || type.equals("RST_STREAM"))) {
                    frame = ((com.fasterxml.jackson.databind.node.ObjectNode) frame.deepCopy()).put("stream", defaultStream());
                }
                b = h2().encode(frame, values);
                logH2Sent(b);
            } else if (s.has("gun")) {
                JsonNode g = s.get("gun");
                byte[] msg = g.has("raw") ? values.bytes(g.get("raw")) : Gun.frame(Gun.hunk(values.bytes(g.get("data"))));
                b = H2.frame(0, g.path("endStream").asBoolean(false) ? 1 : 0, g.path("stream").asInt(defaultStream()), msg);
                logH2Sent(b);
            } else if (s.has("pht")) {
                byte[] line = PeerSocket.concat(java.util.Base64.getEncoder().encode(values.bytes(s.get("pht"))),
                        new byte[] {'\n'});
                b = PeerSocket.concat((Integer.toHexString(line.length) + "\r\n").getBytes(StandardCharsets.US_ASCII),
                        PeerSocket.concat(line, "\r\n".getBytes(StandardCharsets.US_ASCII)));
                log.frame(true, "PHT line: " + PeerSocket.printable(line));
            } else if (s.has("phtHeartbeat")) {
                b = "1\r\n\n\r\n".getBytes(StandardCharsets.US_ASCII);
                log.frame(true, "PHT heartbeat (empty line)");
            } else if (s.has("phtEnd")) {
                b = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                log.frame(true, "PHT end of pull response");
            } else {
                throw new FixtureError("send needs one of bytes, http, ws, h2, gun, pht, phtHeartbeat, phtEnd");
            }
            PeerSocket p = peer();
            try {
                if (s.has("splitAt")) {
                    int from = 0;
                    for (JsonNode cut : s.get("splitAt")) {
                        int to = Math.min(cut.asInt(), b.length);
                        p.write(Arrays.copyOfRange(b, from, to));
                        from = to;
                        Thread.sleep(s.path("delayMs").asLong(50));
                    }
                    p.write(Arrays.copyOfRange(b, from, b.length));
                } else {
                    p.write(b);
                }
            } catch (IOException e) {
                if (!s.path("mayFail").asBoolean(false)) {
                    throw fail("the implementation accepts " + b.length + " bytes", "write failed: " + e);
                }
                log.note("write failed (allowed): " + e);
            }
        }

        void logH2Sent(byte[] b) {
            try {
                Object[] d = new H2().decode(b);
                if (d != null) {
                    log.frame(true, ((H2.Frame) d[0]).describe().replaceAll(" stream=.*? (?=:)", " "));
                }
            } catch (Exception ignored) {
                log.frame(true, "HTTP/2 frame(s), " + b.length + " bytes");
            }
        }

        // ---------------------------------------------------------------- expect

        void expect(JsonNode s) throws Exception {
            if ("*".equals(s.path("conn").asText()) && s.has("http")) {
                expectHttpOnAnyConnection(s);
                return;
            }
            PeerSocket p = peer();
            long deadline = deadline();
            if (s.has("bytes")) {
                byte[] want = values.bytes(s.get("bytes"));
                if (!p.fill(want.length, deadline)) {
                    throw fail(hexAndText(want), "only " + p.buffered() + " bytes " + hexAndText(p.peek(want.length))
                            + timeoutOrEnd(p));
                }
                byte[] got = p.take(want.length);
                if (!Arrays.equals(want, got)) {
                    throw fail(hexAndText(want), hexAndText(got));
                }
            } else if (s.has("bytesOneOf")) {
                java.util.List<byte[]> alts = new java.util.ArrayList<>();
                s.get("bytesOneOf").forEach(a -> alts.add(values.bytes(a)));
                alts.sort((a, b) -> b.length - a.length);
                while (true) {
                    byte[] have = p.peek(Integer.MAX_VALUE);
                    boolean possible = false;
                    for (byte[] alt : alts) {
                        int n = Math.min(alt.length, have.length);
                        if (Arrays.equals(Arrays.copyOf(have, n), Arrays.copyOf(alt, n))) {
                            if (have.length >= alt.length) {
                                p.take(alt.length);
                                return;
                            }
                            possible = true;
                        }
                    }
                    if (!possible || !p.readSome(deadline)) {
                        StringBuilder want = new StringBuilder();
                        alts.forEach(a -> want.append(want.length() == 0 ? "" : " or ").append(hexAndText(a)));
                        throw fail(want.toString(), hexAndText(p.peek(64)) + (possible ? timeoutOrEnd(p) : ""));
                    }
                }
            } else if (s.has("hexPattern")) {
                String pat = values.interpolate(s.get("hexPattern").asText()).replaceAll("\\s+", "");
                int n = pat.length() / 2;
                if (!p.fill(n, deadline)) {
                    throw fail(pat, HexFormat.of().formatHex(p.peek(n)) + timeoutOrEnd(p));
                }
                byte[] got = p.take(n);
                String hex = HexFormat.of().formatHex(got);
                for (int i = 0; i < pat.length(); i++) {
                    char c = Character.toLowerCase(pat.charAt(i));
                    if (c != '?' && c != hex.charAt(i)) {
                        throw fail(pat, hex);
                    }
                }
            } else if (s.has("line")) {
                int i = p.fillUntil("\n".getBytes(StandardCharsets.US_ASCII), MAX_HEAD, deadline);
                if (i < 0) {
                    throw fail("a line matching " + s.get("line"), "no complete line" + timeoutOrEnd(p) + state());
                }
                String line = new String(p.take(i + 1), StandardCharsets.UTF_8).replaceAll("\r?\n$", "");
                String problem = Http1.Matchers.check(s.get("line"), line, values, false);
                if (problem != null) {
                    throw fail("a line matching " + s.get("line"), problem);
                }
            } else if (s.has("http")) {
                Http1.Message m = readHttp(p, deadline, s.get("http"));
                String problem = Http1.match(s.get("http"), m, values);
                if (problem != null) {
                    throw fail(s.get("http").toString(), problem + " in " + m.describe());
                }
            } else if (s.has("ws")) {
                WsFrame w = readWs(p, deadline, s.get("ws").path("skipControl").asBoolean(false));
                String problem = matchWs(s.get("ws"), w);
                if (problem != null) {
                    throw fail(s.get("ws").toString(), problem + " in frame " + w.describe());
                }
            } else if (s.has("wsData")) {
                byte[] want = values.bytes(s.get("wsData"));
                byte[] got = new byte[0];
                while (got.length < want.length) {
                    WsFrame w = readWs(p, deadline, true);
                    if (w.opcode() > 2) {
                        throw fail("data frames carrying " + hexAndText(want), "a " + w.describe() + " frame after "
                                + got.length + " bytes");
                    }
                    if (w.masked() != !serverRole) {
                        throw fail("frames from a " + (serverRole ? "server unmasked" : "client masked")
                                + " (RFC 6455 section 5.1)", w.describe());
                    }
                    got = PeerSocket.concat(got, w.payload());
                }
                if (!Arrays.equals(want, got)) {
                    throw fail(hexAndText(want), hexAndText(got));
                }
            } else if (s.has("h2")) {
                JsonNode e = s.get("h2");
                if (e.path("preface").asBoolean(false)) {
                    if (!p.fill(H2.PREFACE.length, deadline)) {
                        throw fail("the HTTP/2 client preface", hexAndText(p.peek(24)) + timeoutOrEnd(p));
                    }
                    byte[] got = p.take(H2.PREFACE.length);
                    if (!Arrays.equals(got, H2.PREFACE)) {
                        throw fail("the HTTP/2 client preface", hexAndText(got));
                    }
                    log.frame(false, "client preface");
                    return;
                }
                H2.Frame fr = readH2Matching(p, deadline, e);
                String problem = matchH2(e, fr);
                if (problem != null) {
                    throw fail(e.toString(), problem + " in " + fr.describe());
                }
            } else if (s.has("gun")) {
                JsonNode g = s.get("gun");
                int stream = g.path("stream").asInt(defaultStream());
                byte[] msg = readGun(p, deadline, stream);
                byte[] want = values.bytes(g.get("data"));
                byte[] got;
                try {
                    got = Gun.payload(msg);
                } catch (IllegalArgumentException ex) {
                    throw fail("a Hunk carrying " + hexAndText(want), "malformed message " + hexAndText(msg) + ": "
                            + ex.getMessage());
                }
                if (!Arrays.equals(want, got)) {
                    throw fail("a Hunk carrying " + hexAndText(want), "a Hunk carrying " + hexAndText(got));
                }
            } else if (s.has("h2StreamEnd")) {
                int stream = s.get("h2StreamEnd").path("stream").asInt(defaultStream());
                while (true) {
                    H2.Frame fr = readH2(p, deadline);
                    if (fr.type() == 0) {
                        h2().gunAppend(fr.stream(), fr.payload());
                    }
                    if (fr.type() == 7) {
                        return;
                    }
                    if (fr.stream() == stream && (fr.endStream() || fr.type() == 3)) {
                        JsonNode want = s.get("h2StreamEnd");
                        if (want.has("by")) {
                            String by = fr.type() == 3 ? "RST_STREAM" : fr.type() == 1 ? "HEADERS" : "DATA";
                            String problem = Http1.Matchers.check(want.get("by"), by, values, false);
                            if (problem != null) {
                                throw fail("stream " + stream + " ends by " + want.get("by"), fr.describe());
                            }
                        }
                        return;
                    }
                }
            } else if (s.has("pht")) {
                byte[] want = values.bytes(s.get("pht"));
                byte[] got = new byte[0];
                while (got.length < want.length) {
                    String line = readPhtLine(p, deadline);
                    if (line == null) {
                        throw fail("PHT lines carrying " + hexAndText(want), "the pull response ended after "
                                + hexAndText(got));
                    }
                    if (line.isEmpty()) {
                        continue;
                    }
                    try {
                        got = PeerSocket.concat(got, java.util.Base64.getDecoder().decode(line));
                    } catch (IllegalArgumentException ex) {
                        throw fail("standard base64 lines", "line '" + line + "'");
                    }
                }
                if (!Arrays.equals(want, got)) {
                    throw fail(hexAndText(want), hexAndText(got));
                }
            } else if (s.has("phtHeartbeat")) {
                String line = readPhtLine(p, deadline);
                if (line == null || !line.isEmpty()) {
                    throw fail("an empty heartbeat line", line == null ? "end of the pull response" : "'" + line + "'");
                }
            } else if (s.has("phtEnd")) {
                String line = readPhtLine(p, deadline);
                if (line != null) {
                    throw fail("the pull response ends with no further line", "line '" + line + "'");
                }
            } else if (s.has("gunData")) {
                JsonNode g = s.get("gunData");
                int stream = g.path("stream").asInt(defaultStream());
                byte[] want = values.bytes(g.get("data"));
                byte[] got = new byte[0];
                while (got.length < want.length) {
                    got = PeerSocket.concat(got, Gun.payload(readGun(p, deadline, stream)));
                }
                if (!Arrays.equals(want, got)) {
                    throw fail(hexAndText(want), hexAndText(got));
                }
            } else {
                throw new FixtureError("expect needs one of bytes, bytesOneOf, hexPattern, line, http, ws, wsData, h2, h2StreamEnd, gun, gunData, pht, phtHeartbeat, phtEnd");
            }
        }

        /**
         * Reads the next line of a chunked PHT pull response (without its LF); {@code null} when the response ended
         * (terminal chunk) first.
         */
        String readPhtLine(PeerSocket p, long deadline) throws Exception {
            java.io.ByteArrayOutputStream body = chunkBodies.computeIfAbsent(
                    step.path("conn").asText("main"), k -> new java.io.ByteArrayOutputStream());
            while (true) {
                byte[] have = body.toByteArray();
                for (int i = 0; i < have.length; i++) {
                    if (have[i] == '\n') {
                        body.reset();
                        body.write(have, i + 1, have.length - i - 1);
                        String line = new String(have, 0, i, StandardCharsets.US_ASCII);
                        log.frame(false, "PHT line: '" + line + "'");
                        return line;
                    }
                }
                int eol = p.fillUntil("\r\n".getBytes(StandardCharsets.US_ASCII), 64, deadline);
                if (eol < 0) {
                    throw fail("a chunk of the pull response", "none" + timeoutOrEnd(p) + state());
                }
                String sizeLine = new String(p.take(eol + 2), StandardCharsets.US_ASCII).trim();
                int size;
                try {
                    size = Integer.parseInt(sizeLine.split(";")[0], 16);
                } catch (NumberFormatException e) {
                    throw fail("a chunk-size line", "'" + sizeLine + "'");
                }
                if (!p.fill(size + 2, deadline)) {
                    throw fail("a chunk of " + size + " bytes", p.buffered() + " bytes" + timeoutOrEnd(p));
                }
                byte[] chunk = p.take(size + 2);
                if (size == 0) {
                    log.frame(false, "end of chunked response");
                    return null;
                }
                body.write(chunk, 0, size);
            }
        }

        Http1.Message readHttp(PeerSocket p, long deadline, JsonNode exp) throws Exception {
            int i = p.fillUntil("\r\n\r\n".getBytes(StandardCharsets.US_ASCII), MAX_HEAD, deadline);
            if (i < 0) {
                throw fail("an HTTP/1 message " + exp, "no complete head" + timeoutOrEnd(p) + state());
            }
            Http1.Message m = Http1.parseHead(p.take(i + 4));
            log.frame(false, "HTTP " + m.startLine());
            boolean informational = m.status() >= 100 && m.status() < 200;
            String cl = m.values("Content-Length", false).stream().findFirst().orElse(null);
            if (cl != null && !informational && !exp.path("bodyIsStream").asBoolean(false)) {
                int n = Integer.parseInt(cl.trim());
                if (!p.fill(n, deadline)) {
                    throw fail("a body of " + n + " bytes", p.buffered() + " bytes" + timeoutOrEnd(p));
                }
                m = Http1.withBody(m, p.take(n));
            }
            return m;
        }

        WsFrame readWs(PeerSocket p, long deadline, boolean skipControl) throws Exception {
            while (true) {
                Object[] d;
                while ((d = WsFrame.decode(p.peek(Integer.MAX_VALUE))) == null) {
                    if (!p.readSome(deadline)) {
                        throw fail("a WebSocket frame", "no complete frame" + timeoutOrEnd(p) + state());
                    }
                }
                p.take((int) d[1]);
                WsFrame w = (WsFrame) d[0];
                log.frame(false, w.describe());
                if (skipControl && (w.opcode() == 9 || w.opcode() == 10)) {
                    continue;
                }
                return w;
            }
        }

        String matchWs(JsonNode e, WsFrame w) {
            if (e.has("opcode") && WsFrame.opcode(e.get("opcode")) != w.opcode()) {
                return "opcode " + WsFrame.opName(w.opcode()) + " is not " + e.get("opcode").asText();
            }
            if (e.has("fin") && e.get("fin").asBoolean() != w.fin()) {
                return "fin is " + w.fin();
            }
            if (w.rsv() != e.path("rsv").asInt(0)) {
                return "rsv is " + w.rsv();
            }
            boolean wantMasked = e.has("masked") ? e.get("masked").asBoolean() : !serverRole;
            if (wantMasked != w.masked()) {
                return "frame is " + (w.masked() ? "masked" : "unmasked") + " (RFC 6455 section 5.1: client frames "
                        + "are masked, server frames are not)";
            }
            if (e.has("closeCode")) {
                if (!Http1.statusMatches(e.get("closeCode"), w.closeCode())) {
                    return "close code " + w.closeCode() + " is not " + e.get("closeCode");
                }
            } else if (e.has("payload")) {
                byte[] want = values.bytes(e.get("payload"));
                if (!Arrays.equals(want, w.payload())) {
                    return "payload " + hexAndText(w.payload()) + " is not " + hexAndText(want);
                }
            }
            return null;
        }

        H2.Frame readH2(PeerSocket p, long deadline) throws Exception {
            Object[] d;
            while ((d = h2().decode(p.peek(Integer.MAX_VALUE))) == null) {
                if (!p.readSome(deadline)) {
                    throw fail("an HTTP/2 frame", "no complete frame" + timeoutOrEnd(p) + state());
                }
            }
            p.take((int) d[1]);
            H2.Frame fr = (H2.Frame) d[0];
            log.frame(false, fr.describe());
            if (!serverRole && clientStream == 0 && fr.type() == 1 && fr.stream() % 2 == 1) {
                clientStream = fr.stream();
            }
            if (fr.type() == 4 && !fr.ack() && f.options().path("h2").path("autoAck").asBoolean(true)) {
                p.write(H2.frame(4, 1, 0, new byte[0]));
                log.frame(true, "SETTINGS stream=0 ACK (automatic)");
            } else if (fr.type() == 6 && !fr.ack()) {
                p.write(H2.frame(6, 1, 0, fr.payload()));
                log.frame(true, "PING ACK (automatic)");
            }
            return fr;
        }

        /** Reads frames until one of the expected type (and stream, if given); skips connection noise. */
        H2.Frame readH2Matching(PeerSocket p, long deadline, JsonNode e) throws Exception {
            int type = H2.type(e.path("type").asText());
            boolean strict = e.path("strict").asBoolean(false);
            while (true) {
                H2.Frame fr = readH2(p, deadline);
                if (fr.type() == 0) {
                    h2().gunAppend(fr.stream(), fr.payload());
                }
                boolean sameStream = !e.has("stream") || e.get("stream").asInt() == fr.stream();
                if (fr.type() == type && sameStream && !(type == 4 && fr.ack() != e.path("ack").asBoolean(false))) {
                    return fr;
                }
                boolean noise = fr.type() == 4 || fr.type() == 6 || fr.type() == 8 || fr.type() == 2;
                if (strict || !noise) {
                    return fr;
                }
            }
        }

        String matchH2(JsonNode e, H2.Frame fr) {
            int type = H2.type(e.path("type").asText());
            if (fr.type() != type) {
                return "frame type " + (fr.type() < H2.TYPES.length ? H2.TYPES[fr.type()] : fr.type()) + " is not "
                        + H2.TYPES[type];
            }
            if (e.has("stream") && e.get("stream").asInt() != fr.stream()) {
                return "stream " + fr.stream() + " is not " + e.get("stream").asInt();
            }
            if (e.has("endStream") && e.get("endStream").asBoolean() != fr.endStream()) {
                return "END_STREAM is " + fr.endStream();
            }
            if (e.has("errorCode") && H2.errorCode(e.get("errorCode")) != fr.errorCode()) {
                return "error code " + fr.errorCode() + " is not " + e.get("errorCode").asText();
            }
            if (type == 0 && e.has("data")) {
                byte[] want = values.bytes(e.get("data"));
                if (!Arrays.equals(want, fr.payload())) {
                    return "data " + hexAndText(fr.payload()) + " is not " + hexAndText(want);
                }
            }
            if (type == 1) {
                Http1.Message m = new Http1.Message("HEADERS", null, null, null, -1, null, fr.headers(), null);
                com.fasterxml.jackson.databind.node.ObjectNode copy = e.deepCopy();
                copy.remove(java.util.List.of("type", "stream", "endStream", "status"));
                String problem = Http1.match(copy, m, values);
                if (problem != null) {
                    return problem;
                }
            }
            return null;
        }

        byte[] readGun(PeerSocket p, long deadline, int stream) throws Exception {
            while (true) {
                byte[] msg;
                try {
                    msg = h2().gunTake(stream);
                } catch (IllegalArgumentException ex) {
                    throw fail("an uncompressed gun message", ex.getMessage());
                }
                if (msg != null) {
                    log.frame(false, "gun message (" + msg.length + ") " + HexFormat.of().formatHex(msg, 0,
                            Math.min(msg.length, 64)));
                    return msg;
                }
                H2.Frame fr = readH2(p, deadline);
                if (fr.type() == 0 && fr.stream() == stream) {
                    h2().gunAppend(stream, fr.payload());
                    if (fr.endStream() && h2().gunBuffered(stream) == 0) {
                        throw fail("a gun message on stream " + stream, "END_STREAM without one");
                    }
                } else if (fr.type() == 0) {
                    h2().gunAppend(fr.stream(), fr.payload());
                } else if (fr.type() == 3 && fr.stream() == stream || fr.type() == 7) {
                    throw fail("a gun message on stream " + stream, fr.describe());
                } else if (fr.type() == 1 && fr.stream() == stream) {
                    throw fail("a gun message on stream " + stream, fr.describe());
                }
            }
        }

        // ---------------------------------------------------------------- other expectations

        void expectReject(JsonNode s) throws Exception {
            PeerSocket p = peer();
            long deadline = deadline();
            JsonNode status = s.get("status");
            boolean orClose = s.path("orClose").asBoolean(false);
            int i = p.fillUntil("\r\n\r\n".getBytes(StandardCharsets.US_ASCII), MAX_HEAD, deadline);
            if (i < 0) {
                if (orClose && p.buffered() == 0 && p.end() != PeerSocket.End.OPEN) {
                    log.note("rejected by closing the connection (allowed by orClose)");
                    return;
                }
                throw fail("an HTTP response with status " + status + (orClose ? " or a close" : ""),
                        "no response" + timeoutOrEnd(p) + state());
            }
            Http1.Message m = Http1.parseHead(p.take(i + 4));
            log.frame(false, "HTTP " + m.startLine());
            if (!Http1.statusMatches(status, m.status())) {
                throw fail("status " + status, m.describe());
            }
            String problem = Http1.match(s, m, values);
            if (problem != null && (s.has("headers") || s.has("absent"))) {
                throw fail(s.toString(), problem + " in " + m.describe());
            }
        }

        void expectClose(JsonNode s) throws Exception {
            PeerSocket p = peer();
            int before = p.buffered();
            PeerSocket.End end = p.awaitEnd(deadline());
            if (s.path("noData").asBoolean(false) && p.buffered() > before) {
                throw fail("no more data, then a close", "data " + hexAndText(p.peek(256)));
            }
            String how = s.path("how").asText("any");
            if (end == PeerSocket.End.OPEN) {
                throw fail("the implementation closes the connection within " + timeout() + " ms",
                        "still open" + state());
            }
            if (how.equals("eof") && end != PeerSocket.End.EOF || how.equals("reset") && end != PeerSocket.End.RESET) {
                throw fail("close by " + how, "close by " + end);
            }
        }

        void expectSilence(JsonNode s) throws Exception {
            PeerSocket p = peer();
            int before = p.buffered();
            long deadline = System.nanoTime() + s.path("ms").asLong(300) * 1_000_000L;
            while (System.nanoTime() < deadline && p.end() == PeerSocket.End.OPEN) {
                p.readSome(deadline);
            }
            if (p.buffered() > before) {
                throw fail("nothing for " + s.path("ms").asLong(300) + " ms", "received "
                        + hexAndText(p.peek(256)));
            }
            if (p.end() != PeerSocket.End.OPEN && !s.path("allowEnd").asBoolean(false)) {
                throw fail("the connection stays open", "connection " + p.end());
            }
        }

        void expectTunnel() throws Exception {
            if (serverRole) {
                if (!app.awaitTunnel(timeout())) {
                    throw fail("the server accepts the tunnel and hands it to the application within " + timeout()
                            + " ms", "no tunnel" + state());
                }
            } else {
                AppEndpoint.OpenState st = app.awaitOpenResult(timeout());
                if (st != AppEndpoint.OpenState.OPEN) {
                    throw fail("the client's open succeeds within " + timeout() + " ms",
                            st == AppEndpoint.OpenState.FAILED ? "open failed: " + app.openFailure() : "state " + st);
                }
            }
        }

        void expectOpenFails() throws Exception {
            AppEndpoint.OpenState st = app.awaitOpenResult(timeout());
            if (st == AppEndpoint.OpenState.OPEN && (step.path("orClosed").asBoolean(false) || app.openSucceedsEarly())) {
                if (!app.awaitEof(timeout())) {
                    throw fail("the open fails, or the opened tunnel ends, within " + timeout() + " ms",
                            "tunnel open and not ended");
                }
                return;
            }
            if (st != AppEndpoint.OpenState.FAILED) {
                throw fail("the client's open fails within " + timeout() + " ms", "state " + st);
            }
        }

        void expectNoTunnel(JsonNode s) throws Exception {
            Thread.sleep(s.path("ms").asLong(200));
            if (serverRole ? app.tunnels() > 0 : app.openState() == AppEndpoint.OpenState.OPEN) {
                throw fail("no tunnel reaches the application", app.tunnels() + " tunnel(s) did");
            }
        }

        void expectDeliver(JsonNode s) throws Exception {
            byte[] want = values.bytes(s.get("data"));
            if (app.tunnels() == 0 && !app.awaitTunnel(timeout())) {
                throw fail("a tunnel delivering " + hexAndText(want), "no tunnel" + state());
            }
            byte[] got = app.awaitDelivered(want.length, timeout());
            if (!Arrays.equals(want, got)) {
                throw fail("the application receives " + hexAndText(want),
                        "it received " + hexAndText(got) + (got.length < want.length ? " within " + timeout() + " ms"
                                : ""));
            }
        }

        static String hexAndText(byte[] b) {
            String hex = HexFormat.of().formatHex(b, 0, Math.min(b.length, 256)) + (b.length > 256 ? "..." : "");
            return "[" + b.length + "] " + hex + " \"" + PeerSocket.printable(Arrays.copyOf(b, Math.min(b.length, 256)))
                    + "\"";
        }

        static String timeoutOrEnd(PeerSocket p) {
            return p.end() == PeerSocket.End.OPEN ? " (timeout)" : " (connection " + p.end() + ")";
        }

        void close() {
            conns.values().forEach(PeerSocket::close);
            try {
                if (fakeServer != null) {
                    fakeServer.close();
                }
            } catch (IOException ignored) {
                // closing
            }
            if (client != null) {
                client.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }
}

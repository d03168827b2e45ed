package dev.tunnelwire.interop;

import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.TestPki;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Records pairs of real peers: one peer role per peer and side hosts all pairs (one process/container each), every
 * pair has a recording proxy (full capture) between its client and its server, and an application we control behind
 * the server (it reads {@link Recording#UP}, answers {@link Recording#DOWN} and waits for the end).
 *
 * <p>The exchange is deterministic: the driver connects to the client's entry (a TCP forward or a SOCKS5 CONNECT to
 * the application), waits {@value #SETTLE_MS} ms so that whatever the client does on its own (handshake, request)
 * is done, writes {@code hello}, reads {@code world}, waits again so that everything is on the wire, and takes the
 * capture before it closes (closing is racy between peers, so it is not part of the fixtures).
 */
final class FixtureRecorder implements AutoCloseable {

    static final long SETTLE_MS = 400;
    static final long ARM_DELAY_MS = 3000;
    private static final int PORT_MIN = 12_000;
    private static final int PORT_MAX = 20_000;

    private final PeerRuntime runtime;
    private final PeerToolchain toolchain;
    private final TunnelRuntime loops = TunnelRuntime.create(1);
    private final App app;
    private final Set<Integer> used = new HashSet<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    FixtureRecorder(PeerRuntime runtime, PeerToolchain toolchain) throws IOException {
        this.runtime = runtime;
        this.toolchain = toolchain;
        this.app = new App();
    }

    /** A planned pair: its ports and recorder. */
    private record Planned(RecordedPair pair, RecordedPair.Ports ports, RecordingProxy proxy) {
    }

    /** The outcome of one pair: a recording or the reason there is none. */
    record Result(RecordedPair pair, Recording recording, String error, String peerLogs) {
    }

    /** Starts the roles the pairs need, runs every pair once, stops the roles. */
    List<Result> record(List<RecordedPair> pairs) throws Exception {
        Map<String, Role> roles = new LinkedHashMap<>();
        List<Planned> planned = new ArrayList<>();
        for (RecordedPair p : pairs) {
            RecordingProxy proxy = new RecordingProxy(loops, Integer.MAX_VALUE);
            closeables.add(proxy);
            int listen = freePort();
            RecordedPair.Ports ports = new RecordedPair.Ports(freePort(), proxy.port(), listen, app.port());
            Role c = roles.computeIfAbsent(p.clientPeer() + "-client", FixtureRecorder::newRole);
            p.client().configure(c, p.key(), ports);
            c.ports.add(ports.entry());
            Role s = roles.computeIfAbsent(p.serverPeer() + "-server", FixtureRecorder::newRole);
            p.server().configure(s, p.key(), ports);
            s.ports.add(ports.listen());
            planned.add(new Planned(p, ports, proxy));
        }
        Path pkiDir = Files.createTempDirectory("tunnelwire-recorder-pki");
        TestPki.get().writePem(pkiDir);
        Map<String, String> pki = Map.of(
                Role.CA, Files.readString(pkiDir.resolve("ca.pem")),
                Role.CERT, Files.readString(pkiDir.resolve("cert.pem")),
                Role.KEY, Files.readString(pkiDir.resolve("key.pem")));
        Map<String, PeerRuntime.Running> running = new LinkedHashMap<>();
        Map<String, String> roleErrors = new LinkedHashMap<>();
        Map<String, Path> binaries = new LinkedHashMap<>();
        for (Role role : roles.values()) {
            try {
                Path bin = binaries.get(role.peer);
                if (bin == null && !binaries.containsKey(role.peer)) {
                    bin = runtime.provision(toolchain, role.peer);
                    binaries.put(role.peer, bin);
                }
                running.put(role.name, runtime.start(role.launch(bin, pki)));
            } catch (Exception | Error e) {
                roleErrors.put(role.name, String.valueOf(e.getMessage()));
            }
        }
        // Only now the recorders forward: the start-up checks connect to the clients' entries, which makes some
        // clients dial (and pool) a connection to the server; those connections are closed at the recorder until the
        // clients have given up retrying (Xray retries a failed dial for about a second), so that each pair's
        // exchange runs on a connection of its own.
        Thread.sleep(ARM_DELAY_MS);
        for (Planned p : planned) {
            p.proxy().target(new InetSocketAddress("127.0.0.1", p.ports().listen()));
        }
        List<Result> results = new ArrayList<>();
        for (Planned p : planned) {
            String cRole = p.pair().clientPeer() + "-client";
            String sRole = p.pair().serverPeer() + "-server";
            String blocker = roleErrors.containsKey(cRole) ? cRole + " failed to start: " + roleErrors.get(cRole)
                    : roleErrors.containsKey(sRole) ? sRole + " failed to start: " + roleErrors.get(sRole) : null;
            if (blocker != null) {
                results.add(new Result(p.pair(), null, blocker, ""));
                continue;
            }
            Result r = runPair(p);
            if (r.error() != null) {
                r = new Result(r.pair(), null, r.error(), cRole + ":\n" + PortWait.tail(running.get(cRole).logs())
                        + "\n" + sRole + ":\n" + PortWait.tail(running.get(sRole).logs()));
            }
            results.add(r);
        }
        return results;
    }

    /** Attempts per pair: a pooled client connection may still be in its reconnect backoff on the first one. */
    private static final int ATTEMPTS = 3;

    private Result runPair(Planned p) {
        RecordedPair pair = p.pair();
        Exception last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return new Result(pair, attempt(p), null, "");
            } catch (Exception e) {
                last = e;
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        StringBuilder sb = new StringBuilder(String.valueOf(last));
        for (Transcript t : p.proxy().transcripts()) {
            sb.append('\n').append(t.render());
        }
        return new Result(pair, null, sb.toString(), "");
    }

    private Recording attempt(Planned p) throws Exception {
        RecordedPair pair = p.pair();
        InetSocketAddress appAddress = new InetSocketAddress("127.0.0.1", app.port());
        int before = p.proxy().transcripts().size();
        Conn c = pair.socksEntry() ? Conn.socks5(p.ports().entry(), appAddress) : Conn.socket(p.ports().entry());
        List<Transcript> carrying;
        List<Transcript.Entry> snapshot = new ArrayList<>();
        List<Integer> conns = new ArrayList<>();
        try {
            Thread.sleep(SETTLE_MS);
            c.write(Recording.UP, 0, Recording.UP.length);
            byte[] got = new byte[Recording.DOWN.length];
            c.readFully(got, 0, got.length, 15_000);
            if (!Arrays.equals(got, Recording.DOWN)) {
                throw new IOException("the application's answer arrived as " + Arrays.toString(got));
            }
            Thread.sleep(SETTLE_MS);
            // The connection that carried the answer (a pooled connection may have been opened before this
            // attempt; connections closed at the unarmed recorder carry nothing), taken before the driver closes.
            if (pair.syntax() == RecordedPair.Syntax.PHT) {
                // several connections per tunnel (authorize, pull, push): all those of this attempt, in time order
                List<Transcript> all = p.proxy().transcripts();
                carrying = all.subList(before, all.size()).stream()
                        .filter(t -> t.entries().stream().anyMatch(e -> e.data() != null)).toList();
                List<Object[]> merged = new ArrayList<>();
                for (int k = 0; k < carrying.size(); k++) {
                    long offset = carrying.get(k).startNanos() - carrying.get(0).startNanos();
                    for (Transcript.Entry e : carrying.get(k).entries()) {
                        if (e.data() != null) {
                            merged.add(new Object[] {new Transcript.Entry(e.dir(), e.micros() + offset / 1000,
                                    e.data(), null), k});
                        }
                    }
                }
                merged.sort(java.util.Comparator.comparingLong(o -> ((Transcript.Entry) o[0]).micros()));
                merged.forEach(o -> {
                    snapshot.add((Transcript.Entry) o[0]);
                    conns.add((Integer) o[1]);
                });
                if (!carrying.isEmpty()) {
                    carrying = List.of(carrying.get(0));
                }
            } else {
                carrying = p.proxy().transcripts().stream().filter(FixtureRecorder::carriesAnswer).toList();
                if (carrying.size() == 1) {
                    snapshot.addAll(carrying.get(0).entries());
                }
            }
        } finally {
            c.close();
        }
        if (carrying.size() != 1) {
            throw new IOException(carrying.size() + " connections between the peers carried the answer "
                    + "(expected one)");
        }
        // only the reads: the half-closes and closes after the exchange are racy and not part of the fixtures
        List<Transcript.Entry> entries = snapshot.stream().filter(e -> e.data() != null).toList();
        Role c0 = newRole(pair.clientPeer() + "-client");
        pair.client().configure(c0, "recorded", RecordedPair.EXCERPT_PORTS);
        Role s0 = newRole(pair.serverPeer() + "-server");
        pair.server().configure(s0, "recorded", RecordedPair.EXCERPT_PORTS);
        return new Recording(pair.key(), toolchain.version(pair.clientPeer()), toolchain.version(pair.serverPeer()),
                excerpt(c0), excerpt(s0), p.ports().dial(), app.port(), entries, conns);
    }

    private static boolean carriesAnswer(Transcript t) {
        java.io.ByteArrayOutputStream down = new java.io.ByteArrayOutputStream();
        for (Transcript.Entry e : t.entries()) {
            if (e.data() != null && e.dir() == Transcript.Dir.TO_CLIENT) {
                down.writeBytes(e.data());
            }
        }
        return new String(down.toByteArray(), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains(new String(Recording.DOWN, java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    /** The role's config file, compact, without the log section. */
    static String excerpt(Role role) {
        try {
            String text = role.configFiles().values().iterator().next();
            com.fasterxml.jackson.databind.node.ObjectNode n =
                    (com.fasterxml.jackson.databind.node.ObjectNode) Role.JSON.readTree(text);
            n.remove("log");
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Role newRole(String name) {
        String peer = name.substring(0, name.lastIndexOf('-'));
        return switch (peer) {
            case "gost" -> new Role.Gost(name, peer);
            case "xray" -> new Role.Xray(name, peer);
            case "singbox", "singbox-grpc" -> new Role.Singbox(name, peer);
            default -> throw new IllegalArgumentException("no config model for " + name);
        };
    }

    /**
     * A free port for a peer, below the kernel's ephemeral range (where our own port-0 binds and all outgoing
     * connections take theirs) and below the interop matrix's range, so that nothing takes it before the peer starts.
     */
    private int freePort() throws IOException {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        for (int i = 0; i < 1000; i++) {
            int port = rnd.nextInt(PORT_MIN, PORT_MAX);
            if (!used.add(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port), 1);
                return port;
            } catch (IOException busy) {
                // next
            }
        }
        throw new IOException("no free port in [" + PORT_MIN + ", " + PORT_MAX + ")");
    }

    @Override
    public void close() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        app.close();
        loops.close();
    }

    /**
     * The application behind the server: per connection reads {@link Recording#UP}, answers {@link Recording#DOWN},
     * then reads until the end of the stream.
     */
    private static final class App implements AutoCloseable {
        private final ServerSocket server;

        App() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "recorder-app");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s), "recorder-app-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private static void serve(Socket s) {
            try (s) {
                s.setTcpNoDelay(true);
                s.setSoTimeout(30_000);
                InputStream in = s.getInputStream();
                byte[] up = in.readNBytes(Recording.UP.length);
                if (Arrays.equals(up, Recording.UP)) {
                    OutputStream out = s.getOutputStream();
                    out.write(Recording.DOWN);
                    out.flush();
                }
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the peer went away
            }
        }

        @Override
        public void close() {
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}

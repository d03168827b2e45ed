package dev.tunnelwire.conformance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Any implementation, reached over loopback TCP. No Java of the implementation is involved.
 *
 * <p><b>Server role.</b> The server under test already listens on {@code target}, configured with the options the
 * selected cases name (run one configuration per invocation, selected with {@code --cases}). It forwards every
 * accepted tunnel, as raw bytes, to the application address {@code app} (default 127.0.0.1:19999) where the engine
 * plays the application; proxy-protocol cases ask the proxy to connect there as their destination.
 *
 * <p><b>Client role.</b> For each case the runner starts {@code clientCommand} (split on spaces, run without a shell)
 * with placeholders replaced: {@code {server}} (host:port of the engine's fake server), {@code {server.host}},
 * {@code {server.port}}, {@code {entry}} / {@code {entry.port}} (a free local port where the client under test must
 * accept application connections) and {@code {opt.NAME}} (the case's neutral option NAME). The engine opens the
 * tunnel by connecting to the entry port and writing the first payload; the process is destroyed after the case.
 */
public final class ExternalTarget implements Target {

    private final String name;
    private final InetSocketAddress server;
    private final InetSocketAddress appAddress;
    private final String clientCommand;
    private final String transport;

    /**
     * @param transport     the only transport it runs (others are skipped)
     * @param server        server under test (server role), or {@code null}
     * @param appAddress    where the engine plays the application (server role)
     * @param clientCommand command template (client role), or {@code null}
     */
    public ExternalTarget(String transport, InetSocketAddress server, InetSocketAddress appAddress,
                          String clientCommand) {
        this.transport = transport;
        this.server = server;
        this.appAddress = appAddress == null ? new InetSocketAddress("127.0.0.1", 19999) : appAddress;
        this.clientCommand = clientCommand;
        this.name = server != null ? "external " + server.getHostString() + ":" + server.getPort()
                : "external command";
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String unsupported(Fixture f) {
        if (transport != null && !transport.equals(f.transport())) {
            return "runner configured for transport " + transport;
        }
        if (f.role() == Fixture.Role.SERVER && server == null) {
            return "no --target server given";
        }
        if (f.role() == Fixture.Role.CLIENT && clientCommand == null) {
            return "no --client-cmd given";
        }
        return null;
    }

    @Override
    public Server startServer(Fixture f, WireLog log) throws IOException {
        SocketApp app = SocketApp.listen(log, appAddress);
        log.note("external server " + server + "; application end listens on " + app.address());
        return new Server() {
            @Override
            public InetSocketAddress address() {
                return server;
            }

            @Override
            public AppEndpoint app() {
                return app;
            }

            @Override
            public InetSocketAddress appAddress() {
                return app.address();
            }

            @Override
            public void close() {
                app.close();
            }
        };
    }

    /**
     * Whether something listens on 127.0.0.1:port. Probing by connecting would make a forwarding client dial the
     * fake server, so on Linux the kernel's socket tables are read instead; elsewhere the runner waits one second.
     */
    static boolean listening(int port) throws InterruptedException {
        String hexPort = String.format(":%04X ", port);
        boolean sawTable = false;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
                    String[] cols = line.trim().split("\\s+");
                    if (cols.length > 3 && (cols[1] + " ").contains(hexPort) && cols[3].equals("0A")) {
                        return true;
                    }
                }
                sawTable = true;
            } catch (IOException e) {
                // not Linux
            }
        }
        if (!sawTable) {
            Thread.sleep(1000);
            return true;
        }
        return false;
    }

    @Override
    public Client startClient(Fixture f, InetSocketAddress fakeServer, WireLog log) throws Exception {
        int entryPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            entryPort = probe.getLocalPort();
        }
        InetSocketAddress entry = new InetSocketAddress("127.0.0.1", entryPort);
        List<String> cmd = new ArrayList<>();
        for (String part : clientCommand.trim().split("\\s+")) {
            String s = part.replace("{server}", fakeServer.getHostString() + ":" + fakeServer.getPort())
                    .replace("{server.host}", fakeServer.getHostString())
                    .replace("{server.port}", String.valueOf(fakeServer.getPort()))
                    .replace("{entry}", "127.0.0.1:" + entryPort)
                    .replace("{entry.port}", String.valueOf(entryPort));
            for (Iterator<Map.Entry<String, JsonNode>> it = f.options().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                s = s.replace("{opt." + e.getKey() + "}", e.getValue().isTextual() ? e.getValue().asText()
                        : e.getValue().toString());
            }
            cmd.add(s);
        }
        log.note("starting client under test: " + String.join(" ", cmd));
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(File.createTempFile("conformance-client", ".log")).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!listening(entryPort)) {
            if (!proc.isAlive() || System.nanoTime() > deadline) {
                proc.destroyForcibly();
                throw new IOException("client under test did not listen on " + entry + " within 10 s");
            }
            Thread.sleep(50);
        }
        SocketApp app = SocketApp.connecting(log, entry);
        return new Client() {
            @Override
            public AppEndpoint app() {
                return app;
            }

            @Override
            public void close() {
                app.close();
                proc.destroy();
                try {
                    if (!proc.waitFor(2, TimeUnit.SECONDS)) {
                        proc.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    proc.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        };
    }
}

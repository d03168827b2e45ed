package dev.tunnelwire.interop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits until every port accepts a TCP connection on 127.0.0.1. */
final class PortWait {

    private PortWait() {
    }

    /**
     * Whether 127.0.0.1:port is listening. On Linux the kernel's socket tables are read, so that no probe connection
     * is made (a peer client's entry port would open a tunnel for it); elsewhere a connection is tried.
     */
    static boolean accepts(int port) {
        Boolean listening = listeningInProc(port);
        if (listening != null) {
            return listening;
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Polls until all {@code ports} accept, the process dies ({@code alive} false) or {@code timeout} passes; throws
     * {@link IllegalStateException} with the peer's log in the latter two cases.
     */
    static void await(String role, List<Integer> ports, Duration timeout, BooleanSupplier alive,
                      Supplier<String> logs) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int port : ports) {
            while (!accepts(port)) {
                if (!alive.getAsBoolean()) {
                    throw new IllegalStateException(role + " exited before listening on 127.0.0.1:" + port
                            + "; its output:\n" + tail(logs.get()));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(role + " did not listen on 127.0.0.1:" + port + " within "
                            + timeout.toSeconds() + " s; its output:\n" + tail(logs.get()));
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        }
    }

    /** LISTEN state of a local TCP port from /proc/net/tcp{,6}; {@code null} when the tables cannot be read. */
    static Boolean listeningInProc(int port) {
        String hexPort = String.format(":%04X ", port);
        boolean read = false;
        for (String table : new String[] {"/proc/net/tcp", "/proc/net/tcp6"}) {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
                    String[] cols = line.trim().split("\\s+");
                    if (cols.length > 3 && (cols[1] + " ").contains(hexPort) && cols[3].equals("0A")) {
                        return true;
                    }
                }
                read = true;
            } catch (IOException | RuntimeException e) {
                // not Linux, or no access
            }
        }
        return read ? Boolean.FALSE : null;
    }

    static String tail(String s) {
        int max = 6000;
        return s.length() <= max ? s : "..." + s.substring(s.length() - max);
    }
}

package dev.tunnelwire.cli;

import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.LoopbackServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Two real {@code tunnelwire} processes (the shaded jar), a server ({@code -L}) and a client
 * ({@code -L tcp://.../echo -F ...}); 16 MiB go through the client's port forward to an echo server and back, checked
 * by SHA-256; both are stopped with SIGTERM and must exit with status 0.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoProcessIT {

    private static LoopbackServers echo;

    @BeforeAll
    static void startEcho() throws Exception {
        echo = LoopbackServers.echo();
    }

    @AfterAll
    static void stopEcho() {
        echo.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "http-connect | http://u:p@127.0.0.1:{S} | http://u:p@127.0.0.1:{S}",
            "relay-pht    | relay+pht://u:p@127.0.0.1:{S} | relay+pht://u:p@127.0.0.1:{S}",
            "socks5-tls   | socks5+tls://u:p@127.0.0.1:{S} | socks5+tls://u:p@127.0.0.1:{S}",
            "relay-ws     | relay+ws://u:p@127.0.0.1:{S}?path=/ws | relay+ws://u:p@127.0.0.1:{S}?path=/ws",
            "relay-wss    | relay+wss://u:p@127.0.0.1:{S}?path=/ws | relay+wss://u:p@127.0.0.1:{S}?path=/ws",
            "relay-grpc   | relay+grpc://u:p@127.0.0.1:{S}?grpcInsecure=true | relay+grpc://u:p@127.0.0.1:{S}?grpcInsecure=true",
            "http-grpc-tls | http+grpc://u:p@127.0.0.1:{S} | http+grpc://u:p@127.0.0.1:{S}",
            "http-h2      | http+h2://u:p@127.0.0.1:{S} | http+h2://u:p@127.0.0.1:{S}",
            "http2-proxy  | http2://u:p@127.0.0.1:{S} | http2://u:p@127.0.0.1:{S}",
    })
    void sixteenMebibytesThroughTwoProcesses(String name, String serverUrl, String nodeUrl) throws Exception {
        int serverPort = freePort();
        int clientPort = freePort();
        Path logs = Path.of("target", "it-logs");
        Files.createDirectories(logs);
        Process server = start(logs.resolve(name + "-server.log"), "-L", serverUrl.replace("{S}", "" + serverPort));
        Process client = null;
        try {
            awaitPort(serverPort, server);
            client = start(logs.resolve(name + "-client.log"),
                    "-L", "tcp://127.0.0.1:" + clientPort + "/127.0.0.1:" + echo.port(),
                    "-F", nodeUrl.replace("{S}", "" + serverPort));
            awaitPort(clientPort, client);
            byte[] data = Digests.randomBytes(16 * 1024 * 1024, name.hashCode());
            try (Socket s = new Socket("127.0.0.1", clientPort)) {
                s.setSoTimeout(60_000);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                Thread writer = new Thread(() -> {
                    try {
                        out.write(data);
                        out.flush();
                    } catch (Exception e) {
                        // the read side reports the failure
                    }
                });
                writer.start();
                byte[] got = in.readNBytes(data.length);
                assertEquals(data.length, got.length, "bytes echoed through the two processes");
                assertArrayEquals(Digests.sha256(data), Digests.sha256(got));
                writer.join(10_000);
            }
            assertEquals(0, stop(client), "client exit status after SIGTERM");
            assertEquals(0, stop(server), "server exit status after SIGTERM");
        } finally {
            if (client != null) {
                client.destroyForcibly();
            }
            server.destroyForcibly();
        }
    }

    private static Process start(Path log, String... args) throws Exception {
        String jar = System.getProperty("tunnelwire.jar");
        assertTrue(jar != null && new File(jar).isFile(), "the shaded jar must be built first: " + jar);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", jar));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int stop(Process p) throws Exception {
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "process did not stop within 15 s of SIGTERM");
        return p.exitValue();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void awaitPort(int port, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                fail("process exited with " + p.exitValue() + " before listening on " + port);
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (Exception e) {
                Thread.sleep(100);
            }
        }
        fail("nothing listens on " + port + " after 30 s");
    }
}

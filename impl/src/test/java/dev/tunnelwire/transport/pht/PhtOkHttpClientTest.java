package dev.tunnelwire.transport.pht;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.testkit.LoopbackServers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OkHttp, an independent HTTP client, speaks PHT to our server: authorize, push, pull with the documented bytes. */
class PhtOkHttpClientTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(1);
    private TunnelListener listener;
    private OkHttpClient client;

    @AfterEach
    void tearDown() {
        if (client != null) {
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
        if (listener != null) {
            listener.close();
        }
        runtime.close();
    }

    @Test
    void authorizePushPullEcho() throws Exception {
        listener = new PhtTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0)), PhtOptions.defaults());
        listener.bind((ch, info) -> ch.pipeline().addLast(new LoopbackServers.EchoHandler())).sync();
        String base = "http://127.0.0.1:" + listener.localAddress().getPort();
        client = new OkHttpClient.Builder().readTimeout(15, TimeUnit.SECONDS).build();

        String token;
        try (Response r = client.newCall(new Request.Builder().url(base + "/authorize").build()).execute()) {
            assertEquals(200, r.code());
            assertEquals("text/plain; charset=utf-8", r.header("Content-Type"));
            String body = r.body().string();
            assertTrue(body.matches("token=[0-9a-v]{20}"), body);
            token = body.substring("token=".length());
        }

        byte[] payload = "hello over pht".getBytes();
        String line = Base64.getEncoder().encodeToString(payload) + "\n";
        try (Response r = client.newCall(new Request.Builder().url(base + "/push?token=" + token)
                .post(RequestBody.create(line, (MediaType) null)).build()).execute()) {
            assertEquals(200, r.code());
            assertEquals("0", r.header("Content-Length"));
        }

        try (Response r = client.newCall(new Request.Builder().url(base + "/pull?token=" + token).build()).execute()) {
            assertEquals(200, r.code());
            assertNull(r.header("Content-Type"));
            BufferedSource src = r.body().source();
            String echoed = src.readUtf8LineStrict();
            assertEquals("hello over pht", new String(Base64.getDecoder().decode(echoed)));
        }

        // An empty POST closes the session: the next pull answers with no line.
        try (Response r = client.newCall(new Request.Builder().url(base + "/push?token=" + token)
                .post(RequestBody.create(new byte[0], null)).build()).execute()) {
            assertEquals(200, r.code());
        }
        try (Response r = client.newCall(new Request.Builder().url(base + "/pull?token=" + token).build()).execute()) {
            assertEquals(200, r.code());
            assertEquals("", r.body().string(), "zero lines = closed");
        }
    }
}

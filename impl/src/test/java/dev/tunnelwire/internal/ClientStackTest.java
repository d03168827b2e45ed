package dev.tunnelwire.internal;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.TunnelRuntime;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * ClientStack's hand-over: bytes a TLS server sends right after the handshake (as an HTTP/2 server sends SETTINGS)
 * reach the handlers the caller installs, even when the caller's listener runs long after the handshake (it was
 * added late, as happens when the calling thread is descheduled) — the hold behind the TLS handler keeps them.
 */
class ClientStackTest {

    private final TunnelRuntime rt = TunnelRuntime.create(1);

    @AfterEach
    void stop() {
        rt.close();
    }

    @Test
    void serverFirstBytesAfterTlsSurviveALateListener() throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) jdkServer().createServerSocket(0, 1,
                InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.startHandshake();
                    OutputStream out = s.getOutputStream();
                    out.write("server speaks first".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(3000);
                } catch (Exception ignored) {
                    // the test fails on its own terms
                }
            });
            t.setDaemon(true);
            t.start();
            ClientStack stack = new ClientStack(rt, DialerConfig.of(
                    new InetSocketAddress("127.0.0.1", ss.getLocalPort()), ApiHarness.clientTls()), List.of(), false);
            Future<Channel> connected = stack.connect();
            connected.await(5, TimeUnit.SECONDS);
            Channel ch = connected.getNow();
            assertNotNull(ch, "connected");
            Thread.sleep(300); // the server's bytes are in by now, and SslHandler has decrypted them
            CompletableFuture<String> got = new CompletableFuture<>();
            Promise<Void> installed = ch.eventLoop().newPromise();
            connected.addListener(f -> { // a late listener: runs as a task on the loop
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        got.complete(b.toString(StandardCharsets.US_ASCII));
                        b.release();
                    }
                });
                ClientStack.startReading(ch);
                installed.setSuccess(null);
            });
            installed.await(5, TimeUnit.SECONDS);
            assertEquals("server speaks first", got.get(5, TimeUnit.SECONDS));
            ch.close().sync();
        }
    }

    private static javax.net.ssl.SSLServerSocketFactory jdkServer() throws Exception {
        var tls = ApiHarness.serverTls();
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "t".toCharArray();
        ks.setKeyEntry("k", tls.key(), pw, tls.certChain().toArray(new java.security.cert.X509Certificate[0]));
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(
                javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx.getServerSocketFactory();
    }
}

package dev.tunnelwire.transport.grpc;

import dev.tunnelwire.ApiHarness;
import dev.tunnelwire.DialerConfig;
import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TunnelDialer;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import dev.tunnelwire.testkit.Digests;
import dev.tunnelwire.testkit.TestPki;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.okhttp.OkHttpChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.KeyManagerFactory;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Independent gRPC implementations against ours: grpc-java's OkHttp client (hand-written {@code MethodDescriptor} and
 * marshaller, no generated stubs) against our listener, and grpc-java's Netty server (a custom service definition)
 * against our dialer; Tun, TunMulti and GostTunel/Tunnel, in cleartext and over TLS.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcJavaInteropTest {

    private final TunnelRuntime runtime = TunnelRuntime.create(2);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        runtime.close();
    }

    // ---------------------------------------------------------------- grpc-okhttp client -> our server

    private InetSocketAddress startOurEchoServer(boolean tls) throws Exception {
        GrpcOptions options = GrpcOptions.builder().serviceName("gunsvc")
                .serve(EnumSet.allOf(GrpcOptions.Flavour.class)).build();
        TunnelListener l = new GrpcTransportProvider().newListener(runtime,
                ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), tls ? ApiHarness.serverTls() : null), options);
        closeables.add(l);
        return l.bind((ch, info) -> ch.pipeline().addLast(new Echo())).sync().getNow();
    }

    private ManagedChannel okHttpChannel(InetSocketAddress addr, boolean tls) {
        OkHttpChannelBuilder b = tls
                ? OkHttpChannelBuilder.forAddress("127.0.0.1", addr.getPort(), TlsChannelCredentials.newBuilder()
                        .trustManager(TestPki.get().trustManagerFactory().getTrustManagers()).build())
                        .overrideAuthority("localhost")
                : OkHttpChannelBuilder.forAddress("127.0.0.1", addr.getPort()).usePlaintext();
        ManagedChannel ch = b.build();
        closeables.add(() -> {
            ch.shutdownNow();
            ch.awaitTermination(5, TimeUnit.SECONDS);
        });
        return ch;
    }

    @ParameterizedTest(name = "{0}/{1} tls={2}")
    @CsvSource({
            "gunsvc, Tun, false", "gunsvc, Tun, true",
            "gunsvc, TunMulti, false", "gunsvc, TunMulti, true",
            "GostTunel, Tunnel, false", "GostTunel, Tunnel, true"})
    void okHttpClientAgainstOurServer(String service, String method, boolean tls) throws Exception {
        InetSocketAddress addr = startOurEchoServer(tls);
        ManagedChannel channel = okHttpChannel(addr, tls);
        boolean multi = method.equals("TunMulti");
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<List<byte[]>> requests = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(GunMarshaller.method(service, method), CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(List<byte[]> entries) {
                        synchronized (received) {
                            for (byte[] e : entries) {
                                received.write(e, 0, e.length);
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        byte[] big = Digests.randomBytes(300_000, 3);
        for (int i = 0; i < 20; i++) {
            byte[] a = ("message-" + i).getBytes(StandardCharsets.US_ASCII);
            byte[] b = java.util.Arrays.copyOfRange(big, i * 15_000, (i + 1) * 15_000);
            if (multi) {
                requests.onNext(List.of(a, b));
            } else {
                requests.onNext(List.of(a));
                requests.onNext(List.of(b));
            }
            sent.write(a);
            sent.write(b);
        }
        requests.onCompleted();
        done.get(30, TimeUnit.SECONDS);
        assertArrayEquals(sent.toByteArray(), received.toByteArray());
    }

    @ParameterizedTest(name = "tls={0}")
    @CsvSource({"false", "true"})
    void okHttpClientOnAWrongPathGetsUnimplemented(boolean tls) throws Exception {
        InetSocketAddress addr = startOurEchoServer(tls);
        ManagedChannel channel = okHttpChannel(addr, tls);
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<List<byte[]>> requests = ClientCalls.asyncBidiStreamingCall(
                channel.newCall(GunMarshaller.method("nosuch", "Tun"), CallOptions.DEFAULT), completion(done));
        requests.onNext(List.of(new byte[] {1}));
        try {
            done.get(10, TimeUnit.SECONDS);
            throw new AssertionError("call on a wrong path succeeded");
        } catch (java.util.concurrent.ExecutionException e) {
            StatusRuntimeException s = assertInstanceOf(StatusRuntimeException.class, e.getCause());
            assertEquals(Status.Code.UNIMPLEMENTED, s.getStatus().getCode());
            assertEquals("unknown service nosuch", s.getStatus().getDescription());
        }
    }

    private static StreamObserver<List<byte[]>> completion(CompletableFuture<Void> done) {
        return new StreamObserver<>() {
            @Override
            public void onNext(List<byte[]> value) {
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                done.complete(null);
            }
        };
    }

    /** Echoes tunnel bytes; answers the client's half-close with its own (trailers grpc-status 0). */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.writeAndFlush(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                Tunnels.shutdownOutput(ctx.channel());
            }
            ctx.fireUserEventTriggered(evt);
        }
    }

    // ---------------------------------------------------------------- our client -> grpc-netty-shaded server

    private final Map<String, Metadata> seenHeaders = new ConcurrentHashMap<>();
    private final Map<String, String> seenAuthority = new ConcurrentHashMap<>();

    private InetSocketAddress startGrpcJavaEchoServer(boolean tls) throws Exception {
        ServerServiceDefinition gun = ServerServiceDefinition.builder("gunsvc")
                .addMethod(GunMarshaller.method("gunsvc", "Tun"), ServerCalls.asyncBidiStreamingCall(this::echo))
                .addMethod(GunMarshaller.method("gunsvc", "TunMulti"), ServerCalls.asyncBidiStreamingCall(this::echo))
                .build();
        ServerServiceDefinition gost = ServerServiceDefinition.builder("GostTunel")
                .addMethod(GunMarshaller.method("GostTunel", "Tunnel"), ServerCalls.asyncBidiStreamingCall(this::echo))
                .build();
        ServerInterceptor capture = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                             ServerCallHandler<Q, R> next) {
                seenHeaders.put(call.getMethodDescriptor().getFullMethodName(), headers);
                seenAuthority.put(call.getMethodDescriptor().getFullMethodName(), String.valueOf(call.getAuthority()));
                return next.startCall(call, headers);
            }
        };
        InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
        io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder b = tls
                ? io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(bind,
                        TlsServerCredentials.newBuilder().keyManager(keyManagers()).build())
                : io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(bind);
        io.grpc.Server server = b.addService(ServerInterceptors.intercept(gun, capture))
                .addService(ServerInterceptors.intercept(gost, capture))
                .build().start();
        closeables.add(() -> {
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        });
        return (InetSocketAddress) server.getListenSockets().get(0);
    }

    private static javax.net.ssl.KeyManager[] keyManagers() throws Exception {
        TestPki pki = TestPki.get();
        char[] pw = "pw".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", pki.serverKey(), pw, pki.serverCertChain());
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        return kmf.getKeyManagers();
    }

    /** Echoes every entry back as its own message; completes when the client half-closes. */
    private StreamObserver<List<byte[]>> echo(StreamObserver<List<byte[]>> responses) {
        return new StreamObserver<>() {
            @Override
            public void onNext(List<byte[]> entries) {
                for (byte[] e : entries) {
                    responses.onNext(List.of(e));
                }
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
                responses.onCompleted();
            }
        };
    }

    @ParameterizedTest(name = "{0} tls={1}")
    @CsvSource({"tun, false", "tun, true", "multi, false", "multi, true", "gost, false", "gost, true"})
    void ourClientAgainstGrpcJavaServer(String kind, boolean tls) throws Exception {
        InetSocketAddress addr = startGrpcJavaEchoServer(tls);
        GrpcOptions options = switch (kind) {
            case "tun" -> GrpcOptions.builder().serviceName("gunsvc").build();
            case "multi" -> GrpcOptions.builder().serviceName("gunsvc").multi(true).build();
            default -> GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build();
        };
        TunnelDialer dialer = new GrpcTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), options);
        closeables.add(dialer);
        byte[] data = Digests.randomBytes(1024 * 1024, 5);
        ByteBuf collected = Unpooled.buffer();
        closeables.add(collected::release);
        CountDownLatch ended = new CountDownLatch(1);
        List<Throwable> errors = new ArrayList<>();
        // The first payload rides with the request HEADERS; grpc-java's server answers HEADERS only with data.
        Channel t = dialer.open(Unpooled.copiedBuffer("first", StandardCharsets.US_ASCII), (ch, info) ->
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf b = (ByteBuf) msg;
                        synchronized (collected) {
                            collected.writeBytes(b);
                        }
                        b.release();
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt instanceof ChannelInputShutdownEvent) {
                            ended.countDown();
                        }
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        errors.add(cause);
                        ended.countDown();
                    }
                })).sync().getNow();
        for (int off = 0; off < data.length; off += 100_000) {
            t.write(Unpooled.wrappedBuffer(data, off, Math.min(100_000, data.length - off)));
        }
        t.flush();
        Tunnels.shutdownOutput(t);
        assertTrue(ended.await(30, TimeUnit.SECONDS), "trailers from grpc-java");
        assertTrue(errors.isEmpty(), errors.toString());
        byte[] expected = new byte[5 + data.length];
        System.arraycopy("first".getBytes(StandardCharsets.US_ASCII), 0, expected, 0, 5);
        System.arraycopy(data, 0, expected, 5, data.length);
        synchronized (collected) {
            assertArrayEquals(expected, ByteBufUtil.getBytes(collected));
        }
        String full = options.clientPath().substring(1);
        Metadata md = seenHeaders.get(full);
        assertNotNull(md, "grpc-java saw the call " + full + ": " + seenHeaders.keySet());
        assertEquals(options.effectiveUserAgent(),
                md.get(Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER)).split(" grpc-java")[0]);
        assertEquals(GrpcDialer.authority(DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null), options),
                seenAuthority.get(full));
        t.close().sync();
    }

    @ParameterizedTest(name = "tls={0}")
    @CsvSource({"false", "true"})
    void ourClientOnAnUnknownServiceFailsWithUnimplemented(boolean tls) throws Exception {
        InetSocketAddress addr = startGrpcJavaEchoServer(tls);
        TunnelDialer dialer = new GrpcTransportProvider().newDialer(runtime,
                DialerConfig.of(addr, tls ? ApiHarness.clientTls() : null),
                GrpcOptions.builder().serviceName("nosuch").build());
        closeables.add(dialer);
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        Channel t = dialer.open(Unpooled.copiedBuffer("x", StandardCharsets.US_ASCII), (ch, info) ->
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        error.complete(cause);
                    }
                })).sync().getNow();
        GrpcStatusException e = assertInstanceOf(GrpcStatusException.class, error.get(10, TimeUnit.SECONDS));
        assertEquals(12, e.grpcStatus());
        assertTrue(t.closeFuture().await(2, TimeUnit.SECONDS));
    }
}

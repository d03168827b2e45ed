package dev.tunnelwire.interop;

import dev.tunnelwire.ListenerConfig;
import dev.tunnelwire.TlsServerOptions;
import dev.tunnelwire.TransportOptions;
import dev.tunnelwire.TransportProvider;
import dev.tunnelwire.TransportRegistry;
import dev.tunnelwire.TunnelListener;
import dev.tunnelwire.TunnelRuntime;
import dev.tunnelwire.Tunnels;
import dev.tunnelwire.proxy.http2.Http2ProxyHandler;
import dev.tunnelwire.service.Chain;
import dev.tunnelwire.service.Service;
import dev.tunnelwire.service.ServiceOptions;
import dev.tunnelwire.testkit.TestPki;
import dev.tunnelwire.transport.grpc.GrpcOptions;
import dev.tunnelwire.transport.h2tunnel.H2TunnelOptions;
import dev.tunnelwire.transport.http.HttpOptions;
import dev.tunnelwire.transport.http2.Http2ProxyOptions;
import dev.tunnelwire.transport.http2.Http2ProxyTransportProvider;
import dev.tunnelwire.proxy.Destination;
import dev.tunnelwire.proxy.Outbound;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.Future;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * h2spec 2.2.1 (the HTTP/2 conformance tester, built by {@code scripts/build-peers.sh h2spec}) against every HTTP/2
 * listener, started in-process with the application a deployment would put behind it: the tunnels echo what they
 * receive and end their half when the client ends its own (so a request with END_STREAM gets a complete response);
 * the {@code http2} listener runs the real HTTP/2 CONNECT proxy handler. A failing h2spec case fails the build unless
 * it is in the exclusion table of {@code docs/h2spec.md}, each row with the reason it cannot apply to that listener.
 * h2spec that cannot be built fails the test (never skipped).
 *
 * <p>Reports: {@code target/h2spec/<listener>.xml} (h2spec's JUnit XML) and {@code .log} (its console output).
 */
class H2specIT {

    /**
     * What h2spec shows when it read a gRPC listener's immediate answer to its (non-gRPC) request where it expected an
     * error: a HEADERS frame with END_STREAM (flags 0x05), or the RST_STREAM that ends the stream after it.
     */
    private static final java.util.regex.Pattern EARLY_ANSWER = java.util.regex.Pattern.compile(
            "HEADERS Frame \\(length:\\d+, flags:0x05, stream_id:\\d+\\)\\s*$"
                    + "|RST_STREAM Frame \\(length:4, flags:0x00, stream_id:\\d+\\)\\s*$");


    /** The listeners under test; {@code id} is the name used in docs/h2spec.md. */
    enum Target {
        H2C("h2c", "h2c", false, "/"),
        H2_TLS("h2", "h2", true, "/"),
        GRPC_GUN("grpc-gun", "grpc", false, "/GunService/Tun"),
        GRPC_GUN_TLS("grpc-gun-tls", "grpc", true, "/GunService/Tun"),
        GRPC_GOST("grpc-gost", "grpc", false, "/GostTunel/Tunnel"),
        V2RAYHTTP_H2C("v2rayhttp-h2c", "v2rayhttp", false, "/"),
        V2RAYHTTP_H2_TLS("v2rayhttp-h2-tls", "v2rayhttp", true, "/"),
        HTTP2_PROXY_TLS("http2-proxy-tls", "http2", true, "/");

        final String id;
        final String scheme;
        final boolean tls;
        final String path;

        Target(String id, String scheme, boolean tls, String path) {
            this.id = id;
            this.scheme = scheme;
            this.tls = tls;
            this.path = path;
        }
    }

    private static Path h2spec;
    private static Map<String, Map<String, String>> exclusions;
    private static TunnelRuntime runtime;
    private static final Path OUT = Path.of(System.getProperty("h2spec.reportDir", "target/h2spec"));

    @BeforeAll
    @Timeout(value = 30, unit = TimeUnit.MINUTES) // a first build fetches h2spec's modules through the proxy
    static void setUp() throws Exception {
        // fails (never skips) when h2spec cannot be built
        h2spec = new PeerToolchain().binary("h2spec");
        exclusions = readExclusions(docsFile());
        runtime = TunnelRuntime.create(2);
        Files.createDirectories(OUT);
    }

    @AfterAll
    static void tearDown() {
        if (runtime != null) {
            runtime.close();
        }
    }

    private static Path docsFile() {
        Path base = Path.of(System.getProperty("interop.basedir", ".")).toAbsolutePath().normalize();
        return base.resolveSibling("docs").resolve("h2spec.md");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Target.class)
    @Timeout(value = 15, unit = TimeUnit.MINUTES) // h2spec waits up to 2 s on each case a server does not answer
    void h2spec(Target target) throws Exception {
        String only = System.getProperty("h2spec.targets", "");
        org.junit.jupiter.api.Assumptions.assumeTrue(only.isBlank() || List.of(only.split(",")).contains(target.id),
                "not selected by -Dh2spec.targets");
        AutoCloseable server = null;
        try {
            InetSocketAddress addr;
            if (target == Target.HTTP2_PROXY_TLS) {
                // h2spec's :authority is the proxy itself, so its requests (all but CONNECT are forwarded as
                // HTTP/1.1) go to a web server behind the proxy instead, as in a proxy deployed in front of one
                Channel origin = origin();
                Chain direct = Chain.direct(runtime);
                Destination to = Destination.of((InetSocketAddress) origin.localAddress());
                Outbound toOrigin = new Outbound() {
                    @Override
                    public Future<Channel> connect(Destination destination, ByteBuf firstPayload) {
                        return direct.connect(to, firstPayload);
                    }

                    @Override
                    public boolean benefitsFromFirstPayload() {
                        return false;
                    }
                };
                Service service = Service.of("h2spec-http2", new Http2ProxyTransportProvider().newListener(runtime,
                        ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), serverTls()),
                        Http2ProxyOptions.defaults()), new Http2ProxyHandler(null, null), toOrigin,
                        ServiceOptions.defaults());
                addr = service.bind().sync().getNow();
                server = () -> {
                    service.close();
                    origin.close().sync();
                };
            } else {
                TunnelListener l = listener(target);
                addr = l.bind((ch, info) -> ch.pipeline().addLast(new EchoThenEnd())).sync().getNow();
                server = l::close;
            }
            Path xml = OUT.resolve(target.id + ".xml");
            Files.deleteIfExists(xml);
            List<String> cmd = new ArrayList<>(List.of(h2spec.toString(), "-h", "127.0.0.1",
                    "-p", Integer.toString(addr.getPort()), "-P", target.path, "-o", "2", "-j", xml.toString()));
            if (target.tls) {
                cmd.add("-t");
                cmd.add("-k");
            }
            // while developing: -Dh2spec.cases="http2/5.1/6 generic" runs only those sections, verbosely
            String cases = System.getProperty("h2spec.cases", "");
            if (!cases.isBlank()) {
                cmd.add("-v");
                cmd.addAll(List.of(cases.strip().split("\\s+")));
            }
            PeerToolchain.Result r = PeerToolchain.run(cmd, 900);
            Files.writeString(OUT.resolve(target.id + ".log"), r.stdout() + r.stderr(), StandardCharsets.UTF_8);
            assertTrue(Files.isRegularFile(xml), target.id + ": h2spec wrote no report (exit " + r.exit() + ")\n"
                    + r.stdout() + r.stderr());
            Report report = parse(xml);
            Map<String, String> excluded = new LinkedHashMap<>();
            for (String key : List.of("*", target.id)) {
                excluded.putAll(exclusions.getOrDefault(key, Map.of()));
            }
            List<String> unexpected = new ArrayList<>();
            List<String> stale = new ArrayList<>();
            List<String> earlyAnswer = new ArrayList<>();
            for (Map.Entry<String, String> f : report.failures.entrySet()) {
                if (excluded.containsKey(f.getKey())) {
                    continue;
                }
                if (target.scheme.equals("grpc") && EARLY_ANSWER.matcher(f.getValue()).find()) {
                    // docs/h2spec.md, "The gRPC listeners' early answer": h2spec read the server's immediate answer
                    // to its non-gRPC request (a HEADERS with END_STREAM, or the reset after it) before the error
                    earlyAnswer.add(f.getKey() + ": " + f.getValue());
                } else {
                    unexpected.add(f.getKey() + ": " + f.getValue());
                }
            }
            if (!earlyAnswer.isEmpty()) {
                System.out.println("h2spec " + target.id + ": cases that read the gRPC early answer first (timing, "
                        + "see docs/h2spec.md): " + earlyAnswer);
            }
            for (String id : excluded.keySet()) {
                if (!report.failures.containsKey(id)) {
                    stale.add(id);
                }
            }
            System.out.printf("h2spec %s: %d/%d passed, %d skipped, %d failed (%d excluded, %d unexpected)%n",
                    target.id, report.total - report.failures.size() - report.skipped, report.total, report.skipped,
                    report.failures.size(), report.failures.size() - unexpected.size(), unexpected.size());
            if (!stale.isEmpty()) {
                System.out.println("h2spec " + target.id + ": excluded cases that passed this time (racy ones "
                        + "may; remove a row from docs/h2spec.md once its case passes every time): " + stale);
            }
            if (!unexpected.isEmpty()) {
                fail("h2spec " + target.id + ": " + unexpected.size() + " failing case(s) not excluded in "
                        + "docs/h2spec.md (report " + xml + "):\n  " + String.join("\n  ", unexpected));
            }
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }

    private static TlsServerOptions serverTls() {
        TestPki pki = TestPki.get();
        return TlsServerOptions.builder().keyAndChain(pki.serverKey(), pki.serverCertChain()).build();
    }

    private static TunnelListener listener(Target t) {
        TransportProvider provider = TransportRegistry.defaultRegistry().provider(t.scheme);
        TransportOptions options = switch (t) {
            case H2C, H2_TLS -> H2TunnelOptions.builder().path(t.path).build();
            case GRPC_GUN, GRPC_GUN_TLS -> GrpcOptions.builder().serviceName("GunService").build();
            case GRPC_GOST -> GrpcOptions.builder().flavour(GrpcOptions.Flavour.GOST).build();
            case V2RAYHTTP_H2C, V2RAYHTTP_H2_TLS -> HttpOptions.builder().path(t.path).build();
            default -> throw new IllegalArgumentException(t.id);
        };
        ListenerConfig config = t.tls
                ? ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0), serverTls())
                : ListenerConfig.of(new InetSocketAddress("127.0.0.1", 0));
        @SuppressWarnings({"unchecked", "rawtypes"})
        TunnelListener l = ((TransportProvider) provider).newListener(runtime, config, options);
        return l;
    }

    /** An HTTP/1.1 web server answering every request with 200 and a short body, then closing. */
    private static Channel origin() throws InterruptedException {
        return new ServerBootstrap().group(runtime.group()).channel(runtime.serverChannelType())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20),
                                new SimpleChannelInboundHandler<FullHttpRequest>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
                                        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                HttpResponseStatus.OK, Unpooled.copiedBuffer(
                                                        "hello from the web server behind the proxy\n",
                                                        StandardCharsets.US_ASCII));
                                        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                                                .setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes())
                                                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                                        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    /** The application behind a tunnel listener: echoes, and ends its half when the client has ended its own. */
    static final class EchoThenEnd extends ChannelInboundHandlerAdapter {
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

    record Report(int total, int skipped, Map<String, String> failures) {
    }

    /**
     * h2spec's JUnit XML: a testsuite per section ({@code package="http2/5.1.1"}), its test cases in order. A case
     * is named {@code <section>/<n>} as h2spec prints it ({@code 5.1.1/2}); generic and hpack sections keep their
     * package prefix ({@code generic/1/1}, {@code hpack/2.3.3/1}).
     */
    static Report parse(Path xml) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
        NodeList suites = doc.getElementsByTagName("testsuite");
        Map<String, String> failures = new LinkedHashMap<>();
        int total = 0;
        int skipped = 0;
        for (int i = 0; i < suites.getLength(); i++) {
            Element suite = (Element) suites.item(i);
            String pkg = suite.getAttribute("package");
            String section = pkg.startsWith("http2/") ? pkg.substring("http2/".length()) : pkg;
            NodeList cases = suite.getElementsByTagName("testcase");
            for (int j = 0; j < cases.getLength(); j++) {
                Element c = (Element) cases.item(j);
                total++;
                String id = section + "/" + (j + 1);
                if (c.getElementsByTagName("skipped").getLength() > 0) {
                    skipped++;
                }
                NodeList f = c.getElementsByTagName("failure");
                NodeList e = c.getElementsByTagName("error");
                if (f.getLength() > 0 || e.getLength() > 0) {
                    Element el = (Element) (f.getLength() > 0 ? f.item(0) : e.item(0));
                    String detail = (c.getAttribute("name") + " | " + el.getTextContent()).replaceAll("\\s+", " ")
                            .strip();
                    failures.put(id, detail);
                }
            }
        }
        return new Report(total, skipped, failures);
    }

    private static final Pattern ROW = Pattern.compile("^\\|\\s*`([^`]+)`\\s*\\|\\s*([^|]+?)\\s*\\|\\s*(.+?)\\s*\\|\\s*$");

    /**
     * The exclusion table of docs/h2spec.md: rows {@code | `case` | listeners | reason |} where listeners is
     * {@code *} or a comma-separated list of {@link Target#id}s. Every row needs a reason.
     */
    static Map<String, Map<String, String>> readExclusions(Path md) throws Exception {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        boolean inTable = false;
        TreeSet<String> ids = new TreeSet<>();
        for (Target t : Target.values()) {
            ids.add(t.id);
        }
        for (String line : Files.readAllLines(md, StandardCharsets.UTF_8)) {
            if (line.startsWith("<!-- exclusions:begin -->")) {
                inTable = true;
                continue;
            }
            if (line.startsWith("<!-- exclusions:end -->")) {
                inTable = false;
                continue;
            }
            if (!inTable) {
                continue;
            }
            Matcher m = ROW.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String reason = m.group(3);
            if (reason.isBlank()) {
                throw new IllegalStateException(md + ": exclusion " + m.group(1) + " has no reason");
            }
            for (String who : m.group(2).split(",")) {
                who = who.strip();
                if (!who.equals("*") && !ids.contains(who)) {
                    throw new IllegalStateException(md + ": unknown listener '" + who + "' in row " + line);
                }
                out.computeIfAbsent(who, k -> new LinkedHashMap<>()).put(m.group(1), reason);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException(md + ": no exclusion table between <!-- exclusions:begin --> and "
                    + "<!-- exclusions:end -->");
        }
        return out;
    }
}

package dev.tunnelwire.proxy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tunnelwire.fuzz.Fuzz;
import dev.tunnelwire.proxy.auto.AutoHandler;
import dev.tunnelwire.proxy.http.HttpHandler;
import dev.tunnelwire.proxy.http.HttpHandlerOptions;
import dev.tunnelwire.proxy.relay.RelayHandler;
import dev.tunnelwire.proxy.relay.RelayHandlerOptions;
import dev.tunnelwire.proxy.socks5.Socks5Handler;
import dev.tunnelwire.proxy.socks5.Socks5HandlerOptions;
import dev.tunnelwire.proxy.vless.VlessHandler;
import dev.tunnelwire.proxy.vless.VlessHandlerOptions;
import io.netty.channel.embedded.EmbeddedChannel;

import java.util.Arrays;

/**
 * Fuzz targets: the proxy protocol servers as a service installs them ({@link Handler#init} on the accepted tunnel),
 * on an {@link EmbeddedChannel}, with a {@link FakeOutbound} as the way to the destination.
 *
 * <p>Input: byte 0 options (bit 0: the outbound connect fails; bit 1: credentials required (user {@code u},
 * password {@code p}); bit 2: early reply / nodelay; bit 3: relay forward target), byte 1 the split of the client's
 * bytes into two reads, then the client's bytes; for {@code http} and {@code auto}, what follows the marker
 * {@value #UPSTREAM} is the upstream server's answer (plain proxying parses it). After the bytes the handshake
 * timeout is let expire, then both channels are closed.
 *
 * <p>Findings: any exception reaching the end of a pipeline (every handler must deal with its own failures), one that
 * only a bug throws in the handlers' log ({@link Fuzz#watchingLog}), a leaked buffer, an unbounded answer.
 */
class ProxyHandlerFuzzTest {

    static final String ID = "b831381d-6324-4d53-ad4f-8cda48b30811";
    static final String UPSTREAM = "|UPSTREAM|";

    private static Authenticator auth(int opt) {
        return (opt & 2) != 0 ? Authenticator.user("u", "p") : null;
    }

    @FuzzTest(maxDuration = "5m")
    void vless(byte[] input) {
        drive(new VlessHandler(VlessHandlerOptions.of("other-user", ID)), input);
    }

    @FuzzTest(maxDuration = "5m")
    void relay(byte[] input) {
        int opt = Fuzz.option(input);
        drive(new RelayHandler(new RelayHandlerOptions(auth(opt), (opt & 4) != 0,
                (opt & 8) != 0 ? Destination.of("127.0.0.1", 22) : null)), input);
    }

    @FuzzTest(maxDuration = "5m")
    void socks5(byte[] input) {
        int opt = Fuzz.option(input);
        drive(new Socks5Handler(new Socks5HandlerOptions(auth(opt), (opt & 4) != 0)), input);
    }

    @FuzzTest(maxDuration = "5m")
    void http(byte[] input) {
        int opt = Fuzz.option(input);
        drive(new HttpHandler(HttpHandlerOptions.builder().authenticator(auth(opt)).earlyReply((opt & 4) != 0)
                .build()), input);
    }

    @FuzzTest(maxDuration = "5m")
    void auto(byte[] input) {
        int opt = Fuzz.option(input);
        drive(new AutoHandler(new Socks5HandlerOptions(auth(opt), (opt & 4) != 0),
                HttpHandlerOptions.builder().authenticator(auth(opt)).build()), input);
    }

    static void drive(Handler handler, byte[] input) {
        Fuzz.watchingLog(input, () -> run(handler, input));
        Fuzz.noLeaks();
    }

    private static void run(Handler handler, byte[] input) {
        int opt = Fuzz.option(input);
        byte[] rest = Fuzz.payload(input);
        int split = Fuzz.option(rest);
        byte[] data = Fuzz.payload(rest);
        byte[] upstream = new byte[0];
        int m = indexOf(data, UPSTREAM.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (m >= 0) {
            upstream = Arrays.copyOfRange(data, m + UPSTREAM.length(), data.length);
            data = Arrays.copyOf(data, m);
        }
        FakeOutbound out = new FakeOutbound();
        if ((opt & 1) != 0) {
            out.failure = (opt & 16) != 0 ? new java.net.UnknownHostException("fuzz") : FakeOutbound.REFUSED;
        }
        EmbeddedChannel ch = new EmbeddedChannel();
        EmbeddedChannel up = null;
        try {
            handler.init(ch, FakeOutbound.context(out));
            Fuzz.feed(ch, data, Fuzz.split(split, data.length), Fuzz.NOTHING);
            up = out.channel;
            if (up != null) {
                Fuzz.drainOutbound(up);
                if (upstream.length > 0) {
                    Fuzz.feed(up, upstream, Fuzz.split(split, upstream.length), Fuzz.NOTHING);
                    ch.runPendingTasks();
                }
            }
            Fuzz.advance(ch, 60, Fuzz.NOTHING);
            Fuzz.drainOutbound(ch);
            if (up != null) {
                Fuzz.drainOutbound(up);
                Fuzz.finish(up, Fuzz.NOTHING);
                ch.runPendingTasks();
            }
        } finally {
            Fuzz.finish(ch, Fuzz.NOTHING);
            if (out.channel != null && out.channel != up) {
                Fuzz.finish(out.channel, Fuzz.NOTHING);
            }
        }
    }

    static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}

package dev.tunnelwire.internal.h2;

import java.time.Duration;
import java.util.Objects;

/**
 * HTTP/2 tuning shared by every HTTP/2-based transport (V2Ray HTTP, gRPC, GOST h2/http2).
 *
 * <p>Defaults are sized for throughput on tunnels, not for browsing: a 4 MiB initial stream window (HTTP/2's own
 * default of 64 KiB caps a single tunnel at roughly 64 KiB per round trip) and a 16 MiB connection window, since many
 * tunnels share one connection. No bandwidth-probing pings are sent; pings are only the optional health check.
 *
 * @param streamWindow          SETTINGS_INITIAL_WINDOW_SIZE we announce (default {@value #DEFAULT_STREAM_WINDOW})
 * @param connectionWindow      our connection-level receive window, raised with WINDOW_UPDATE on stream 0 once the
 *                              connection is up (default {@value #DEFAULT_CONNECTION_WINDOW})
 * @param maxConcurrentStreams  SETTINGS_MAX_CONCURRENT_STREAMS we announce (default
 *                              {@value #DEFAULT_MAX_CONCURRENT_STREAMS}); a client queues streams beyond the server's
 *                              limit instead of failing them
 * @param maxHeaderListSize     SETTINGS_MAX_HEADER_LIST_SIZE, also the bound on a header block spread over
 *                              CONTINUATION frames (default {@value #DEFAULT_MAX_HEADER_LIST_SIZE})
 * @param maxFrameSize          SETTINGS_MAX_FRAME_SIZE (default {@value #DEFAULT_MAX_FRAME_SIZE})
 * @param idleTimeout           health check: after this long without reading anything on a connection, send a PING
 *                              (sing-box {@code idle_timeout}); zero disables pings (default: disabled)
 * @param pingTimeout           health check: a PING not acknowledged within this closes the connection and every
 *                              tunnel on it (sing-box {@code ping_timeout}, default {@value #DEFAULT_PING_TIMEOUT_SECONDS}
 *                              s)
 * @param prefaceTimeout        server: a connection must have sent the client preface and its SETTINGS within this
 *                              of being accepted (TLS handshake included), else it is closed (Go's HTTP/2 server,
 *                              which sing-box, Xray and gost use, waits {@value #DEFAULT_PREFACE_TIMEOUT_SECONDS} s)
 * @param serverIdleTimeout     server: a connection without an active stream for this long is closed gracefully
 *                              (GOAWAY NO_ERROR); zero keeps idle connections open (default
 *                              {@value #DEFAULT_SERVER_IDLE_TIMEOUT_SECONDS} s). Pings do not count as activity, as
 *                              with Go's {@code http2.Server.IdleTimeout}
 */
public record H2Settings(int streamWindow, int connectionWindow, int maxConcurrentStreams, int maxHeaderListSize,
                         int maxFrameSize, Duration idleTimeout, Duration pingTimeout, Duration prefaceTimeout,
                         Duration serverIdleTimeout) {

    public static final int DEFAULT_STREAM_WINDOW = 4 * 1024 * 1024;
    public static final int DEFAULT_CONNECTION_WINDOW = 16 * 1024 * 1024;
    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 1024;
    public static final int DEFAULT_MAX_HEADER_LIST_SIZE = 16 * 1024;
    public static final int DEFAULT_MAX_FRAME_SIZE = 16 * 1024;
    public static final long DEFAULT_PING_TIMEOUT_SECONDS = 15;
    public static final long DEFAULT_PREFACE_TIMEOUT_SECONDS = 10;
    public static final long DEFAULT_SERVER_IDLE_TIMEOUT_SECONDS = 300;

    public H2Settings {
        if (streamWindow < 65_535) {
            throw new IllegalArgumentException("streamWindow must be at least 65535: " + streamWindow);
        }
        if (connectionWindow < 65_535) {
            throw new IllegalArgumentException("connectionWindow must be at least 65535: " + connectionWindow);
        }
        if (maxConcurrentStreams < 1) {
            throw new IllegalArgumentException("maxConcurrentStreams must be positive: " + maxConcurrentStreams);
        }
        if (maxHeaderListSize < 1024) {
            throw new IllegalArgumentException("maxHeaderListSize must be at least 1024: " + maxHeaderListSize);
        }
        if (maxFrameSize < 16_384 || maxFrameSize > 16_777_215) {
            throw new IllegalArgumentException("maxFrameSize must be in [16384, 16777215]: " + maxFrameSize);
        }
        idleTimeout = Objects.requireNonNullElse(idleTimeout, Duration.ZERO);
        pingTimeout = Objects.requireNonNullElse(pingTimeout, Duration.ofSeconds(DEFAULT_PING_TIMEOUT_SECONDS));
        if (idleTimeout.isNegative() || pingTimeout.isNegative() || pingTimeout.isZero()) {
            throw new IllegalArgumentException("idleTimeout must be >= 0 and pingTimeout > 0");
        }
        prefaceTimeout = Objects.requireNonNullElse(prefaceTimeout,
                Duration.ofSeconds(DEFAULT_PREFACE_TIMEOUT_SECONDS));
        serverIdleTimeout = Objects.requireNonNullElse(serverIdleTimeout,
                Duration.ofSeconds(DEFAULT_SERVER_IDLE_TIMEOUT_SECONDS));
        if (prefaceTimeout.isNegative() || prefaceTimeout.isZero() || serverIdleTimeout.isNegative()) {
            throw new IllegalArgumentException("prefaceTimeout must be > 0 and serverIdleTimeout >= 0");
        }
    }

    public static H2Settings defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().streamWindow(streamWindow).connectionWindow(connectionWindow)
                .maxConcurrentStreams(maxConcurrentStreams).maxHeaderListSize(maxHeaderListSize)
                .maxFrameSize(maxFrameSize).idleTimeout(idleTimeout).pingTimeout(pingTimeout)
                .prefaceTimeout(prefaceTimeout).serverIdleTimeout(serverIdleTimeout);
    }

    /** Netty's SETTINGS frame content for these values (push disabled). */
    public io.netty.handler.codec.http2.Http2Settings toNettySettings(boolean client) {
        io.netty.handler.codec.http2.Http2Settings s = io.netty.handler.codec.http2.Http2Settings.defaultSettings()
                .initialWindowSize(streamWindow)
                .maxConcurrentStreams(maxConcurrentStreams)
                .maxHeaderListSize(maxHeaderListSize)
                .maxFrameSize(maxFrameSize);
        if (client) {
            s.pushEnabled(false);
        }
        return s;
    }

    public static final class Builder {
        private int streamWindow = DEFAULT_STREAM_WINDOW;
        private int connectionWindow = DEFAULT_CONNECTION_WINDOW;
        private int maxConcurrentStreams = DEFAULT_MAX_CONCURRENT_STREAMS;
        private int maxHeaderListSize = DEFAULT_MAX_HEADER_LIST_SIZE;
        private int maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
        private Duration idleTimeout = Duration.ZERO;
        private Duration pingTimeout = Duration.ofSeconds(DEFAULT_PING_TIMEOUT_SECONDS);
        private Duration prefaceTimeout = Duration.ofSeconds(DEFAULT_PREFACE_TIMEOUT_SECONDS);
        private Duration serverIdleTimeout = Duration.ofSeconds(DEFAULT_SERVER_IDLE_TIMEOUT_SECONDS);

        public Builder streamWindow(int v) {
            streamWindow = v;
            return this;
        }

        public Builder connectionWindow(int v) {
            connectionWindow = v;
            return this;
        }

        public Builder maxConcurrentStreams(int v) {
            maxConcurrentStreams = v;
            return this;
        }

        public Builder maxHeaderListSize(int v) {
            maxHeaderListSize = v;
            return this;
        }

        public Builder maxFrameSize(int v) {
            maxFrameSize = v;
            return this;
        }

        public Builder idleTimeout(Duration v) {
            idleTimeout = v;
            return this;
        }

        public Builder pingTimeout(Duration v) {
            pingTimeout = v;
            return this;
        }

        public Builder prefaceTimeout(Duration v) {
            prefaceTimeout = v;
            return this;
        }

        public Builder serverIdleTimeout(Duration v) {
            serverIdleTimeout = v;
            return this;
        }

        public H2Settings build() {
            return new H2Settings(streamWindow, connectionWindow, maxConcurrentStreams, maxHeaderListSize,
                    maxFrameSize, idleTimeout, pingTimeout, prefaceTimeout, serverIdleTimeout);
        }
    }
}

package dev.tunnelwire.transport.ws;

import dev.tunnelwire.TransportOptions;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Options of the WebSocket transport ({@code ws}; {@code wss} is the same transport with TLS in the
 * {@link dev.tunnelwire.DialerConfig}/{@link dev.tunnelwire.ListenerConfig}). Wire-compatible with sing-box
 * ({@code v2raywebsocket}), Xray ({@code wsSettings}) and gost ({@code ws}/{@code wss}).
 *
 * <h2>Early data</h2>
 * The peers put the first bytes of a tunnel into the handshake. The "lazy dial" of sing-box and Xray (no connection
 * until the first write) is realised here by the caller: it passes its first bytes to
 * {@link dev.tunnelwire.TunnelDialer#open(io.netty.buffer.ByteBuf, dev.tunnelwire.TunnelInitializer)} (the proxy
 * connectors above the transport wait a short moment for client bytes before they open), and the dialer decides how
 * much of them rides in the handshake. The rest is sent as ordinary binary frames right after the 101, before
 * anything written later. Client side, by {@link #earlyData()}:
 * <ul>
 *   <li>{@link EarlyData#NONE}: no early data; the whole first payload is sent as frames after the 101.</li>
 *   <li>{@link EarlyData#PATH} (sing-box's default dialect): the first {@link #maxEarlyData()} bytes are encoded
 *       base64url without padding and appended directly to {@link #path()} ({@code GET /ws<b64>}); the rest follows
 *       as one frame.</li>
 *   <li>{@link EarlyData#HEADER}: the same split, the encoded head goes in the header {@link #earlyDataHeader()}
 *       (sing-box {@code early_data_header_name}; usually {@code Sec-WebSocket-Protocol}).</li>
 *   <li>{@link EarlyData#XRAY}: Xray's {@code ?ed=N}. A path such as {@code /p?ed=2048} is normalised to {@code /p} with
 *       this mode and {@code maxEarlyData = 2048}. When the first payload is at most N bytes, all of it goes in
 *       {@code Sec-WebSocket-Protocol}; when it is longer, the handshake carries no early data and the whole payload
 *       is a frame.</li>
 * </ul>
 *
 * <h2>Server rules</h2>
 * Early data is decoded from either base64 alphabet ({@code +/} or {@code -_}), padded or not, and delivered to the
 * tunnel before any frame payload. When it came in {@code Sec-WebSocket-Protocol}, the 101 echoes that value (as
 * Xray does; sing-box and gost clients accept the echo). By {@link #earlyData()}:
 * <ul>
 *   <li>{@link EarlyData#NONE} (the default, "auto"): accepts plain clients and both dialects without configuration
 *       wherever that is unambiguous:
 *       <ol>
 *         <li>the request path without its query equals {@link #path()}: the tunnel is accepted (a query is
 *             ignored, as by Xray); a {@link #earlyDataHeader()} value (default {@code Sec-WebSocket-Protocol},
 *             i.e. Xray's dialect and sing-box's header mode) that decodes as base64 to at least one byte is early
 *             data; one that does not decode (a real subprotocol list such as {@code chat, superchat}) is ignored
 *             and not echoed;</li>
 *         <li>otherwise the request path starts with {@link #path()} and the rest is a non-empty string of
 *             base64url characters ({@code A-Z a-z 0-9 - _}, optionally {@code =}-padded) that decodes to at least
 *             one byte: that is sing-box's path dialect, and those bytes are early data;</li>
 *         <li>anything else is a wrong path (404). A remainder containing {@code /}, {@code +} or {@code ?} is
 *             never early data in this mode.</li>
 *       </ol>
 *       With the default path {@code /}, rule 2 takes every one-segment path of base64url characters as early
 *       data; configure a path (every peer config does) to get a 404 for other paths.
 *       A real subprotocol name that happens to be valid base64 (e.g. {@code chat}) is taken as early data, exactly as
 *       Xray does; tunnels have no subprotocols.</li>
 *   <li>{@link EarlyData#PATH}: as a sing-box path-mode server: the raw request URI must start with the path and the
 *       whole remainder (query included) is early data; a remainder that does not decode is a 400.</li>
 *   <li>{@link EarlyData#HEADER}: exact path (query ignored); a non-empty {@link #earlyDataHeader()} value must decode,
 *       else 400.</li>
 *   <li>{@link EarlyData#XRAY}: exact path (query ignored); {@code Sec-WebSocket-Protocol} is early data when it decodes
 *       (Xray's server), ignored otherwise.</li>
 * </ul>
 * The server never enforces {@link #maxEarlyData()} (no peer does); the request head is limited to
 * {@value WsProtocol#MAX_REQUEST_HEAD_BYTES} bytes per line and in total.
 *
 * <h2>Rejections</h2>
 * In this order: a request that cannot be parsed, 400 (431 when too long); host check ({@link #host()} set on a
 * listener) 400; wrong path 404; method other than GET 405; HTTP/1.0 505; missing or wrong {@code Upgrade},
 * {@code Connection} or {@code Sec-WebSocket-Key} 400; missing {@code Sec-WebSocket-Version} 400, another version 426
 * with {@code Sec-WebSocket-Version: 13}; early data that does not decode (PATH and HEADER modes) 400. Every rejection
 * carries {@code Connection: close} and closes the connection after the response. A handshake (TLS included) not
 * completed within {@link #handshakeTimeout()} closes the connection without a response.
 *
 * @param path               request path, must start with {@code /}; default {@value #DEFAULT_PATH}. A query
 *                           containing {@code ed=N} selects {@link EarlyData#XRAY} (see above)
 * @param host               client: the {@code Host} header (default: a {@code Host} entry of {@link #headers()}, else
 *                           the server's {@code host:port} as configured); listener: when set, the request's Host
 *                           (port and case ignored) must equal it, else 400. Default {@code null}
 * @param headers            client: extra request headers, in order (a {@code Sec-WebSocket-Protocol} entry is sent as
 *                           given; a {@code Host} entry becomes the Host line); listener: extra headers of the 101
 *                           (as gost). Default none
 * @param userAgent          client {@code User-Agent}; default {@value #DEFAULT_USER_AGENT} (what sing-box and gost
 *                           send); empty sends none
 * @param earlyData          early-data dialect, default {@link EarlyData#NONE} (see above)
 * @param maxEarlyData       client: bytes of the first payload that ride in the handshake (before base64); must be
 *                           positive for PATH, HEADER and XRAY, zero for NONE. Default 0
 * @param earlyDataHeader    header carrying early data in HEADER mode and in the server's auto mode; default
 *                           {@value #DEFAULT_EARLY_DATA_HEADER}
 * @param textFrames         what a received text message is: {@link TextFrames#DATA} (default, like Xray and gost:
 *                           nothing is lost) or {@link TextFrames#DISCARD} (like sing-box)
 * @param maxFramePayload    largest frame payload in bytes, both ways; default {@value #DEFAULT_MAX_FRAME_PAYLOAD}
 *                           (1 MiB, see {@link #DEFAULT_MAX_FRAME_PAYLOAD} for why). Received: a frame whose header
 *                           declares more is refused at the header, before any of its payload is buffered, with close
 *                           1009 and the connection closed (Netty's decoder buffers every frame whole, so this bounds
 *                           the memory one connection can pin). Sent: a write larger than this leaves as several
 *                           complete binary frames of at most this size (fragments of a {@link #fragmentSize()}
 *                           message too), so two ends with the same setting always accept each other's frames.
 *                           0 means no limit, and only when set explicitly: frames of up to 2^31-1 bytes are then
 *                           accepted and buffered whole, and writes are not split
 * @param fragmentSize       when positive, a write larger than this is sent as a fragmented message of frames of at most
 *                           this many payload bytes (and at most {@code maxFramePayload}); 0 (default) sends one
 *                           frame per write, like sing-box
 * @param handshakeTimeout   limit for the HTTP upgrade (client: from TCP/TLS established to the 101; server: from accept,
 *                           TLS included, to a valid request); default {@value #DEFAULT_HANDSHAKE_TIMEOUT_SECONDS} s
 * @param trustXForwardedFor listener: take the tunnel's remote address from the first element of
 *                           {@code X-Forwarded-For} (an IP literal; port 0, as Xray). Default {@code false}: only turn
 *                           on behind a proxy that sets it
 */
public record WsOptions(String path, String host, Map<String, String> headers, String userAgent, EarlyData earlyData,
                        int maxEarlyData, String earlyDataHeader, TextFrames textFrames, int maxFramePayload,
                        int fragmentSize, Duration handshakeTimeout, boolean trustXForwardedFor)
        implements TransportOptions {

    public static final String SCHEME = "ws";
    /** The TLS alias scheme: the same transport, TLS configured in the dialer/listener config. */
    public static final String TLS_SCHEME = "wss";
    public static final String DEFAULT_PATH = "/";
    public static final String DEFAULT_USER_AGENT = "Go-http-client/1.1";
    public static final String DEFAULT_EARLY_DATA_HEADER = "Sec-WebSocket-Protocol";
    public static final long DEFAULT_HANDSHAKE_TIMEOUT_SECONDS = 15;
    /**
     * Default {@link #maxFramePayload()}: 1 MiB. What the peers really send (peer-*.md, and their sources):
     * <ul>
     *   <li>sing-box writes one frame per write; its copy loop reads into 32 KiB buffers that grow to 65,535 bytes
     *       once 512 kB have passed, so its frames stay at about 64 KiB (peer-singbox.md: not a limit, and more
     *       than Netty's own default of 65,536 can occur);</li>
     *   <li>Xray's server writes one frame per buffer of at most 8 KiB ({@code buf.Size}); its gorilla client
     *       fragments every message into frames of at most 4 KiB (the write buffer);</li>
     *   <li>gost copies with a 32 KiB buffer, one message per read (mws: one smux frame of at most 32 KiB plus its
     *       8-byte header): one frame from its server; its gorilla client fragments at the write buffer (md
     *       {@code writeBufferSize}, 4 KiB unless raised);</li>
     *   <li>our own ends write one frame per write (a socket read of at most 64 KiB, typically), split at this
     *       limit.</li>
     * </ul>
     * No peer limits the frames it reads (gorilla's read limit 0, sing's reader without a maximum), so splitting our
     * writes costs them nothing. 1 MiB is 16 times the largest frame a peer sends by default, enough for a gost
     * client whose {@code writeBufferSize} was raised as far as 1 MiB, and bounds what one connection can make the
     * decoder buffer to about 1 MiB instead of 2 GiB.
     */
    public static final int DEFAULT_MAX_FRAME_PAYLOAD = 1 << 20;

    /** Where the client puts early data, and how the server looks for it (see the class comment). */
    public enum EarlyData {
        /** Client: none. Server: auto-detect both dialects where unambiguous. */
        NONE,
        /** sing-box path mode: base64url appended to the path. */
        PATH,
        /** Base64url in {@link WsOptions#earlyDataHeader()}. */
        HEADER,
        /** Xray {@code ?ed=N}: all-or-nothing in {@code Sec-WebSocket-Protocol}. */
        XRAY
    }

    /** What a received text message becomes. */
    public enum TextFrames {
        /** Its payload is tunnel data (Xray, gost). */
        DATA,
        /** It is dropped whole, fragments included (sing-box). */
        DISCARD
    }

    public WsOptions {
        path = path == null || path.isEmpty() ? DEFAULT_PATH : path;
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("ws path must start with '/': " + path);
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("ws path must be printable ASCII without spaces: " + path);
            }
        }
        earlyData = Objects.requireNonNullElse(earlyData, EarlyData.NONE);
        int q = path.indexOf('?');
        if (q >= 0) {
            String[] parts = splitEd(path.substring(q + 1));
            if (parts != null) {
                if (earlyData != EarlyData.NONE && earlyData != EarlyData.XRAY) {
                    throw new IllegalArgumentException("a path with ?ed= selects the XRAY early-data mode, but "
                            + earlyData + " was configured");
                }
                int ed;
                try {
                    ed = Integer.parseInt(parts[0]);
                } catch (NumberFormatException e) {
                    ed = 0; // Xray: a bad number is 0
                }
                String rest = parts[1];
                path = path.substring(0, q) + (rest.isEmpty() ? "" : "?" + rest);
                if (ed > 0) {
                    earlyData = EarlyData.XRAY;
                    maxEarlyData = ed;
                } else if (earlyData == EarlyData.XRAY && maxEarlyData <= 0) {
                    earlyData = EarlyData.NONE;
                }
            }
        }
        if (earlyData == EarlyData.NONE) {
            if (maxEarlyData != 0) {
                throw new IllegalArgumentException("maxEarlyData needs an early-data mode (PATH, HEADER or XRAY)");
            }
        } else if (maxEarlyData <= 0) {
            throw new IllegalArgumentException("early-data mode " + earlyData + " needs a positive maxEarlyData");
        }
        if (earlyData == EarlyData.PATH && path.indexOf('?') >= 0) {
            throw new IllegalArgumentException("PATH early data cannot be appended to a path with a query: " + path);
        }
        host = host == null || host.isEmpty() ? null : host;
        Map<String, String> h = new LinkedHashMap<>();
        if (headers != null) {
            headers.forEach((k, v) -> {
                if (k == null || k.isEmpty() || v == null) {
                    throw new IllegalArgumentException("ws header names and values must be non-null: " + k);
                }
                h.put(k, v);
            });
        }
        headers = Collections.unmodifiableMap(h);
        userAgent = userAgent == null ? DEFAULT_USER_AGENT : userAgent;
        earlyDataHeader = earlyDataHeader == null || earlyDataHeader.isEmpty() ? DEFAULT_EARLY_DATA_HEADER
                : earlyDataHeader;
        textFrames = Objects.requireNonNullElse(textFrames, TextFrames.DATA);
        if (maxFramePayload < 0) {
            throw new IllegalArgumentException("maxFramePayload must not be negative");
        }
        if (fragmentSize < 0) {
            throw new IllegalArgumentException("fragmentSize must not be negative");
        }
        handshakeTimeout = Objects.requireNonNullElse(handshakeTimeout,
                Duration.ofSeconds(DEFAULT_HANDSHAKE_TIMEOUT_SECONDS));
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshakeTimeout must be positive");
        }
    }

    /** Splits {@code ed=N} out of a query: {value of ed, the query without it}, or {@code null} without ed. */
    private static String[] splitEd(String query) {
        String ed = null;
        StringBuilder rest = new StringBuilder();
        for (String kv : query.split("&", -1)) {
            if (ed == null && (kv.equals("ed") || kv.startsWith("ed="))) {
                ed = kv.length() > 3 ? kv.substring(3) : "";
                continue;
            }
            if (!kv.isEmpty()) {
                if (rest.length() > 0) {
                    rest.append('&');
                }
                rest.append(kv);
            }
        }
        return ed == null ? null : new String[] {ed, rest.toString()};
    }

    /**
     * Every default: path {@code /}, no early data, text frames as data, frames of at most
     * {@value #DEFAULT_MAX_FRAME_PAYLOAD} bytes, one frame per write.
     */
    public static WsOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().path(path).host(host).headers(headers).userAgent(userAgent)
                .earlyData(earlyData, maxEarlyData).earlyDataHeader(earlyDataHeader).textFrames(textFrames)
                .maxFramePayload(maxFramePayload).fragmentSize(fragmentSize).handshakeTimeout(handshakeTimeout)
                .trustXForwardedFor(trustXForwardedFor);
    }

    /** The {@code Host} a client sends: the host option, a {@code Host} header entry, else {@code defaultAuthority}. */
    String requestHost(String defaultAuthority) {
        if (host != null) {
            return host;
        }
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey().toLowerCase(Locale.ROOT).equals("host")) {
                return e.getValue();
            }
        }
        return defaultAuthority;
    }

    @Override
    public String transport() {
        return SCHEME;
    }

    public static final class Builder {
        private String path;
        private String host;
        private Map<String, String> headers = new LinkedHashMap<>();
        private String userAgent;
        private EarlyData earlyData;
        private int maxEarlyData;
        private String earlyDataHeader;
        private TextFrames textFrames;
        private int maxFramePayload = DEFAULT_MAX_FRAME_PAYLOAD;
        private int fragmentSize;
        private Duration handshakeTimeout;
        private boolean trustXForwardedFor;

        public Builder path(String v) {
            path = v;
            return this;
        }

        public Builder host(String v) {
            host = v;
            return this;
        }

        /** Replaces the extra headers (insertion order is kept). */
        public Builder headers(Map<String, String> v) {
            headers = new LinkedHashMap<>(v == null ? Map.of() : v);
            return this;
        }

        public Builder header(String name, String value) {
            headers.put(name, value);
            return this;
        }

        public Builder userAgent(String v) {
            userAgent = v;
            return this;
        }

        /** The early-data dialect and the client's early-data budget in bytes. */
        public Builder earlyData(EarlyData mode, int maxBytes) {
            earlyData = mode;
            maxEarlyData = maxBytes;
            return this;
        }

        public Builder earlyDataHeader(String v) {
            earlyDataHeader = v;
            return this;
        }

        public Builder textFrames(TextFrames v) {
            textFrames = v;
            return this;
        }

        /** See {@link WsOptions#maxFramePayload()}; 0 explicitly means no limit. */
        public Builder maxFramePayload(int v) {
            maxFramePayload = v;
            return this;
        }

        public Builder fragmentSize(int v) {
            fragmentSize = v;
            return this;
        }

        public Builder handshakeTimeout(Duration v) {
            handshakeTimeout = v;
            return this;
        }

        public Builder trustXForwardedFor(boolean v) {
            trustXForwardedFor = v;
            return this;
        }

        public WsOptions build() {
            return new WsOptions(path, host, headers, userAgent, earlyData, maxEarlyData, earlyDataHeader, textFrames,
                    maxFramePayload, fragmentSize, handshakeTimeout, trustXForwardedFor);
        }
    }
}

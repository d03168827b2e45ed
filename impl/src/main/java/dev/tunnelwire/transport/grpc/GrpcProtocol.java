package dev.tunnelwire.transport.grpc;

import io.netty.util.AsciiString;

import java.nio.charset.StandardCharsets;

/**
 * Wire constants and path rules of the gRPC tunnels.
 *
 * <p>A gun message (Xray/sing-box {@code Hunk}/{@code MultiHunk}, GOST {@code Chunk}) is a gRPC length-prefixed
 * message whose protobuf body is field 1 ({@code bytes data}), once for Hunk/Chunk and repeated for MultiHunk:
 * <pre>
 * +------+-------------------+------+-----------------+-------------+
 * | 0x00 | length (u32, BE)  | 0x0A | varint len(data)| data ...    |  (0x0A len data) repeated in MultiHunk
 * +------+-------------------+------+-----------------+-------------+
 *  flag    = protobuf size     field 1, wire type 2 (LEN)
 * </pre>
 * Sources: Xray {@code transport/internet/grpc/encoding/stream.proto}, sing-box {@code transport/v2raygrpclite},
 * go-gost/x {@code internal/util/grpc/proto/gost.proto}; see the project's peer specs (Xray §4, sing-box §5,
 * GOST §7).
 */
final class GrpcProtocol {

    /** gRPC's {@code content-type}; a request's must start with it (followed by nothing, {@code +} or {@code ;}). */
    static final AsciiString CONTENT_TYPE_GRPC = AsciiString.cached("application/grpc");
    static final AsciiString CONTENT_TYPE = AsciiString.cached("content-type");
    static final AsciiString TE = AsciiString.cached("te");
    static final AsciiString TRAILERS = AsciiString.cached("trailers");
    static final AsciiString USER_AGENT = AsciiString.cached("user-agent");
    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    static final AsciiString POST = AsciiString.cached("POST");

    /** The 5-byte prefix of every gRPC message: compressed flag and big-endian length. */
    static final int PREFIX_LENGTH = 5;
    /** Protobuf tag of field 1 with wire type 2 (length-delimited): {@code (1 << 3) | 2}. */
    static final int DATA_TAG = 0x0A;
    /** grpc-go's default maximum received message size (4 MiB); a bigger message is refused by every peer. */
    static final int GRPC_DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024;

    /** gRPC status codes used here (grpc/grpc doc/statuscodes.md). */
    static final int STATUS_OK = 0;
    static final int STATUS_INVALID_ARGUMENT = 3;
    static final int STATUS_UNIMPLEMENTED = 12;
    static final int STATUS_INTERNAL = 13;

    /** Xray/sing-box method names. */
    static final String TUN = "Tun";
    static final String TUN_MULTI = "TunMulti";
    /** GOST's service (sic, one "n") and method. */
    static final String GOST_SERVICE = "GostTunel";
    static final String GOST_METHOD = "Tunnel";
    static final String GOST_DEFAULT_PATH = "/" + GOST_SERVICE + "/" + GOST_METHOD;

    /** What the body of a message on a path may hold. */
    enum MessageKind {
        /** Hunk or Chunk: at most one {@code data} entry. */
        HUNK,
        /** MultiHunk: any number of {@code data} entries. */
        MULTI_HUNK
    }

    private GrpcProtocol() {
    }

    /** The path of an Xray/sing-box gun client: {@code /<service>/Tun} or {@code /<service>/TunMulti}. */
    static String gunClientPath(String serviceName, boolean multi, boolean customPathSyntax) {
        if (customPathSyntax && serviceName.startsWith("/")) {
            // Xray's custom path: the client uses the last segment as the method whatever the mode.
            String[] names = lastSegment(serviceName).split("\\|", -1);
            return "/" + customService(serviceName) + "/" + goPathEscape(names[0]);
        }
        return "/" + goPathEscape(serviceName) + "/" + (multi ? TUN_MULTI : TUN);
    }

    /**
     * The paths an Xray gun server serves: {@code [tunPath, multiPath]}. With the custom syntax
     * {@code /a/b/tun|multi} the two names are given; without {@code |} both are the same path.
     */
    static String[] gunServerPaths(String serviceName, boolean customPathSyntax) {
        if (customPathSyntax && serviceName.startsWith("/")) {
            String service = "/" + customService(serviceName) + "/";
            String[] names = lastSegment(serviceName).split("\\|", -1);
            String tun = service + goPathEscape(names[0]);
            String multi = service + goPathEscape(names.length == 1 ? names[0] : names[1]);
            return new String[] {tun, multi};
        }
        String service = "/" + goPathEscape(serviceName) + "/";
        return new String[] {service + TUN, service + TUN_MULTI};
    }

    /**
     * GOST's path from its {@code path} option: leading and trailing {@code /} trimmed; empty gives
     * {@code /GostTunel/Tunnel}; one segment {@code s} gives {@code /s/Tunnel}; more segments give
     * {@code /<first>/<rest with every "/" replaced by "-">}.
     */
    static String gostPath(String path) {
        String p = path == null ? "" : path;
        int start = 0;
        int end = p.length();
        while (start < end && p.charAt(start) == '/') {
            start++;
        }
        while (end > start && p.charAt(end - 1) == '/') {
            end--;
        }
        p = p.substring(start, end);
        if (p.isEmpty()) {
            return GOST_DEFAULT_PATH;
        }
        int slash = p.indexOf('/');
        if (slash < 0) {
            return "/" + p + "/" + GOST_METHOD;
        }
        return "/" + p.substring(0, slash) + "/" + p.substring(slash + 1).replace('/', '-');
    }

    private static String lastSegment(String serviceName) {
        return serviceName.substring(serviceName.lastIndexOf('/') + 1);
    }

    /** Xray {@code getServiceName} for a custom path: the part between the first and last {@code /}, escaped. */
    private static String customService(String serviceName) {
        int last = Math.max(1, serviceName.lastIndexOf('/'));
        String raw = serviceName.substring(1, last);
        String[] parts = raw.split("/", -1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                sb.append('/');
            }
            sb.append(goPathEscape(parts[i]));
        }
        return sb.toString();
    }

    /**
     * Go's {@code url.PathEscape}: keeps {@code A-Z a-z 0-9 - _ . ~ $ & + : = @}, percent-encodes every other
     * UTF-8 byte with upper-case hex (so {@code /} becomes {@code %2F}, {@code ;} {@code %3B} and {@code !}
     * {@code %21}).
     */
    static String goPathEscape(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length + 8);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "-_.~$&+:=@".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.toString();
    }

    /** Percent-decodes a path (bytes as UTF-8); a malformed escape is kept literally. */
    static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        byte[] out = new byte[s.length()];
        int n = 0;
        byte[] in = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < in.length; i++) {
            if (in[i] == '%' && i + 2 < in.length && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                out[n++] = (byte) (hex(in[i + 1]) << 4 | hex(in[i + 2]));
                i += 2;
            } else {
                if (n == out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2);
                }
                out[n++] = in[i];
            }
        }
        return new String(out, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * gRPC's {@code grpc-message} encoding: bytes outside {@code 0x20..0x7E}, and {@code %}, are percent-encoded
     * (PROTOCOL-HTTP2.md "Percent-Encoded").
     */
    static String encodeGrpcMessage(String message) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xFF;
            if (c >= 0x20 && c <= 0x7E && c != '%') {
                sb.append((char) c);
            } else {
                sb.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            }
        }
        return sb.toString();
    }

    /** Whether a request's content-type is gRPC: {@code application/grpc} alone or followed by {@code +} or {@code ;}. */
    static boolean isGrpcContentType(CharSequence contentType) {
        if (contentType == null) {
            return false;
        }
        String ct = contentType.toString().toLowerCase(java.util.Locale.ROOT);
        if (!ct.startsWith("application/grpc")) {
            return false;
        }
        return ct.length() == 16 || ct.charAt(16) == '+' || ct.charAt(16) == ';';
    }

    private static int hex(byte b) {
        return Character.digit((char) b, 16);
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
}
